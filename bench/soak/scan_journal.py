#!/usr/bin/env python3
"""Independent reader of the stand-in's journal framing (mock-server/src/journal.rs).

    scan_journal.py DATA_DIR

Each segment `journal-NNNNNN.log` is the 8-byte magic `EIOAJNL2` (or `EIOAJNL1`,
written before segments had footers), then frames
`len: u32 LE | crc32(payload): u32 LE | payload (JSON)`. A record's payload starts
`{"seq":N,`; a sealed segment's last frame is its footer,
`{"segment_end":{"records":N,"first_seq":A,"last_seq":B}}`. Prints one line per run:
segments, records, bytes, whether every segment is consumed exactly by valid frames
(`torn_bytes`: bytes after the last valid frame of each segment, summed), whether
every `EIOAJNL2` segment but the newest ends in a footer that matches it, and whether
the sequence numbers run 1, 2, 3, ... without gap or repeat. Exit 0 when clean, 1
when anything is torn, unsealed or out of order. Reads only; standard library only.
"""
import json
import os
import re
import struct
import sys
import zlib

MAGICS = (b"EIOAJNL2", b"EIOAJNL1")
MAX_RECORD = 256 * 1024 * 1024
SEQ = re.compile(rb'^\{"seq":(\d+),')
FOOTER = b'{"segment_end"'


def main() -> int:
    d = sys.argv[1]
    names = sorted(n for n in os.listdir(d) if re.fullmatch(r"journal-\d{6}\.log", n))
    records = 0
    size = 0
    torn = 0
    notes = []
    seqs_ok = True
    footers_ok = True
    expect = None
    for i, name in enumerate(names):
        sealed = i + 1 < len(names)
        data = open(os.path.join(d, name), "rb").read()
        size += len(data)
        if data[:8] not in MAGICS:
            notes.append(f"{name}: bad magic")
            torn += len(data)
            continue
        pos = 8
        seg_seqs = []
        footer = None
        while pos + 8 <= len(data) and footer is None:
            n, crc = struct.unpack_from("<II", data, pos)
            if n > MAX_RECORD or pos + 8 + n > len(data):
                break
            payload = data[pos + 8 : pos + 8 + n]
            if zlib.crc32(payload) != crc:
                notes.append(f"{name}: checksum mismatch at byte {pos}")
                break
            pos += 8 + n
            if payload.startswith(FOOTER):
                footer = json.loads(payload)["segment_end"]
                continue
            m = SEQ.match(payload)
            seq = int(m.group(1)) if m else None
            if seq is None or (expect is not None and seq != expect):
                if seqs_ok:
                    notes.append(f"{name}: sequence {seq} where {expect} was expected")
                seqs_ok = False
            expect = (seq or 0) + 1
            records += 1
            seg_seqs.append(seq)
        if pos != len(data):
            torn += len(data) - pos
            notes.append(f"{name}: {len(data) - pos} bytes after the last complete frame")
        if sealed and data[:8] == MAGICS[0]:
            found = {
                "records": len(seg_seqs),
                "first_seq": seg_seqs[0] if seg_seqs else None,
                "last_seq": seg_seqs[-1] if seg_seqs else None,
            }
            if footer is None:
                notes.append(f"{name}: sealed segment without a footer")
                footers_ok = False
            elif footer != found:
                notes.append(f"{name}: footer {footer} but the segment holds {found}")
                footers_ok = False
    clean = torn == 0 and seqs_ok and footers_ok
    print(
        f"journal scan: segments={len(names)} records={records} bytes={size} "
        f"torn_bytes={torn} seq_contiguous={'yes' if seqs_ok else 'no'} "
        f"footers={'yes' if footers_ok else 'no'} "
        f"last_seq={(expect or 1) - 1} {'CLEAN' if clean else 'DAMAGED'}"
    )
    for note in notes:
        print(f"  {note}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Independent reader of the stand-in's journal framing (mock-server/src/journal.rs).

    scan_journal.py DATA_DIR

Each segment `journal-NNNNNN.log` is the 8-byte magic `EIOAJNL1`, then frames
`len: u32 LE | crc32(payload): u32 LE | payload (JSON)`. Prints one line per run:
segments, records, bytes, whether every segment is consumed exactly by valid frames
(`torn_bytes`: bytes after the last valid frame of each segment, summed), and whether
the sequence numbers run 1, 2, 3, ... without gap or repeat. Exit 0 when clean, 1 when
anything is torn or out of order. Reads only; standard library only.
"""
import os
import re
import struct
import sys
import zlib

MAGIC = b"EIOAJNL1"
MAX_RECORD = 256 * 1024 * 1024
SEQ = re.compile(rb'^\{"seq":(\d+),')


def main() -> int:
    d = sys.argv[1]
    names = sorted(n for n in os.listdir(d) if re.fullmatch(r"journal-\d{6}\.log", n))
    records = 0
    size = 0
    torn = 0
    notes = []
    seqs_ok = True
    expect = None
    for name in names:
        data = open(os.path.join(d, name), "rb").read()
        size += len(data)
        if data[:8] != MAGIC:
            notes.append(f"{name}: bad magic")
            torn += len(data)
            continue
        pos = 8
        while pos + 8 <= len(data):
            n, crc = struct.unpack_from("<II", data, pos)
            if n > MAX_RECORD or pos + 8 + n > len(data):
                break
            payload = data[pos + 8 : pos + 8 + n]
            if zlib.crc32(payload) != crc:
                notes.append(f"{name}: checksum mismatch at byte {pos}")
                break
            m = SEQ.match(payload)
            seq = int(m.group(1)) if m else None
            if seq is None or (expect is not None and seq != expect):
                if seqs_ok:
                    notes.append(f"{name}: sequence {seq} where {expect} was expected")
                seqs_ok = False
            expect = (seq or 0) + 1
            records += 1
            pos += 8 + n
        if pos != len(data):
            torn += len(data) - pos
            notes.append(f"{name}: {len(data) - pos} bytes after the last complete record")
    clean = torn == 0 and seqs_ok
    print(
        f"journal scan: segments={len(names)} records={records} bytes={size} "
        f"torn_bytes={torn} seq_contiguous={'yes' if seqs_ok else 'no'} "
        f"last_seq={(expect or 1) - 1} {'CLEAN' if clean else 'DAMAGED'}"
    )
    for note in notes:
        print(f"  {note}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())

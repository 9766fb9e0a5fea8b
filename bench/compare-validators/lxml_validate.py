#!/usr/bin/env python3
"""Validates files against one XSD with lxml: the schema is compiled once, then each
file's bytes are read, parsed and validated in a loop.

Usage: lxml_validate.py SCHEMA.xsd FILE...

Prints one line `lxml-loop <docs> <seconds>` (the loop alone, without interpreter start
and schema compilation) and exits 1 if any file is invalid.
"""
import sys
import time

from lxml import etree


def main() -> int:
    xsd, files = sys.argv[1], sys.argv[2:]
    schema = etree.XMLSchema(etree.parse(xsd))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    invalid = 0
    start = time.perf_counter()
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        doc = etree.fromstring(data, parser)
        if not schema.validate(doc):
            invalid += 1
    elapsed = time.perf_counter() - start
    print(f"lxml-loop {len(files)} {elapsed:.6f}")
    if invalid:
        print(f"{invalid} of {len(files)} files are invalid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

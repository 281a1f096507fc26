#!/usr/bin/env python3
"""Writes fuzzing seeds from the test captures (classic pcap files only):
seeds/decode/: single frames, prefixed by the harness's link-type selector
byte and a snap byte; seeds/pipeline/: runs of up to 4 KiB of consecutive IP
packets, each prefixed by its 2-byte length, as fuzz_pipeline reads them.
    tests/fuzz/make-seeds.py          (from the top of the tree)
"""
import glob
import os
import struct

# fuzz_decode's table: index of each DLT we meet in tests/data.
DECODE_INDEX = {1: 0, 113: 1, 276: 2, 12: 3, 101: 3, 228: 5, 229: 6, 0: 7, 108: 8}
LINK_HEADER = {1: 14, 113: 16, 276: 20, 101: 0, 12: 0, 0: 4, 108: 4}


def frames(path):
    data = open(path, "rb").read()
    if data[:4] == b"\xd4\xc3\xb2\xa1":
        order = "<"
    elif data[:4] == b"\xa1\xb2\xc3\xd4":
        order = ">"
    else:
        return None, []
    linktype = struct.unpack(order + "I", data[20:24])[0]
    out, offset = [], 24
    while offset + 16 <= len(data):
        incl = struct.unpack(order + "I", data[offset + 8:offset + 12])[0]
        out.append(data[offset + 16:offset + 16 + incl])
        offset += 16 + incl
    return linktype, out


def main():
    for sub in ("decode", "pipeline"):
        os.makedirs(f"tests/fuzz/seeds/{sub}", exist_ok=True)
    for path in sorted(glob.glob("tests/data/*.pcap")):
        name = os.path.basename(path).rsplit(".", 1)[0]
        linktype, packets = frames(path)
        if linktype not in DECODE_INDEX:
            continue
        for i, frame in enumerate(packets[:12]):
            with open(f"tests/fuzz/seeds/decode/{name}-{i}", "wb") as f:
                f.write(bytes([DECODE_INDEX[linktype], 0]) + frame[:1500])
        skip = LINK_HEADER[linktype]
        run, n = b"", 0
        for frame in packets:
            ip = frame[skip:]
            if not ip or ip[0] >> 4 not in (4, 6):
                continue
            ip = ip[:1500]
            if len(run) + 2 + len(ip) > 4096:
                with open(f"tests/fuzz/seeds/pipeline/{name}-{n}", "wb") as f:
                    f.write(run)
                run, n = b"", n + 1
                if n == 4:
                    break
            run += struct.pack(">H", len(ip)) + ip
        if run and n < 4:
            with open(f"tests/fuzz/seeds/pipeline/{name}-{n}", "wb") as f:
                f.write(run)


if __name__ == "__main__":
    main()

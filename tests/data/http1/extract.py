#!/usr/bin/env python3
"""Writes this directory's files from ../browser-accept-http.pcap with tshark:
the TCP payload of each plain-HTTP stream, one file per direction, and what
tshark's own HTTP dissector reports for those streams (the truth that
tests/unit/test_http1.c compares the parser with). Run from the repository's
root: tests/data/http1/extract.py"""
import json
import os
import subprocess

PCAP = "tests/data/browser-accept-http.pcap"
OUT = "tests/data/http1"


def tshark(*args):
    return subprocess.run(["tshark", "-r", PCAP, *args], check=True, capture_output=True,
                          text=True).stdout


def follow(stream):
    """Client-to-server and server-to-client bytes of one TCP stream."""
    c2s, s2c = bytearray(), bytearray()
    lines = tshark("-q", "-z", "follow,tcp,raw,%d" % stream).splitlines()
    for line in lines:
        if not line or line.startswith(("=", "Follow:", "Filter:", "Node ")):
            continue
        if line.startswith("\t"):
            s2c += bytes.fromhex(line.strip())
        else:
            c2s += bytes.fromhex(line.strip())
    return bytes(c2s), bytes(s2c)


def main():
    fields = ["-T", "json", "-e", "tcp.stream"]
    requests = json.loads(tshark("-Y", "http.request", *fields, "-e", "http.request.method",
                                 "-e", "http.host", "-e", "http.request.uri", "-e", "http.cookie"))
    responses = json.loads(tshark("-Y", "http.response", *fields, "-e", "http.response.code",
                                  "-e", "http.set_cookie"))
    rows = []
    streams = set()
    for r in requests:
        f = r["_source"]["layers"]
        stream = int(f["tcp.stream"][0])
        streams.add(stream)
        rows.append("req\t%d\t%s\t%s\t%s\t%d" % (stream, f["http.request.method"][0],
                                                 f["http.host"][0], f["http.request.uri"][0],
                                                 len(f.get("http.cookie", []))))
    for r in responses:
        f = r["_source"]["layers"]
        stream = int(f["tcp.stream"][0])
        streams.add(stream)
        rows.append("resp\t%d\t%s\t%d" % (stream, f["http.response.code"][0],
                                          len(f.get("http.set_cookie", []))))
    with open(os.path.join(OUT, "browser-accept-http.tshark.tsv"), "w") as out:
        out.write("\n".join(rows) + "\n")
    for stream in sorted(streams):
        c2s, s2c = follow(stream)
        for name, data in (("c2s", c2s), ("s2c", s2c)):
            with open(os.path.join(OUT, "browser-accept-http.%d.%s" % (stream, name)), "wb") as out:
                out.write(data)


if __name__ == "__main__":
    main()

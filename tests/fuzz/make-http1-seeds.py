#!/usr/bin/env python3
"""Writes fuzz_http1 seeds: one direction of real HTTP connections, as
reassembled from TCP by tshark (`tshark -q -z follow,tcp,raw,STREAM`), from
tests/data/jsonrpc.pcap, tests/data/KakaoTalk_chat.pcap and (already
extracted, see tests/data/http1/extract.py) tests/data/browser-accept-http.pcap;
then streams made by hand: chunked bodies, pipelining, HEAD, gaps' favourite
places. Each is prefixed by the harness's 4-byte plan (see
tests/fuzz/fuzz_http1.c): PLAN_PIECES (pieces of up to 4 KiB, no gaps) or,
for a few, PLAN_GAPS (pieces of up to 32 bytes, some of them gaps).
    tests/fuzz/make-http1-seeds.py          (from the top of the tree)
"""
import glob
import os
import struct
import subprocess

OUT = "tests/fuzz/seeds/http1"
PLAN_PIECES = 0x0000000C
PLAN_GAPS = 0x80001235
CAPTURES = [("jsonrpc.pcap", 1), ("KakaoTalk_chat.pcap", 5), ("KakaoTalk_chat.pcap", 12)]

MADE = {
    "chunked-ext-trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\n\r\n"
    b"5;ext=1\r\nhello\r\n0000A \r\n0123456789\r\n1a\nabcdefghijklmnopqrstuvwxyz\n"
    b"0;last\r\nTrailer: x\r\nServer-Timing: y\n\r\n"
    b"HTTP/1.1 204 No Content\r\nSet-Cookie: b=2\r\n\r\n",
    "pipelined-requests": b"GET /a HTTP/1.1\r\nHost: a.example\r\nCookie: x=1\r\nCookie: y=2\r\n\r\n"
    b"POST /b HTTP/1.1\r\nHost: b.example\r\nContent-Length: 5\r\n\r\nhello"
    b"HEAD /c HTTP/1.1\r\nHost: c.example\r\n\r\n"
    b"POST /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    b"GET /e HTTP/1.0\nHost: e.example\nUser-Agent: old\n\tfolded\n\n",
    "responses-mixed": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nSet-Cookie: id=1; Path=/\r\n\r\nabc"
    b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>to the end</html>",
    "connect": b"CONNECT tracker.example:443 HTTP/1.1\r\nHost: tracker.example:443\r\n\r\n\x16\x03\x01\x02\x00",
    "upgrade-101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
    "bad-length": b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
}


def follow(capture, stream):
    text = subprocess.run(["tshark", "-r", os.path.join("tests/data", capture), "-q", "-z",
                           "follow,tcp,raw,%d" % stream], check=True, capture_output=True,
                          text=True).stdout
    c2s, s2c = bytearray(), bytearray()
    for line in text.splitlines():
        if not line or line.startswith(("=", "Follow:", "Filter:", "Node ")):
            continue
        (s2c if line.startswith("\t") else c2s).extend(bytes.fromhex(line.strip()))
    return bytes(c2s), bytes(s2c)


def write(name, data, plan=PLAN_PIECES):
    with open(os.path.join(OUT, name), "wb") as out:
        out.write(struct.pack(">I", plan) + data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for capture, stream in CAPTURES:
        c2s, s2c = follow(capture, stream)
        base = "%s-%d" % (capture.split(".")[0], stream)
        write(base + "-c2s", c2s)
        write(base + "-s2c", s2c)
    for path in sorted(glob.glob("tests/data/http1/browser-accept-http.*.c2s") +
                       glob.glob("tests/data/http1/browser-accept-http.*.s2c")):
        data = open(path, "rb").read()
        write(os.path.basename(path).replace(".", "-"), data)
    write("browser-accept-http-1-s2c-gaps",
          open("tests/data/http1/browser-accept-http.1.s2c", "rb").read(), PLAN_GAPS)
    for name, data in MADE.items():
        write("made-" + name, data)
        write("made-" + name + "-gaps", data, PLAN_GAPS)


if __name__ == "__main__":
    main()

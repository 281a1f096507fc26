#!/usr/bin/env python3
"""Writes tests/data/regress-http-resync.pcap: HTTP/1 streams that must be
read again at a later message after a fault (as tshark reads them).

  flow 1 (client port 40001): the capture begins mid-response: the server's
         first bytes are the tail of a body; then the client's next request
         and the server's response to it (with a Set-Cookie).
  flow 3 (client port 40003): the capture begins mid-request: the client's
         first bytes are the tail of a POST body; its next request is read.
  flow 2 (client port 40002): a handshake, one request, then a segment lost
         in the middle of the second request's header block; 70 more
         requests follow, one segment each. The 64 that wait behind the hole
         fill the stream's bound, the hole becomes a gap, and reading starts
         again at the next request line.

usage: make-regress-http-resync.py OUT.pcap
"""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6,
                     0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
    return eth + ip + tcp + payload


def main():
    client, server = [10, 0, 0, 1], [10, 0, 0, 2]
    ACK, PSH, SYN = 0x10, 0x08, 0x02
    frames = []
    # Flow 1: mid-response start.
    c, s = 7000, 9000
    tail = b"x" * 300 + b"</html>\n"
    frames.append(frame(server, client, 80, 40001, s, c, ACK | PSH, tail))
    s += len(tail)
    req = b"GET /after-midstream HTTP/1.1\r\nHost: resync.example\r\n\r\n"
    frames.append(frame(client, server, 40001, 80, c, s, ACK | PSH, req))
    c += len(req)
    resp = (b"HTTP/1.1 200 OK\r\nSet-Cookie: resynced=1; Path=/\r\n"
            b"Content-Length: 2\r\n\r\nok")
    frames.append(frame(server, client, 80, 40001, s, c, ACK | PSH, resp))
    s += len(resp)
    # Flow 3: mid-request start, on the client's side.
    c, s = 3000, 4000
    body = b"k=" + b"v" * 200
    frames.append(frame(client, server, 40003, 80, c, s, ACK | PSH, body))
    c += len(body)
    req = b"GET /after-client-midstream HTTP/1.1\r\nHost: resync.example\r\n\r\n"
    frames.append(frame(client, server, 40003, 80, c, s, ACK | PSH, req))
    c += len(req)
    resp = b"HTTP/1.1 204 No Content\r\nSet-Cookie: client=1\r\n\r\n"
    frames.append(frame(server, client, 80, 40003, s, c, ACK | PSH, resp))
    s += len(resp)
    # Flow 2: a lost segment inside a header block.
    c, s = 1000, 5000
    frames.append(frame(client, server, 40002, 80, c, 0, SYN))
    frames.append(frame(server, client, 80, 40002, s, c + 1, SYN | ACK))
    c += 1
    s += 1
    frames.append(frame(client, server, 40002, 80, c, s, ACK))

    def request(n):
        return f"GET /{n} HTTP/1.1\r\nHost: resync.example\r\n\r\n".encode()

    first = request(1)
    frames.append(frame(client, server, 40002, 80, c, s, ACK | PSH, first))
    c += len(first)
    lost = b"GET /lost HTTP/1.1\r\nHost: resync.example\r\nX-Lost: "
    rest = b"yes\r\n\r\n"
    c += len(lost)  # never captured
    frames.append(frame(client, server, 40002, 80, c, s, ACK | PSH, rest))
    c += len(rest)
    for n in range(3, 73):
        r = request(n)
        frames.append(frame(client, server, 40002, 80, c, s, ACK | PSH, r))
        c += len(r)
    with open(sys.argv[1], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            out.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(f), len(f)))
            out.write(f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Captures for tests/integration/store.sh. Standard library only.

  make-store-captures.py hostile OUT.pcap
      DNS queries and plain HTTP requests whose names are hostile: quotes,
      control characters, invalid UTF-8, a 1000-character Host label, a
      spreadsheet formula; the names used are written to OUT.pcap.names
      (one per line, as Python bytes literals).
  make-store-captures.py repeat IN.pcap COPIES OUT.pcap
      IN.pcap COPIES times in a row, each copy 100 s later than the one
      before and with its client ports moved, so that every copy makes new
      flows: a large capture with known content for the durability test.
"""
import struct
import sys


def pcap_header(linktype=1):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def record(ts, frame):
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


def ipv4(src, dst, proto, payload):
    total = 20 + len(payload)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ether(payload, src_mac=b"\x02\x00\x00\x00\x00\x01", dst_mac=b"\x02\x00\x00\x00\x00\xfe"):
    return dst_mac + src_mac + b"\x08\x00" + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


CLIENT = [10, 0, 0, 2]
DNS = [10, 0, 0, 1]
SERVER = [192, 0, 2, 80]


def dns_query(qid, labels):
    q = b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def http_flow(out, ts, sport, host, referer=None):
    syn, ack = 0x02, 0x10
    c_isn, s_isn = 1000, 5000
    out.append(record(ts, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn, 0, syn)))))
    out.append(record(ts + 0.001, ether(ipv4(SERVER, CLIENT, 6, tcp(80, sport, s_isn, c_isn + 1, syn | ack)),
                                        src_mac=b"\x02\x00\x00\x00\x00\xfe", dst_mac=b"\x02\x00\x00\x00\x00\x01")))
    out.append(record(ts + 0.002, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn + 1, s_isn + 1, ack)))))
    req = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n"
    if referer:
        req += b"Referer: " + referer + b"\r\n"
    req += b"\r\n"
    out.append(record(ts + 0.003, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn + 1, s_isn + 1, ack | 0x08, req)))))


def hostile(path):
    names = [
        [b'quote"', b"example"],
        [b"ctl\n\r\x1b[31m", b"example"],
        [b"bad\xff\xfe\xc3(", b"example"],
        [b"=cmd|' /C calc'!A0", b"example"],
        [b"comma,semi;tab\t", b"example"],
    ]
    out = [pcap_header()]
    ts = 1700000000.0
    for i, labels in enumerate(names):
        frame = ether(ipv4(CLIENT, DNS, 17, udp(40000 + i, 53, dns_query(0x1000 + i, labels))))
        out.append(record(ts + i * 3, frame))
    long_host = b"a" * 1000 + b".example"
    http_flow(out, ts + 20, 50000, long_host)
    http_flow(out, ts + 30, 50001, b'x"\x07\xff.example', referer=b"http://ref\x1b\xfe.example/p")
    with open(path, "wb") as f:
        f.write(b"".join(out))
    with open(path + ".names", "w") as f:
        for labels in names:
            f.write(repr(b".".join(labels)) + "\n")
        f.write(repr(long_host) + "\n")
        f.write(repr(b'x"\x07\xff.example') + "\n")


def repeat(src, copies, dst):
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B2C3D4, "a little-endian microsecond pcap"
    linktype = struct.unpack("<I", data[20:24])[0]
    packets = []
    at = 24
    while at + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[at:at + 16])
        packets.append((sec, usec, orig, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for c in range(copies):
        for sec, usec, orig, frame in packets:
            frame = bytearray(frame)
            # Ethernet + IPv4 + TCP/UDP: move the port above 1024 by the copy number.
            if linktype == 1 and len(frame) > 38 and frame[12:14] == b"\x08\x00":
                ihl = (frame[14] & 0x0F) * 4
                l4 = 14 + ihl
                if frame[23] in (6, 17) and len(frame) >= l4 + 4:
                    for off in (l4, l4 + 2):
                        port = struct.unpack("!H", frame[off:off + 2])[0]
                        if port > 1024:
                            port = 1025 + (port + c * 7) % 64000
                            frame[off:off + 2] = struct.pack("!H", port)
            out.append(struct.pack("<IIII", sec + 100 * c, usec, len(frame), orig) + bytes(frame))
    with open(dst, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "hostile":
        hostile(sys.argv[2])
    elif sys.argv[1] == "repeat":
        repeat(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Captures for tests/integration/store.sh. Standard library only.

  make-store-captures.py hostile OUT.pcap
      DNS queries and plain HTTP requests whose names are hostile: quotes,
      control characters, invalid UTF-8, a 1000-character Host label, a
      spreadsheet formula; the names used are written to OUT.pcap.names
      (one per line, as Python bytes literals).
  make-store-captures.py cases DIR
      Small captures of cases the timeline once got wrong, into DIR:
      keepalive.pcap and close.pcap (a TLS connection kept open, then a TCP
      keep-alive probe or an encrypted close_notify after 3 s: no contact),
      appdata.pcap (application data after 3 s: a contact, no new visit),
      referer.pcap (a font fetched with a stylesheet's Referer: the page's
      visit stays), dhcp-first.pcap (a DHCP request from 0.0.0.0 before
      the device uses 10.99.0.2, which the configuration names),
      backwards.pcap (a request to another host, its time 1 us before the
      device's last contact: no new visit).
  make-store-captures.py sync OUT.pcap
      Identifier syncing: a page on news.example; ad.doubleclick.net (Google)
      sets the cookie id=<a random-looking value>; the browser sends it back;
      then ib.adnxs.com (Microsoft's Xandr) gets the same value in
      /setuid?partner=google&uid=<value>; and a value seen at one company only
      (a second cookie) as a control. The value is written to OUT.pcap.value.
  make-store-captures.py hostile-site OUT.pcap
      A page on a host whose name holds escape sequences (ESC [2J, ESC [31m),
      its OneTrust consent cookies (accepted) sent back, and a tracker request
      from it: the report's verdict names the site and must escape it.
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


def http_exchange(out, ts, sport, host, path, headers=b"", response_headers=b""):
    """One plain HTTP request (path and extra header lines) and its 200 response."""
    syn, ack, psh = 0x02, 0x10, 0x08
    c_isn, s_isn = 1000, 5000
    back = dict(src_mac=b"\x02\x00\x00\x00\x00\xfe", dst_mac=b"\x02\x00\x00\x00\x00\x01")
    out.append(record(ts, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn, 0, syn)))))
    out.append(record(ts + 0.001, ether(ipv4(SERVER, CLIENT, 6, tcp(80, sport, s_isn, c_isn + 1, syn | ack)), **back)))
    out.append(record(ts + 0.002, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn + 1, s_isn + 1, ack)))))
    req = b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + headers + b"\r\n"
    out.append(record(ts + 0.003, ether(ipv4(CLIENT, SERVER, 6, tcp(sport, 80, c_isn + 1, s_isn + 1, ack | psh, req)))))
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + response_headers + b"\r\n"
    out.append(record(ts + 0.004, ether(ipv4(SERVER, CLIENT, 6, tcp(80, sport, s_isn + 1, c_isn + 1 + len(req), ack | psh, resp)), **back)))


def sync(path):
    value = b"Xq7Lr2Vb9Nz4Tt1Kp8Ws"
    t = 1700000000.0
    out = [pcap_header()]
    page = b"Referer: http://news.example/\r\n"
    http_exchange(out, t, 50000, b"news.example", b"/")
    http_exchange(out, t + 0.1, 50001, b"ad.doubleclick.net", b"/pixel", page,
                  b"Set-Cookie: id=" + value + b"; Domain=.doubleclick.net; Max-Age=31536000\r\n"
                  b"Set-Cookie: other=Mm3Hh6Jj0Ff5Dd2Ss; Max-Age=31536000\r\n")
    http_exchange(out, t + 0.2, 50002, b"ad.doubleclick.net", b"/again", page + b"Cookie: id=" + value + b"\r\n")
    http_exchange(out, t + 0.3, 50003, b"ib.adnxs.com", b"/setuid?partner=google&uid=" + value, page)
    open(path, "wb").write(b"".join(out))
    open(path + ".value", "wb").write(value)


def hostile_site(path):
    host = b"www.\x1b[2j\x1b[31mevil.com"
    consent = (b"Cookie: OptanonAlertBoxClosed=2023-11-14T22:13:20.000Z; OptanonConsent=isGpcEnabled=0"
               b"&interactionCount=1&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A1\r\n")
    t = 1700000000.0
    out = [pcap_header()]
    http_exchange(out, t, 50000, host, b"/")
    http_exchange(out, t + 0.1, 50001, b"ad.doubleclick.net", b"/pixel", b"Referer: http://" + host + b"/\r\n")
    http_exchange(out, t + 5, 50002, host, b"/next", consent)
    http_exchange(out, t + 5.1, 50003, b"ad.doubleclick.net", b"/pixel2", b"Referer: http://" + host + b"/next\r\n")
    open(path, "wb").write(b"".join(out))


def client_hello(sni):
    sni_ext = struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni
    ext = struct.pack("!HH", 0, len(sni_ext)) + sni_ext
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + struct.pack("!H", len(ext)) + ext)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


TLS_SERVER = [192, 0, 2, 90]


def tls_flow(out, ts, sport, sni, later):
    c, s = 1000, 5000
    out.append(record(ts, ether(ipv4(CLIENT, TLS_SERVER, 6, tcp(sport, 443, c, 0, 0x02)))))
    out.append(record(ts + 0.001, ether(ipv4(TLS_SERVER, CLIENT, 6, tcp(443, sport, s, c + 1, 0x12)),
                                        src_mac=b"\x02\x00\x00\x00\x00\xfe",
                                        dst_mac=b"\x02\x00\x00\x00\x00\x01")))
    out.append(record(ts + 0.002, ether(ipv4(CLIENT, TLS_SERVER, 6, tcp(sport, 443, c + 1, s + 1, 0x10)))))
    ch = client_hello(sni)
    out.append(record(ts + 0.003, ether(ipv4(CLIENT, TLS_SERVER, 6, tcp(sport, 443, c + 1, s + 1, 0x18, ch)))))
    nxt = c + 1 + len(ch)
    if later == "keepalive":  # one byte, the one before what the server has acknowledged
        payload, seq = b"\x00", nxt - 1
    elif later == "close":    # an encrypted close_notify alert
        payload, seq = b"\x15\x03\x03\x00\x1a" + b"\x42" * 26, nxt
    else:                     # application data
        payload, seq = b"\x17\x03\x03\x00\x40" + b"\x42" * 64, nxt
    out.append(record(ts + 3.0, ether(ipv4(CLIENT, TLS_SERVER, 6, tcp(sport, 443, seq, s + 1, 0x18, payload)))))


def dhcp_request(hostname, mac=b"\x02\x00\x00\x00\x00\x01"):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x1234, 0, 0, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    opts = (b"\x63\x82\x53\x63" + b"\x35\x01\x03" + bytes([12, len(hostname)]) + hostname
            + b"\x32\x04" + bytes([10, 99, 0, 2]) + b"\xff")
    return bootp + opts


def cases(directory):
    global CLIENT
    t = 1700000000.0
    for later in ("keepalive", "close", "appdata"):
        out = [pcap_header()]
        http_flow(out, t, 50000, b"www.news.example")
        tls_flow(out, t + 0.1, 50001, b"cdn.other.example", later)
        http_flow(out, t + 3.5, 50002, b"www.google-analytics.com")
        open("%s/%s.pcap" % (directory, later), "wb").write(b"".join(out))
    out = [pcap_header()]
    http_flow(out, t, 50000, b"www.news.example")
    http_flow(out, t + 0.1, 50001, b"fonts.googleapis.com", referer=b"http://www.news.example/")
    http_flow(out, t + 0.2, 50002, b"fonts.gstatic.com", referer=b"http://fonts.googleapis.com/css")
    http_flow(out, t + 0.3, 50003, b"www.google-analytics.com")
    open("%s/referer.pcap" % directory, "wb").write(b"".join(out))
    out = [pcap_header()]
    out.append(record(t, ether(ipv4([0, 0, 0, 0], [255, 255, 255, 255], 17,
                                    udp(68, 67, dhcp_request(b"laptop"))), dst_mac=b"\xff" * 6)))
    saved = CLIENT
    CLIENT = [10, 99, 0, 2]
    http_flow(out, t + 5, 50000, b"www.news.example")
    CLIENT = saved
    open("%s/dhcp-first.pcap" % directory, "wb").write(b"".join(out))
    out = [pcap_header()]
    http_flow(out, t, 50000, b"www.news.example")
    first_request = out[-1]
    http_flow(out, t + 0.5, 50001, b"static.othercdn.example")
    # The second request's time: 1 us before the first request, the device's last contact.
    last = out.pop()
    sec, usec = struct.unpack("<II", first_request[:8])
    out.append(struct.pack("<II", sec, usec - 1) + last[8:])
    open("%s/backwards.pcap" % directory, "wb").write(b"".join(out))


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
    elif sys.argv[1] == "cases":
        cases(sys.argv[2])
    elif sys.argv[1] == "sync":
        sync(sys.argv[2])
    elif sys.argv[1] == "hostile-site":
        hostile_site(sys.argv[2])
    elif sys.argv[1] == "repeat":
        repeat(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)

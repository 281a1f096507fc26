#!/usr/bin/env python3
"""Writes fuzzing seeds from the test captures:
seeds/decode/: single frames, prefixed by the harness's link-type selector
byte and a snap byte (classic pcap files only);
seeds/pipeline/: runs of up to 4 KiB of consecutive IP packets, each prefixed
by its 2-byte length, as fuzz_pipeline reads them: the first packets of each
classic pcap file; then single connections cut from the captures (pcapng
too) for what the pipeline reads of both sides (HTTP responses and their
Set-Cookie, Cookie headers and query strings, ServerHellos, QUIC Initials);
the QUIC Initials of seeds/quic/raw-* in IPv4/UDP headers; and made-up
connections for what the captures lack (a warning alert before a
ServerHello, DNS over TCP answers, connections named by a DNS answer,
out-of-order and missing segments, SSDP, ...).
    tests/fuzz/make-seeds.py                 (from the top of the tree)
    tests/fuzz/make-seeds.py pipeline        (one set only: decode, pipeline)
"""
import glob
import os
import struct
import sys

# fuzz_decode's table: index of each DLT we meet in tests/data.
DECODE_INDEX = {1: 0, 113: 1, 276: 2, 12: 3, 101: 3, 228: 5, 229: 6, 0: 7, 108: 8}
LINK_HEADER = {1: 14, 113: 16, 276: 20, 101: 0, 12: 0, 0: 4, 108: 4}
SEED_MAX = 4096


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


def pcapng_frames(path):
    """The link type of the first interface and the frames of its Enhanced
    (or Simple) Packet Blocks, of a pcapng file; (None, []) for another file."""
    data = open(path, "rb").read()
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        return None, []
    order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    linktypes, out, offset = [], [], 0
    while offset + 12 <= len(data):
        btype, blen = struct.unpack(order + "II", data[offset:offset + 8])
        if blen < 12:
            break
        body = data[offset + 8:offset + blen - 4]
        if btype == 1:
            linktypes.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6:
            iface, _, _, caplen = struct.unpack(order + "IIII", body[:16])
            if iface == 0:
                out.append(body[20:20 + caplen])
        elif btype == 3:
            out.append(body[4:])
        offset += blen
    return (linktypes[0] if linktypes else None), out


def ip_packets(path):
    """The IP packets of a capture (pcap or pcapng), link headers taken off."""
    linktype, packets = frames(path)
    if linktype is None:
        linktype, packets = pcapng_frames(path)
    skip = LINK_HEADER.get(linktype)
    if skip is None:
        return []
    out = []
    for frame in packets:
        ip = frame[skip:]
        if ip and ip[0] >> 4 in (4, 6):
            out.append(ip)
    return out


def write_seed(name, packets):
    """A pipeline seed of IP packets; it must stay under SEED_MAX bytes."""
    run = b"".join(struct.pack(">H", len(p)) + p for p in packets)
    assert len(run) <= SEED_MAX, (name, len(run))
    with open(f"tests/fuzz/seeds/pipeline/{name}", "wb") as f:
        f.write(run)


def capture_seeds(sets):
    for sub in sets:
        os.makedirs(f"tests/fuzz/seeds/{sub}", exist_ok=True)
    for path in sorted(glob.glob("tests/data/*.pcap")):
        name = os.path.basename(path).rsplit(".", 1)[0]
        linktype, packets = frames(path)
        if linktype not in DECODE_INDEX:
            continue
        if "decode" in sets:
            for i, frame in enumerate(packets[:12]):
                with open(f"tests/fuzz/seeds/decode/{name}-{i}", "wb") as f:
                    f.write(bytes([DECODE_INDEX[linktype], 0]) + frame[:1500])
        if "pipeline" not in sets:
            continue
        skip = LINK_HEADER[linktype]
        run, n = b"", 0
        for frame in packets:
            ip = frame[skip:]
            if not ip or ip[0] >> 4 not in (4, 6):
                continue
            ip = cut_to(ip, 1500)
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


# ---- Single connections cut from the captures ----

def l4_of(ip):
    """(protocol, source port, destination port, header length before L4) of an
    IP packet; None for what we do not cut by (IPv6 extension headers, fragments)."""
    if ip[0] >> 4 == 4:
        off = (ip[0] & 15) * 4
        proto = ip[9]
    else:
        off, proto = 40, ip[6]
    if proto not in (6, 17) or len(ip) < off + 4:
        return None
    sport, dport = struct.unpack(">HH", ip[off:off + 4])
    return proto, sport, dport, off


def cut_ip(ip, keep):
    """The packet with its L4 payload cut to `keep` bytes, lengths fixed (IPv4
    checksum included; the pipeline checks no TCP or UDP checksum)."""
    proto, _, _, off = l4_of(ip)
    l4_header = ((ip[off + 12] >> 4) * 4) if proto == 6 else 8
    end = off + l4_header + keep
    out = bytearray(ip[:end])
    if ip[0] >> 4 == 4:
        out[2:4] = struct.pack(">H", end)
        out[10:12] = b"\0\0"
        out[10:12] = struct.pack(">H", checksum(bytes(out[:off])))
    else:
        out[4:6] = struct.pack(">H", end - 40)
    if proto == 17:
        out[off + 4:off + 6] = struct.pack(">H", l4_header + keep)
    return bytes(out)


def cut_to(ip, size):
    """A packet of at most `size` bytes: a longer one (a capture of TSO or GRO
    traffic) has its payload cut and its lengths fixed, so that it still
    decodes."""
    if len(ip) <= size:
        return ip
    if not l4_of(ip):
        return ip[:size]
    return cut_ip(ip, size - len(cut_ip(ip, 0)))


def connection(packets, proto, port, start=0, budget=4000):
    """The packets of the connections using local port `port` (either
    direction), from index `start`, while they fit in `budget` bytes; the
    first that does not fit is cut to what room is left (at least 64 bytes)."""
    out, used = [], 0
    for ip in packets[start:]:
        l4 = l4_of(ip)
        if not l4 or l4[0] != proto or port not in (l4[1], l4[2]):
            continue
        if used + 2 + len(ip) > budget:
            room = budget - used - 2 - (len(ip) - len(cut_ip(ip, 0)))
            if room >= 64:
                out.append(cut_ip(ip, room))
            break
        out.append(ip)
        used += 2 + len(ip)
    return out


def connection_seeds():
    browser = ip_packets("tests/data/browser-accept-http.pcap")
    # Where a request of a connection starts, for a cut from the middle.
    def index_of(packets, needle):
        return next(i for i, ip in enumerate(packets) if needle in ip)
    cuts = {
        # GET / answered with Set-Cookie sessionid, then requests with Cookie.
        "conn-http-set-cookie": (browser, 6, 53468, 0),
        # Query strings; a response with two Set-Cookie headers.
        "conn-http-query-two-set-cookies": (browser, 6, 59040, 0),
        # A long query (consent string); HttpOnly Set-Cookies.
        "conn-http-consent-query": (browser, 6, 53596, 0),
        # From the middle of a connection (no SYN): a request with many cookies.
        "conn-http-midstream-cookies": (browser, 6, 53474,
                                        index_of(browser, b"GET /favicon.ico")),
        # ClientHello and ServerHello (TLS 1.3), in full.
        "conn-tls-server-hello": (browser, 6, 46002, 0),
    }
    alert = ip_packets("tests/data/tls_alert.pcap")
    cuts["conn-tls-fatal-alert"] = (alert, 6, 63158, 0)
    # (quic_0RTT.pcap's Chrome connection is quic-v1-zero-rtt-first.)
    # QUIC v2 over IPv6, port 4443, and the server's Initial.
    v2 = ip_packets("tests/data/quic-v2.pcapng")
    cuts["conn-quic-v2"] = (v2, 17, 42086, 0)
    for name, (packets, proto, port, start) in cuts.items():
        write_seed(name, connection(packets, proto, port, start))


# ---- QUIC Initials of the QUIC harness's raw seeds ----

# Q024 and Q035 take the same path through the pipeline as Q025; raw-v2's
# datagram is conn-quic-v2's first.
QUIC_LEFT_OUT = ("raw-gquic-q024", "raw-gquic-q035", "raw-v2")


def quic_seeds():
    """seeds/quic/raw-*: byte 0 (raw mode), then datagrams each after its
    2-byte length; sent here from one client port to port 443."""
    for n, path in enumerate(sorted(glob.glob("tests/fuzz/seeds/quic/raw-*"))):
        if os.path.basename(path) in QUIC_LEFT_OUT:
            continue
        data = open(path, "rb").read()
        pos, datagrams = 1, []
        while pos + 2 <= len(data):
            length = struct.unpack(">H", data[pos:pos + 2])[0]
            datagrams.append(data[pos + 2:pos + 2 + length])
            pos += 2 + length
        name = os.path.basename(path)[len("raw-"):]
        client = ("10.0.0.2", 50000 + n)
        out = [udp4(client[0], "10.0.0.1", client[1], 443, d) for d in datagrams]
        write_seed(f"quic-{name}", out)


# ---- Made-up connections ----

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def addr(text):
    if ":" in text:
        import ipaddress
        return ipaddress.IPv6Address(text).packed
    return bytes(int(x) for x in text.split("."))


def ip_header(src, dst, proto, l4):
    if ":" in src:
        return struct.pack(">IHBB", 6 << 28, len(l4), proto, 64) + addr(src) + addr(dst) + l4
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0,
                    addr(src), addr(dst))
    return h[:10] + struct.pack(">H", checksum(h)) + h[12:] + l4


def udp4(src, dst, sport, dport, payload):
    return ip_header(src, dst, 17, struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload)


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


class Tcp:
    """One made-up TCP connection: packets of either side, with sequence
    numbers that follow what each side has sent."""

    def __init__(self, client, server, cport, sport, cisn=0x1000, sisn=0x70000000):
        self.client, self.server, self.cport, self.sport = client, server, cport, sport
        self.seq = {"c": cisn, "s": sisn}

    def packet(self, side, flags, payload=b"", seq=None):
        src, dst = (self.client, self.server) if side == "c" else (self.server, self.client)
        sport, dport = (self.cport, self.sport) if side == "c" else (self.sport, self.cport)
        other = self.seq["s" if side == "c" else "c"]
        if seq is None:
            seq = self.seq[side]
            self.seq[side] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xffffffff
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, other, 5 << 4, flags, 65535, 0, 0)
        return ip_header(src, dst, 6, tcp + payload)

    def handshake(self):
        return [self.packet("c", SYN), self.packet("s", SYN | ACK), self.packet("c", ACK)]

    def c(self, payload, flags=PSH | ACK):
        return self.packet("c", flags, payload)

    def s(self, payload, flags=PSH | ACK):
        return self.packet("s", flags, payload)

    def segments(self, side, payload, sizes):
        """`payload` in segments of the given sizes (the last takes the rest)."""
        out, pos = [], 0
        for size in list(sizes) + [len(payload)]:
            if pos >= len(payload):
                break
            out.append(self.packet(side, PSH | ACK, payload[pos:pos + size]))
            pos += size
        return out

    def close(self):
        return [self.packet("c", FIN | ACK), self.packet("s", FIN | ACK), self.packet("c", ACK)]


def u16(v):
    return struct.pack(">H", v)


def u24(v):
    return struct.pack(">I", v)[1:]


def ext(kind, body):
    return u16(kind) + u16(len(body)) + body


def record(content, body, version=0x0303):
    return bytes([content]) + u16(version) + u16(len(body)) + body


def client_hello(sni=b"tracker.example", alpn=(b"h2", b"http/1.1"), ech=False):
    exts = b""
    if sni:
        exts += ext(0, u16(len(sni) + 3) + b"\0" + u16(len(sni)) + sni)
    exts += ext(10, u16(4) + u16(0x001d) + u16(0x0017))
    exts += ext(13, u16(4) + u16(0x0403) + u16(0x0804))
    if alpn:
        names = b"".join(bytes([len(a)]) + a for a in alpn)
        exts += ext(16, u16(len(names)) + names)
    exts += ext(43, b"\x06" + u16(0x3a3a) + u16(0x0304) + u16(0x0303))
    exts += ext(51, u16(36) + u16(0x001d) + u16(32) + bytes(range(32)))
    if ech:
        exts += ext(0xfe0d, b"\x00\x00\x01\x00\x01\x42" + u16(32) + bytes(32) + u16(16) + bytes(16))
    body = (u16(0x0303) + bytes(range(32)) + b"\x20" + bytes(range(32, 64)) +
            u16(4) + u16(0x1301) + u16(0xc02f) + b"\x01\x00" + u16(len(exts)) + exts)
    return record(22, b"\x01" + u24(len(body)) + body, 0x0301)


def server_hello(tls13=True, cipher=0x1301, alpn=None):
    exts = b""
    if tls13:
        exts += ext(43, u16(0x0304)) + ext(51, u16(0x001d) + u16(32) + bytes(32))
    if alpn:
        exts += ext(16, u16(len(alpn) + 1) + bytes([len(alpn)]) + alpn)
    body = (u16(0x0303) + bytes(range(64, 96)) + b"\x20" + bytes(range(32, 64)) +
            u16(cipher) + b"\x00" + u16(len(exts)) + exts)
    return record(22, b"\x02" + u24(len(body)) + body)


WARNING_UNRECOGNIZED_NAME = record(21, b"\x01\x70")
FATAL_HANDSHAKE_FAILURE = record(21, b"\x02\x28")
CHANGE_CIPHER_SPEC = record(20, b"\x01")


def dns_name(name):
    return b"".join(bytes([len(label)]) + label for label in name.split(b".")) + b"\0"


def dns_message(ident, flags, question, answers=(), qtype=1):
    """A DNS message; answers are (name, type, ttl, rdata); a name of b"@"
    is a pointer to the question's name."""
    out = struct.pack(">HHHHHH", ident, flags, 1, len(answers), 0, 0)
    out += dns_name(question) + u16(qtype) + u16(1)
    for name, kind, ttl, rdata in answers:
        out += (b"\xc0\x0c" if name == b"@" else dns_name(name))
        out += u16(kind) + u16(1) + struct.pack(">I", ttl) + u16(len(rdata)) + rdata
    return out


def a_record(name, address, ttl=300):
    return (name, 1, ttl, addr(address))


def cname(name, target, ttl=300):
    return (name, 5, ttl, dns_name(target))


def http_request(method=b"GET", target=b"/", host=b"www.news.example", headers=(), body=b""):
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host] + list(headers)
    if body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def http_response(status=b"200 OK", headers=(), body=b"", length=True):
    lines = [b"HTTP/1.1 " + status] + list(headers)
    if length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


CLIENT, RESOLVER = "192.168.1.20", "192.168.1.1"
CLIENT6 = "2001:db8::20"


def made_up_seeds():
    seeds = {}

    # Cookies and query strings, both ways: two Cookie headers; a 100 Continue
    # then a 200 with two Set-Cookies and a body; a HEAD (its response has a
    # length and no body); a chunked response with a Set-Cookie.
    t = Tcp(CLIENT, "203.0.113.10", 40001, 80)
    post = http_request(b"POST", b"/collect?uid=8c1f2a&gdpr=1&gdpr_consent=CQabc-XYZ&=bare&flag",
                        b"www.tracker.example:8080",
                        [b"Cookie: uid=8c1f2a; _ga=GA1.1.161761967.1795927229",
                         b"Cookie: session=\"quoted value\"; empty=; novalue",
                         b"Referer: http://news.example/article?id=42&utm_source=x",
                         b"Origin: http://news.example", b"User-Agent: Mozilla/5.0 (X11)",
                         b"Expect: 100-continue"], b"event=view&uid=8c1f2a")
    head = http_request(b"HEAD", b"/pixel.gif?r=1", b"WWW.Tracker.Example")
    get = http_request(b"GET", b"/sync?partner=a&id=%20x+y", b"www.tracker.example",
                       [b"Cookie: uid=8c1f2a"])
    seeds["made-http-cookies-both-ways"] = (
        t.handshake() + [t.c(post)] +
        [t.s(b"HTTP/1.1 100 Continue\r\n\r\n")] +
        [t.s(http_response(b"200 OK", [
            b"Set-Cookie: uid=8c1f2a; Path=/; Domain=.tracker.example; Max-Age=33696000; Secure; HttpOnly",
            b"Set-Cookie: consent=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            b"Content-Type: text/plain"], b"ok"))] +
        [t.c(head), t.s(http_response(b"200 OK", [b"Content-Type: image/gif"], b"", False)
                        .replace(b"\r\n\r\n", b"\r\nContent-Length: 43\r\n\r\n"))] +
        [t.c(get), t.s(b"HTTP/1.1 302 Found\r\nSet-Cookie: sync=1; SameSite=None\r\n"
                       b"Location: /x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nhello\r\n0\r\n\r\n")] + t.close())

    # Six pipelined requests to different hosts (more than a connection's
    # queue of four), then their responses, each with a Set-Cookie.
    t = Tcp(CLIENT, "203.0.113.11", 40002, 80)
    requests = b"".join(http_request(b"GET", b"/p?n=%d" % i, b"h%d.example" % i,
                                     [b"Cookie: id=%d" % i]) for i in range(6))
    responses = b"".join(http_response(b"200 OK", [b"Set-Cookie: id=%d; Path=/" % i], b"x")
                         for i in range(6))
    seeds["made-http-pipelined-hosts"] = (
        t.handshake() + t.segments("c", requests, [300]) + t.segments("s", responses, [200]) +
        t.close())

    # The response's first segment comes after its second, and before the
    # request; a response whose body runs until the connection closes.
    t = Tcp(CLIENT, "203.0.113.12", 40003, 80)
    hs = t.handshake()
    req = t.c(http_request(b"GET", b"/a?b=c", b"late.example", [b"Cookie: a=b"]))
    r1, r2 = t.segments("s", http_response(b"200 OK", [b"Set-Cookie: late=1", b"Connection: close"],
                                           b"body until close " * 4, False), [40])
    fin = [t.packet("s", FIN | ACK), t.packet("c", FIN | ACK)]
    seeds["made-http-response-out-of-order"] = hs + [r2, r1, req] + fin

    # A response body of 6000 bytes (passed over unread), its segments out of
    # order, then a second exchange; and a hole in the requests.
    t = Tcp(CLIENT, "203.0.113.13", 40004, 80)
    hs = t.handshake()
    req1 = t.c(http_request(b"GET", b"/big?x=1", b"big.example"))
    head1 = t.s(http_response(b"200 OK", [b"Set-Cookie: big=1", b"Content-Length: 6000"], b"",
                              False))
    start = t.seq["s"]
    t.seq["s"] = (start + 6000) & 0xffffffff
    body = [t.packet("s", ACK, b"b" * 8, seq=(start + off) & 0xffffffff)
            for off in (5992, 3000, 0)]
    t.c(http_request(b"GET", b"/lost?y=2", b"big.example", [b"Cookie: big=1"]))  # never sent
    req3 = t.c(http_request(b"GET", b"/after-hole?z=3", b"big.example", [b"Cookie: big=1"]))
    resp2 = t.s(http_response(b"204 No Content", [b"Set-Cookie: after=1"], b"", False))
    seeds["made-http-skip-and-hole"] = hs + [req1, head1] + body + [req3, resp2]

    # SYN with data (TCP Fast Open): a request on the SYN.
    t = Tcp(CLIENT, "203.0.113.14", 40005, 80)
    syn = t.packet("c", SYN, http_request(b"GET", b"/tfo?q=1", b"tfo.example", [b"Cookie: t=1"]))
    seeds["made-http-on-syn"] = [syn, t.packet("s", SYN | ACK), t.c(b"", ACK),
                                 t.s(http_response(b"200 OK", [b"Set-Cookie: t=2"], b"k"))]

    # TLS: a warning alert (unrecognized_name) before the ServerHello, in one
    # segment; then split over segments, the alert cut in two.
    t = Tcp(CLIENT, "198.51.100.10", 40010, 443)
    seeds["made-tls-warning-alert-then-hello"] = (
        t.handshake() + [t.c(client_hello(b"warn.example"))] +
        [t.s(WARNING_UNRECOGNIZED_NAME + server_hello(True, 0x1302, b"h2") + CHANGE_CIPHER_SPEC)] +
        t.close())
    t = Tcp(CLIENT, "198.51.100.11", 40011, 443)
    server = WARNING_UNRECOGNIZED_NAME + server_hello(False, 0xc02f, b"http/1.1")
    seeds["made-tls-warning-alert-split"] = (
        t.handshake() + t.segments("c", client_hello(b"split.example", ech=True), [5, 60]) +
        t.segments("s", server, [6, 3, 20]) + t.close())
    t = Tcp(CLIENT, "198.51.100.12", 40012, 443)
    seeds["made-tls-fatal-alert-before-hello"] = (
        t.handshake() + [t.c(client_hello(b"fatal.example", alpn=None))] +
        [t.s(FATAL_HANDSHAKE_FAILURE)] + t.close())

    # The server's hello captured before the client's (mid-stream: no SYN),
    # and a ClientHello whose segments come out of order.
    t = Tcp(CLIENT, "198.51.100.13", 40013, 443)
    ch = t.segments("c", client_hello(b"ooo.example"), [100])
    sh = t.s(server_hello())
    seeds["made-tls-server-first-out-of-order"] = [sh, ch[1], ch[0]]

    # A ClientHello with a one-byte hole and 70 one-byte segments after it:
    # the stream's bound is reached and the hole becomes a gap.
    t = Tcp(CLIENT, "198.51.100.14", 40014, 443)
    hello = client_hello(b"gap.example")
    hs = t.handshake()
    first = t.c(hello[:10])
    base = t.seq["c"]
    tiny = [t.packet("c", PSH | ACK, hello[11 + i:12 + i], seq=base + 1 + i) for i in range(70)]
    seeds["made-tls-hole-gap"] = hs + [first] + tiny

    # A connection that names nothing (a ClientHello without SNI, offering
    # ECH), to an address a DNS answer (through a CNAME chain) gave:
    # attributed by that answer. Then a protocol we do not read (SSH) to
    # another answered address, and an IPv6 one.
    answer = dns_message(0x1234, 0x8180, b"cdn.tracker.example", [
        cname(b"@", b"edge.cdn.example"), cname(b"edge.cdn.example", b"node1.cdn.example"),
        a_record(b"node1.cdn.example", "198.51.100.20"),
        a_record(b"node1.cdn.example", "198.51.100.21")])
    answer6 = dns_message(0x1235, 0x8180, b"v6.tracker.example",
                          [(b"@", 28, 60, addr("2001:db8::77"))], qtype=28)
    query = dns_message(0x1234, 0x0100, b"cdn.tracker.example")
    # And an answer of 70 records, each named by a pointer to a 250-byte
    # name: more records, and more text, than one observation holds.
    long_name = b".".join([b"x" * 62] * 4)[:250]
    many = dns_message(0x1236, 0x8180, long_name,
                       [(b"@", 1, 300, bytes([198, 51, 100, i])) for i in range(70)])
    t = Tcp(CLIENT, "198.51.100.20", 40015, 443)
    ssh = Tcp(CLIENT, "198.51.100.21", 40016, 22)
    t6 = Tcp(CLIENT6, "2001:db8::77", 40017, 443)
    seeds["made-connection-by-dns-answer"] = (
        [udp4(CLIENT, RESOLVER, 33333, 53, query), udp4(RESOLVER, CLIENT, 53, 33333, answer),
         udp4(RESOLVER, CLIENT, 53, 33334, answer6), udp4(RESOLVER, CLIENT, 53, 33335, many)] +
        t.handshake() + [t.c(client_hello(None, ech=True)), t.s(server_hello())] +
        ssh.handshake() + [ssh.s(b"SSH-2.0-OpenSSH_9.2p1\r\n"), ssh.c(b"SSH-2.0-OpenSSH_9.6\r\n")] +
        t6.handshake() + [t6.c(b"\x00\x01\x02 opaque")] + t.close())

    # DNS over TCP: a query, then an answer (CNAME and A) cut across three
    # segments (its length prefix split), then two answers in one segment;
    # then a connection to the answered address.
    t = Tcp(CLIENT, RESOLVER, 40020, 53)
    q = dns_message(7, 0x0100, b"tcp.tracker.example")
    a1 = dns_message(7, 0x8180, b"tcp.tracker.example",
                     [cname(b"@", b"tcp-edge.example"), a_record(b"tcp-edge.example", "198.51.100.30")])
    a2 = dns_message(8, 0x8183, b"nx.tracker.example")
    a3 = dns_message(9, 0x8180, b"six.tracker.example", [(b"@", 28, 60, addr("2001:db8::30"))], 28)
    framed = lambda m: u16(len(m)) + m
    https = Tcp(CLIENT, "198.51.100.30", 40021, 8443)
    # And a query stream with a one-byte hole and 66 one-byte segments after
    # it: the stream's bound is reached, message boundaries are lost.
    g = Tcp(CLIENT, RESOLVER, 40022, 53)
    hs = g.handshake()
    query = framed(q)
    base = g.seq["c"]
    tiny = [g.packet("c", PSH | ACK, bytes([query[1 + i % (len(query) - 1)]]), seq=base + 1 + i)
            for i in range(66)]
    seeds["made-dns-over-tcp-answers"] = (
        t.handshake() + [t.c(framed(q))] + t.segments("s", framed(a1), [1, 20]) +
        [t.s(framed(a2) + framed(a3))] + t.close() +
        https.handshake() + [https.c(b"\x16\x03\x01\x00\x05hello"), https.s(b"opaque")] +
        hs + tiny)

    # SSDP (UDP 1900): an M-SEARCH and a NOTIFY, one whole message a datagram.
    msearch = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
               b"MX: 1\r\nST: ssdp:all\r\nUSER-AGENT: Linux UPnP/1.0\r\n\r\n")
    notify = (b"NOTIFY * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
              b"NTS: ssdp:alive\r\nLocation: http://192.168.1.30:49152/desc.xml?uuid=1\r\n\r\n")
    seeds["made-ssdp"] = [udp4(CLIENT, "239.255.255.250", 50123, 1900, msearch),
                          udp4("192.168.1.30", "239.255.255.250", 1900, 1900, notify)]

    # mDNS and LLMNR answers (their A records feed the cache too).
    mdns = dns_message(0, 0x8400, b"printer.local", [a_record(b"@", "192.168.1.40", 120)])
    llmnr = dns_message(5, 0x8000, b"nas", [a_record(b"@", "192.168.1.41", 30)])
    seeds["made-mdns-llmnr-answers"] = [udp4("192.168.1.40", "224.0.0.251", 5353, 5353, mdns),
                                        udp4("192.168.1.41", CLIENT, 5355, 50200, llmnr)]

    # Names only nDPI reads: a DHCP client's host name, a NetBIOS name query.
    bootp = (b"\x01\x01\x06\x00" + struct.pack(">I", 0x3903f326) + bytes(20) +
             bytes.fromhex("00163e112233") + bytes(10 + 64 + 128) + bytes.fromhex("63825363") +
             b"\x35\x01\x01" + b"\x0c\x09laptop-01" + b"\x37\x03\x01\x03\x06" + b"\xff")
    encoded = b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in b"FILESERVER".ljust(15) + b"\0")
    netbios = struct.pack(">HHHHHH", 0x8001, 0x0110, 1, 0, 0, 0) + b"\x20" + encoded + b"\0" + u16(0x20) + u16(1)
    # And 26 datagrams nDPI cannot classify: its packet budget runs out.
    unknown = [udp4(CLIENT, "198.51.100.50", 40100, 40101, bytes([0x5a, i, 0xa5, 7 * i % 256]))
               for i in range(26)]
    seeds["made-ndpi-names"] = [udp4("0.0.0.0", "255.255.255.255", 68, 67, bootp),
                                udp4(CLIENT, "192.168.1.255", 137, 137, netbios)] + unknown

    # IPv6: TLS (ServerHello with ALPN) and HTTP with cookies.
    t = Tcp(CLIENT6, "2001:db8::443", 40030, 443)
    h = Tcp(CLIENT6, "2001:db8::80", 40031, 80)
    seeds["made-ipv6-tls-http"] = (
        t.handshake() + [t.c(client_hello(b"v6.example")), t.s(server_hello(False, 0x009c, b"h2"))] +
        h.handshake() + [h.c(http_request(b"GET", b"/v6?id=1", b"[2001:db8::80]:80",
                                          [b"Cookie: v6=1"])),
                         h.s(http_response(b"200 OK", [b"Set-Cookie: v6=2"], b""))])

    for name, packets in seeds.items():
        write_seed(name, packets)


def main():
    sets = sys.argv[1:] or ["decode", "pipeline"]
    capture_seeds(sets)
    if "pipeline" in sets:
        connection_seeds()
        quic_seeds()
        made_up_seeds()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Hostile captures for tests/integration/hostile.sh: floods meant to grow the
sensor's memory past its bounds. Standard library only.

  make-hostile.py DIR [NAME...]          write DIR/NAME.pcap (by default all but
                                         ooo-tiny-wide, which is 305 MB)
  make-hostile.py --stdout NAME          write one capture to standard output
  make-hostile.py --list                 the captures, one a line
  --flows N                              override the number of flows of a flood

After each capture, one line on standard error:
  make-hostile: NAME: packets P, bytes B, EXPECT...
where EXPECT are the numbers hostile.sh checks (key=value).

Frames are Ethernet / IPv4 / TCP or UDP, checksums left 0 (trackwatchd does
not check them), all within a few seconds of packet time so that nothing
expires. Every capture is deterministic.

The captures (the numbers are the defaults; --flows changes the main one).
hostile.sh streams them into trackwatchd (-r -): the two largest are
over 100 MB, as they must be to put 4x a 32 MiB bound on the wire.

syn-flood      300,000 SYNs from distinct addresses and ports to one server:
               each a new flow; with --max-flows 4096 the table evicts.
               (21 MB)
ooo-flood      phase 1: 200 TLS streams, each a ClientHello header and then
               50 segments of 1400 bytes far ahead (never filling the hole),
               one stream at a time: the per-stream bound (64 KiB, 64
               segments) forces a gap on each (TLS bad_record 200).
               phase 2: 2400 HTTP streams, each a request line and then 40
               segments of 1400 bytes beyond a hole, round-robin over the
               streams. 40 x 1400 = 56,000 bytes is under the per-stream
               bound, so only the sensor-wide 32 MiB bound can force gaps: at
               the end at most 32 MiB / 56,000 = 599 streams hold their
               segments, at least 1801 ended with a gap. Unbounded, 2400 x
               56,000 = 128 MiB would wait (4x the bound). (156 MB)
ooo-tiny       4096 HTTP streams, each a request line and then 100 one-byte
               segments beyond a hole: the 65th finds 64 held and forces a
               gap (the per-stream segment bound: HTTP gap 4096). (30 MB)
ooo-tiny-wide  65,536 DNS-over-TCP streams (a whole query in order: nDPI is
               done with the flow at once, the DNS reader holds nothing between
               messages), then 63 one-byte segments beyond a hole, under the
               per-stream bounds, held to the end: 63 bytes waiting per stream
               count against the 32 MiB bound, 63 allocations do not. (305 MB)
ndpi-tls-flood 8192 TLS streams, each a handshake record announcing 16 KiB
               whose message is not a ClientHello (our reader ends at once,
               bad_hello), then 11 segments of the record, never complete:
               only nDPI keeps anything. (133 MB)
reader-flood   phase 1: 100 HTTP streams whose header block never ends
               (70,000 bytes of header lines): HTTP too_long 100, one stream
               at a time.
               phase 2, round-robin: 300 TLS streams each sending a 65,004-byte
               ClientHello (records of 16 KiB, server name tN.reader.example)
               and 1900 HTTP streams each sending 33,000 bytes of header lines
               and only then the blank line. Readers buffer the hello and the
               header block (64 KiB each: buffers double), 137 MiB in all if
               unbounded (4.3x the 32 MiB bound): the streams over the bound
               are dropped, so fewer than 2200 tls_sni + http_request come out.
               (96 MB)
server-flood   reader-flood from the server's side. Phase 1: 100 HTTP
               responses whose header block never ends (HTTP server too_long
               100). Phase 2: 2200 connections each asking once, then,
               round-robin, each server answering with 33,000 bytes of header
               lines and the blank line: 137 MiB of response readers if
               unbounded, so fewer than 2200 http_response come out. (84 MB)
quic-flood     600 Google QUIC clients, each one datagram whose crypto stream
               frame starts at offset 65000: each QUIC reader makes room for
               it and waits, over the readers' 32 MiB in all (this reached a
               NULL pointer in make_room() once); two seconds later a
               two-segment ClientHello, read once idle QUIC readers make room.
http-hosts-flood 17,000 HTTP connections, each a request never answered,
               then a two-segment ClientHello that must be read.
dns-tcp-flood  3000 connections to port 53 each sending a DNS-over-TCP length
               of 65535 (the reader allocates the message at once: 187 MiB if
               unbounded); then the first 600 send their whole message (a
               query for qN.dnstcp.example): at most 32 MiB / 65535 = 512
               readers can hold a message, so at most 512 dns_query. (42 MB)
dns-loop       DNS over UDP: compression pointers to themselves and forward
               (bad_pointer), backward chains of 64 pointers (fine) and 65
               (pointer_loop), names of 32,000 one-byte labels and of 63-byte
               labels (name_too_long), a CNAME pointing at itself (bad_rdata),
               queries of 500 questions (32 observations each) and of 65535
               claimed questions (truncated after the 10,000 sent), responses
               of 4000 answers, 1000 responses of 60 new addresses each (the
               address -> name cache holds 8192). A name of 65,535 labels does not fit in a
               datagram (each label takes 2 bytes at least): the longest that
               fits is sent. (27 MB)
"""
import os
import random
import struct
import sys

ETH = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
SERVER = bytes([192, 0, 2, 1])
BASE_TS = 1700000000
SYN, ACK, PSH = 0x02, 0x10, 0x08


class Writer:
    """A pcap file (microseconds, Ethernet); one microsecond between packets."""

    def __init__(self, out):
        self.out = out
        self.chunks = []
        self.size = 0
        self.packets = 0
        self.bytes = 0
        self.later_us = 0  # time skipped ahead by skip()
        header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
        self._put(header)

    def _put(self, data):
        self.chunks.append(data)
        self.size += len(data)
        self.bytes += len(data)
        if self.size >= 1 << 20:
            self.flush()

    def flush(self):
        self.out.write(b"".join(self.chunks))
        self.chunks = []
        self.size = 0

    def skip(self, seconds):
        """The next packets come `seconds` later."""
        self.later_us += int(seconds * 1000000)

    def frame(self, l3):
        i = self.packets + self.later_us
        self.packets += 1
        frame_len = len(ETH) + len(l3)
        self._put(struct.pack("<IIII", BASE_TS + i // 1000000, i % 1000000, frame_len, frame_len)
                  + ETH + l3)

    def tcp(self, src, sport, dst, dport, seq, flags, payload=b""):
        ip_tcp = struct.pack(">BBHHHBBH4s4sHHIIBBHHH",
                             0x45, 0, 40 + len(payload), self.packets & 0xFFFF, 0x4000, 64, 6, 0,
                             src, dst, sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535, 0, 0)
        self.frame(ip_tcp + payload)

    def udp(self, src, sport, dst, dport, payload):
        ip_udp = struct.pack(">BBHHHBBH4s4sHHHH",
                             0x45, 0, 28 + len(payload), self.packets & 0xFFFF, 0, 64, 17, 0,
                             src, dst, sport, dport, 8 + len(payload), 0)
        self.frame(ip_udp + payload)


def client(i, net=10):
    """A distinct client address per flow index."""
    return bytes([net, (i >> 16) & 0xFF, (i >> 8) & 0xFF, 1 + (i & 0xFF) % 254])


class Conn:
    """One TCP connection, client side only; isn is the SYN's number."""

    def __init__(self, w, i, dport, net=10):
        self.w = w
        self.src = client(i, net)
        self.sport = 20000 + i % 40000  # clear of 1900, 5353, 5355
        self.dport = dport
        self.isn = (i * 2654435761) & 0xFFFFFFFF
        self.next = self.isn + 1

    def syn(self):
        self.w.tcp(self.src, self.sport, SERVER, self.dport, self.isn, SYN)

    def send_at(self, offset, payload):
        """A segment at stream offset `offset` (0 is the first byte after the SYN)."""
        self.w.tcp(self.src, self.sport, SERVER, self.dport, self.isn + 1 + offset, ACK | PSH,
                   payload)

    def send(self, payload):
        self.w.tcp(self.src, self.sport, SERVER, self.dport, self.next, ACK | PSH, payload)
        self.next += len(payload)

    def syn_ack(self):
        """The server's SYN-ACK: its side of the connection starts."""
        self.server_isn = (self.isn * 40503 + 12345) & 0xFFFFFFFF
        self.server_next = self.server_isn + 1
        self.w.tcp(SERVER, self.dport, self.src, self.sport, self.server_isn, SYN | ACK)

    def reply(self, payload):
        self.w.tcp(SERVER, self.dport, self.src, self.sport, self.server_next, ACK | PSH, payload)
        self.server_next += len(payload)


def segments(data, size=1400):
    return [data[i:i + size] for i in range(0, len(data), size)]


# ---- syn-flood ----

def syn_flood(w, flows):
    flows = flows or 300000
    rng = random.Random(1)
    for i in range(flows):
        # Distinct (address, port) per SYN: 10.x.y.z from the index, a random port.
        src = client(i)
        w.tcp(src, rng.randint(1024, 65535), SERVER, 443, rng.getrandbits(32), SYN)
    return {"flows": flows}


# ---- ooo-flood ----

def tls_record(body):
    return b"\x16\x03\x01" + struct.pack(">H", len(body)) + body


def ooo_flood(w, flows):
    payload = bytes(range(256)) * 5 + b"x" * 120  # 1400 bytes, reused
    assert len(payload) == 1400
    hole = 100000
    # Phase 1: per-stream bound. A TLS record announcing a 16 KiB ClientHello
    # (its first bytes in order), then 50 segments far ahead, one stream at a time.
    tls_flows = 200
    start = b"\x16\x03\x01\x40\x00" + b"\x01\x00\x3f\xfc" + b"\x03\x03"
    for i in range(tls_flows):
        c = Conn(w, i, 443, net=11)
        c.syn()
        c.send_at(0, start)
        for k in range(50):
            c.send_at(len(start) + hole + k * 1400, payload)
    # Phase 2: the sensor-wide bound. 40 segments each, round-robin.
    http_flows = flows or 2400
    rounds = 40
    request = b"GET /ooo HTTP/1.1\r\nHost: ooo.example\r\n"
    conns = [Conn(w, i, 80, net=12) for i in range(http_flows)]
    for c in conns:
        c.syn()
    for c in conns:
        c.send_at(0, request)
    for k in range(rounds):
        for c in conns:
            c.send_at(len(request) + hole + k * 1400, payload)
    return {"tls_flows": tls_flows, "http_flows": http_flows,
            "unbounded_bytes": http_flows * rounds * len(payload)}


# ---- ooo-tiny, ooo-tiny-wide ----

def ooo_tiny(w, flows):
    # A request line in order (the HTTP reader waits for the rest of the
    # header block), then 100 one-byte segments beyond a hole: the 65th finds
    # the stream's 64 segments held and forces a gap (HTTP gap, each stream).
    flows = flows or 4096
    request = b"GET /tiny HTTP/1.1\r\nHost: tiny.example\r\n"
    conns = [Conn(w, i, 80, net=13) for i in range(flows)]
    for c in conns:
        c.syn()
    for c in conns:
        c.send_at(0, request)
    for k in range(100):
        for c in conns:
            c.send_at(len(request) + 1000 + 2 * k, b"x")
    return {"flows": flows}


def ooo_tiny_wide(w, flows):
    # DNS over TCP: a whole query in order (nDPI names it at once and is done
    # with the flow; the DNS reader holds nothing between messages), then 63
    # one-byte segments beyond a hole, under the per-stream bounds, held to
    # the end. 63 bytes waiting per stream, 63 allocations.
    flows = flows or 65536
    conns = [Conn(w, i, 53, net=19) for i in range(flows)]
    for c in conns:
        c.syn()
    for i, c in enumerate(conns):
        q = dns_query("w%d.tiny.example" % i)
        c.send_at(0, struct.pack(">H", len(q)) + q)
    for k in range(63):
        for c in conns:
            c.send_at(1000 + 2 * k, b"x")
    return {"flows": flows, "segments": flows * 63}


# ---- ndpi-tls-flood ----

def ndpi_tls_flood(w, flows):
    # A TLS handshake record announcing 16 KiB whose message is not a
    # ClientHello (11 = Certificate): our reader gives up at once (bad_hello),
    # nDPI keeps reading the record; 11 segments of it, never complete.
    flows = flows or 8192
    body = b"\x0b\x00\x3f\xfc" + bytes(16380)
    data = b"\x16\x03\x03\x40\x00" + body
    segs = segments(data)[:11]
    conns = [Conn(w, i, 443, net=20) for i in range(flows)]
    for c in conns:
        c.syn()
    for seg in segs:
        for c in conns:
            c.send(seg)
    return {"flows": flows}


# ---- reader-flood ----

def client_hello(name, total_body):
    """A ClientHello whose body is `total_body` bytes: SNI, then padding (21)."""
    name = name.encode()
    sni = struct.pack(">HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    fixed = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    pad_len = total_body - len(fixed) - 2 - len(sni) - 4
    assert pad_len >= 0
    extensions = sni + struct.pack(">HH", 21, pad_len) + bytes(pad_len)
    body = fixed + struct.pack(">H", len(extensions)) + extensions
    assert len(body) == total_body
    return b"\x01" + struct.pack(">I", total_body)[1:] + body


def header_lines(total, tag):
    """Header lines of `total` bytes or a little more."""
    line = b"X-Pad-" + tag + b": " + b"a" * 90 + b"\r\n"
    return line * (total // len(line) + 1)


def reader_flood(w, flows):
    # Phase 1: header blocks that never end, one stream at a time: too_long.
    endless = 100
    for i in range(endless):
        c = Conn(w, i, 80, net=14)
        c.syn()
        data = b"GET /endless HTTP/1.1\r\nHost: endless.example\r\n" + header_lines(70000, b"e")
        for seg in segments(data):
            c.send(seg)
    # Phase 2: readers holding 64 KiB each, round-robin.
    tls_flows = 300
    http_flows = flows or 1900
    streams = []
    for i in range(tls_flows):
        hello = client_hello("t%d.reader.example" % i, 65000)
        data = b"".join(tls_record(hello[j:j + 16384]) for j in range(0, len(hello), 16384))
        streams.append((Conn(w, i, 443, net=15), segments(data)))
    for i in range(http_flows):
        data = (b"GET /r HTTP/1.1\r\nHost: h%d.reader.example\r\n" % i
                + header_lines(33000, b"r") + b"\r\n")
        streams.append((Conn(w, i, 80, net=16), segments(data)))
    for c, _ in streams:
        c.syn()
    rounds = max(len(s) for _, s in streams)
    for k in range(rounds):
        for c, segs in streams:
            if k < len(segs):
                c.send(segs[k])
    # Phase 3: 600 HTTP streams left hanging with 60,000 bytes of header lines
    # (37.5 MiB of readers: the bound is reached); two seconds later, a TLS
    # and an HTTP victim, each split over two segments: the hanging readers,
    # idle for a second, make room, and both victims are read.
    hanging = 600
    for i in range(hanging):
        c = Conn(w, i, 80, net=17)
        c.syn()
        for seg in segments(b"GET /hang HTTP/1.1\r\nHost: hang.example\r\n"
                            + header_lines(60000, b"h")):
            c.send(seg)
    w.skip(2)
    hello = client_hello("victim.reader.example", 1800)
    record = tls_record(hello)
    c = Conn(w, 0, 443, net=18)
    c.syn()
    c.send(record[:1000])
    c.send(record[1000:])
    request = b"GET /v HTTP/1.1\r\nHost: victim.reader.example\r\n\r\n"
    c = Conn(w, 1, 80, net=18)
    c.syn()
    c.send(request[:20])
    c.send(request[20:])
    return {"endless": endless, "tls_flows": tls_flows, "http_flows": http_flows,
            "hanging": hanging}


# ---- server-flood ----

def server_flood(w, flows):
    # Phase 1: 100 responses whose header block never ends: too_long.
    endless = 100
    for i in range(endless):
        c = Conn(w, i, 80, net=21)
        c.syn()
        c.syn_ack()
        c.send(b"GET /e HTTP/1.1\r\nHost: e%d.server.example\r\n\r\n" % i)
        for seg in segments(b"HTTP/1.1 200 OK\r\n" + header_lines(70000, b"e")):
            c.reply(seg)
    # Phase 2, round-robin: each client asks once (the requests all fit), then
    # each server answers with 33,000 bytes of header lines and the blank line.
    http_flows = flows or 2200
    conns = [Conn(w, i, 80, net=22) for i in range(http_flows)]
    for c in conns:
        c.syn()
        c.syn_ack()
    for i, c in enumerate(conns):
        c.send(b"GET /s HTTP/1.1\r\nHost: s%d.server.example\r\n\r\n" % i)
    response = segments(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + header_lines(33000, b"s")
                        + b"\r\n")
    for seg in response:
        for c in conns:
            c.reply(seg)
    return {"endless": endless, "http_flows": http_flows, "requests": endless + http_flows}


# ---- dns-tcp-flood ----

def dns_query(name, qtype=1, qid=0x1234):
    q = b"".join(bytes([len(p)]) + p for p in name.encode().split(b".")) + b"\x00"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", qtype, 1)


def dns_tcp_flood(w, flows):
    flows = flows or 3000
    complete = 600
    conns = [Conn(w, i, 53, net=17) for i in range(flows)]
    for c in conns:
        c.syn()
    for c in conns:
        c.send(b"\xff\xff")
    streams = []
    for i, c in enumerate(conns[:complete]):
        message = dns_query("q%d.dnstcp.example" % i)
        message += bytes(65535 - len(message))
        streams.append((c, segments(message)))
    for k in range(len(streams[0][1])):
        for c, segs in streams:
            c.send(segs[k])
    return {"flows": flows, "completed": complete}


# ---- dns-loop ----

def dns_header(qid, response, qd, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, 0x8180 if response else 0x0100, qd, an, ns, ar)


def qname(name):
    return b"".join(bytes([len(p)]) + p for p in name.encode().split(b".")) + b"\x00"


def dns_loop(w, flows):
    counts = dict.fromkeys(["bad_pointer", "bad_rdata", "pointer_loop", "name_too_long", "truncated",
                            "ok_chain", "many_questions", "claimed_questions", "many_answers",
                            "cache_fill"], 0)
    messages = []
    # A name that is a pointer to itself (offset 12).
    for _ in range(1000):
        messages.append(("bad_pointer", dns_header(1, True, 1) + b"\xc0\x0c" + b"\x00\x01\x00\x01"))
    # Two pointers pointing at each other: 12 -> 14 -> 12 (the first points forward).
    for _ in range(500):
        messages.append(("bad_pointer", dns_header(2, True, 1) + b"\xc0\x0e\xc0\x0c"
                         + b"\x00\x01\x00\x01"))
    # A CNAME whose target points at itself (inside its own rdata): a record
    # whose data cannot be read is reported as bad_rdata, after the others.
    for _ in range(500):
        m = dns_header(3, True, 1, 1) + qname("self.example") + b"\x00\x01\x00\x01"
        rdata_at = len(m) + 2 + 10
        m += b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 2) + struct.pack(">H", 0xC000 | rdata_at)
        messages.append(("bad_rdata", m))

    # Backward chains: answer j's name points at answer j-1's name; answer 0's
    # at the question. Answer j's name takes j + 1 pointers.
    def chain(depth, qid):
        m = dns_header(qid, True, 1, depth) + qname("loop.example") + b"\x00\x01\x00\x01"
        prev = 12
        for _ in range(depth):
            here = len(m)
            m += struct.pack(">H", 0xC000 | prev) + struct.pack(">HHIH", 1, 1, 60, 4) + b"\x0a\x00\x00\x01"
            prev = here
        return m
    for _ in range(500):
        messages.append(("ok_chain", chain(64, 4)))
    for _ in range(500):
        messages.append(("pointer_loop", chain(65, 5)))
    # The longest name of one-byte labels a datagram holds (header claims 1 question).
    long_labels = dns_header(6, False, 1) + b"\x01a" * 32000 + b"\x00" + b"\x00\x01\x00\x01"
    for _ in range(100):
        messages.append(("name_too_long", long_labels))
    # 63-byte labels: 5 of them are over 255 octets.
    big_labels = dns_header(7, True, 1) + (b"\x3f" + b"b" * 63) * 5 + b"\x00" + b"\x00\x01\x00\x01"
    for _ in range(500):
        messages.append(("name_too_long", big_labels))
    # 500 questions: the first a name, the others pointers to it.
    many = dns_header(8, False, 500) + qname("many.example") + b"\x00\x01\x00\x01" \
        + (b"\xc0\x0c" + b"\x00\x01\x00\x01") * 499
    for _ in range(1000):
        messages.append(("many_questions", many))
    # 65535 questions claimed, 10,000 sent: truncated after them.
    claimed = dns_header(9, False, 65535) + qname("claim.example") + b"\x00\x01\x00\x01" \
        + (b"\xc0\x0c" + b"\x00\x1c\x00\x01") * 9999
    for _ in range(50):
        messages.append(("claimed_questions", claimed))
    # A response of 4000 A records (all named by a pointer to the question).
    answers = dns_header(10, True, 1, 4000) + qname("answers.example") + b"\x00\x01\x00\x01" \
        + (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + b"\x0a\x00\x00\x02") * 4000
    for _ in range(200):
        messages.append(("many_answers", answers))
    # The address -> name cache: 1000 responses of 60 A records each, every
    # address a new one (60,000 of them for 8192 entries).
    for n in range(1000):
        m = dns_header(11, True, 1, 60) + qname("c%d.cache.example" % n) + b"\x00\x01\x00\x01"
        for k in range(60):
            a = n * 60 + k
            m += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 3600, 4) + bytes([10, 100 + (a >> 16), (a >> 8) & 255, a & 255])
        messages.append(("cache_fill", m))
    rng = random.Random(4)
    rng.shuffle(messages)
    clients = flows or 1000
    for n, (kind, m) in enumerate(messages):
        assert len(m) <= 65507, (kind, len(m))
        counts[kind] += 1
        i = n % clients
        w.udp(client(i, net=18), 1024 + i, SERVER, 53, m)
    return {
        "bad_pointer": counts["bad_pointer"],
        "bad_rdata": counts["bad_rdata"],
        "pointer_loop": counts["pointer_loop"],
        "name_too_long": counts["name_too_long"],
        "truncated": counts["claimed_questions"],
        "messages": len(messages),
        # one per response whose question could be read
        "dns_answer": counts["ok_chain"] + counts["pointer_loop"] + counts["many_answers"]
        + counts["bad_rdata"] + counts["cache_fill"],
        # 32 per query of more than 32 questions; the long-name queries give none
        "dns_query": 32 * (counts["many_questions"] + counts["claimed_questions"]),
    }


# ---- quic-flood ----

def quic_flood(w, flows):
    # 600 Google QUIC (Q025) clients, each one datagram with a STREAM frame on
    # the crypto stream far out (offset 65000): each QUIC reader makes room
    # for it (~73 KiB) and waits, 43 MiB in all. Two seconds later, a TLS
    # ClientHello over two segments: idle QUIC readers make room, and it is read.
    n = flows or 600
    for i in range(n):
        header = (bytes([0x0d]) + struct.pack(">Q", 0x1122334455660000 + i) + b"Q025" + b"\x01"
                  + bytes(12) + b"\x00")
        frame = (bytes([0xa4, 0x01]) + struct.pack("<H", 65000) + struct.pack("<H", 16) + b"CHLO"
                 + bytes(12))
        w.udp(client(i, net=19), 30000 + i % 30000, SERVER, 443, header + frame)
    w.skip(2)
    record = tls_record(client_hello("victim.quic.example", 1800))
    c = Conn(w, 0, 443, net=18)
    c.syn()
    c.send(record[:1000])
    c.send(record[1000:])
    return {"flows": n}


# ---- http-hosts-flood ----

def http_hosts_flood(w, flows):
    # 17,000 HTTP connections, each one whole request never answered: what
    # each keeps to pair responses with requests once counted against the
    # readers' 32 MiB and could not be given up, and the bound stayed
    # reached. Two seconds later, a two-segment ClientHello must be read.
    n = flows or 17000
    for i in range(n):
        c = Conn(w, i, 80, net=20)
        c.syn()
        c.send(b"GET /poll HTTP/1.1\r\nHost: poll%d.hosts.example\r\n\r\n" % i)
    w.skip(2)
    record = tls_record(client_hello("victim.hosts.example", 1800))
    c = Conn(w, 0, 443, net=18)
    c.syn()
    c.send(record[:1000])
    c.send(record[1000:])
    return {"flows": n}


CAPTURES = {
    "syn-flood": syn_flood,
    "ooo-flood": ooo_flood,
    "ooo-tiny": ooo_tiny,
    "ooo-tiny-wide": ooo_tiny_wide,
    "ndpi-tls-flood": ndpi_tls_flood,
    "reader-flood": reader_flood,
    "server-flood": server_flood,
    "dns-tcp-flood": dns_tcp_flood,
    "dns-loop": dns_loop,
    "quic-flood": quic_flood,
    "http-hosts-flood": http_hosts_flood,
}


def make(name, out, flows):
    w = Writer(out)
    expect = CAPTURES[name](w, flows)
    w.flush()
    out.flush()
    extra = "".join(", %s=%s" % kv for kv in expect.items())
    sys.stderr.write("make-hostile: %s: packets %d, bytes %d%s\n" % (name, w.packets, w.bytes, extra))


def main(argv):
    flows = 0
    if "--flows" in argv:
        i = argv.index("--flows")
        flows = int(argv[i + 1])
        del argv[i:i + 2]
    if argv[:1] == ["--list"]:
        print("\n".join(CAPTURES))
        return 0
    if len(argv) == 2 and argv[0] == "--stdout" and argv[1] in CAPTURES:
        try:
            make(argv[1], sys.stdout.buffer, flows)
        except BrokenPipeError:
            sys.stderr.write("make-hostile: %s: reader went away\n" % argv[1])
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        return 0
    if not argv or argv[0].startswith("-") or any(n not in CAPTURES for n in argv[1:]):
        sys.stderr.write(__doc__)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    for name in argv[1:] or [n for n in CAPTURES if n != "ooo-tiny-wide"]:
        with open(os.path.join(argv[0], name + ".pcap"), "wb") as out:
            make(name, out, flows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Writes the HTTP/2 test data of tests/unit/test_http2.c with tshark, from
captures of the shared corpus and their TLS key logs:

  NAME.h2      the decrypted bytes of one TLS connection, both directions, in
               the order tshark's `follow,tls,raw` gives them: records of one
               byte 'c' (client to server) or 's', a 4-byte big-endian length,
               then the bytes;
  NAME.fields  what tshark's HTTP/2 dissector decodes from the same capture,
               the truth the test compares the reader with: for every header
               block, in order within each direction,
                 block DIR STREAM END_STREAM PUSH COUNT
               then COUNT lines NAME<TAB>VALUE, the exact bytes (PDML's hex
               values), with \\, \\t and bytes outside 0x20..0x7e as \\xHH.

Run from the repository's root:
  tests/integration/make-http2-data.py [--corpus DIR] [--out DIR] [--all]
--corpus defaults to ../shared/corpus, --out to tests/data/http2. --all adds
captures whose licence keeps them out of the repository (write them outside
it, then run build/asan/test_http2 with HTTP2_TEST_DATA=that directory).
--sweep (with --out outside the repository) writes every HTTP/2 connection
of every capture in the corpus's browser/ folder, for a wider comparison.
--seeds writes tests/fuzz/seeds/http2/ from this directory's .h2 files (their
DATA frames left out) and from connections made by hand, in the input format
of tests/fuzz/fuzz_http2.c; it needs no tshark.
"""
import glob
import argparse
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
TSHARK_OPTIONS = ["-n", "-2", "-o", "tcp.desegment_tcp_streams:TRUE",
                  "-o", "tls.desegment_ssl_records:TRUE",
                  "-o", "tls.desegment_ssl_application_data:TRUE"]

# name, capture, key log (relative to the corpus), tcp.stream, in the repository
CONNECTIONS = [
    ("curl-google", "tls/snet_tls1.3_curl_google.pcap", "tls/snet_tls1.3_curl_google.keys", 0, True),
    ("chrome-accept-news", "browser/scenario-accept.pcap", "browser/scenario-accept.keylog", 0, True),
    ("chrome-accept-analytics", "browser/scenario-accept.pcap", "browser/scenario-accept.keylog", 10, True),
    ("chrome-accept-facebook", "browser/scenario-accept.pcap", "browser/scenario-accept.keylog", 4, True),
    # No licence stated (Wireshark bug 11079 attachment): not copied into the repository.
    ("nghttp-draft16", "tls/lek_http2-16-ssl.pcapng", "tls/lek_http2-16-ssl.keys", 1, False),
    # FoxIO License 1.1, non-commercial: test data only, not copied into the repository.
    ("chrome107-cloudflare", "tls/ja4_chrome-cloudflare-quic-with-secrets.pcapng",
     "tls/ja4_chrome-cloudflare-quic-with-secrets.keys", 0, False),
]


def tshark(capture, keys, *args):
    return subprocess.run(["tshark", "-r", capture, "-o", "tls.keylog_file:" + keys,
                           *TSHARK_OPTIONS, *args],
                          check=True, capture_output=True).stdout


def follow(capture, keys, stream):
    """[(is_server, bytes)] in tshark's order; which node is the client is
    told by the preface, not by the node numbers."""
    text = tshark(capture, keys, "-q", "-z", "follow,tls,raw,%d" % stream).decode()
    chunks = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("=", "Follow:", "Filter:", "Node ")):
            continue
        chunks.append((line.startswith("\t"), bytes.fromhex(line.strip())))
    first = {}
    for node, data in chunks:
        first.setdefault(node, bytearray())
        if len(first[node]) < len(PREFACE):
            first[node] += data
    client = [node for node, data in first.items() if data.startswith(PREFACE)]
    if len(client) != 1:
        sys.exit("stream %d: no client preface" % stream)
    return [(node != client[0], data) for node, data in chunks]


def server_ports(capture, keys):
    """{tcp.stream: the server's port}, from the ClientHellos."""
    out = tshark(capture, keys, "-Y", "tls.handshake.type==1", "-T", "fields",
                 "-e", "tcp.stream", "-e", "tcp.dstport").decode()
    ports = {}
    for line in out.splitlines():
        stream, port = line.split("\t")
        ports[int(stream)] = int(port)
    return ports


def child(element, name):
    for f in element:
        if f.get("name") == name:
            return f
    return None


def blocks(capture, keys, streams):
    """{tcp.stream: every header block tshark decodes there, as
    (is_server, stream, end_stream, push, [(name, value)])}."""
    ports = server_ports(capture, keys)
    xml = tshark(capture, keys, "-Y", "http2 && tcp.stream in {%s}" %
                 ", ".join(str(s) for s in streams), "-T", "pdml")
    found = {s: [] for s in streams}
    for packet in ET.fromstring(xml).iter("packet"):
        from_server = None
        for proto in packet.iter("proto"):
            if proto.get("name") == "tcp":
                tcp_stream = int(child(proto, "tcp.stream").get("show"))
                from_server = int(child(proto, "tcp.srcport").get("show")) == ports[tcp_stream]
        out = found[tcp_stream]
        for proto in packet.iter("proto"):
            if proto.get("name") != "http2":
                continue
            for frame in proto:
                if frame.get("name") != "http2.stream":
                    continue
                fields = []
                for header in frame:
                    if header.get("name") != "http2.header":
                        continue
                    name = child(header, "http2.header.name")
                    value = child(header, "http2.header.value")
                    fields.append((bytes.fromhex(name.get("value", "") if name is not None else ""),
                                   bytes.fromhex(value.get("value", "") if value is not None else "")))
                if not fields:
                    continue
                frame_type = int(child(frame, "http2.type").get("show"))
                flags = int(child(frame, "http2.flags").get("show"), 16)
                stream_id = int(child(frame, "http2.streamid").get("show"))
                push = frame_type == 5
                if push:
                    stream_id = int(child(frame, "http2.push_promise.promised_stream_id").get("show"))
                out.append((from_server, stream_id, 0 if push else flags & 1, int(push), fields))
    return found


def escape(data):
    out = []
    for b in data:
        if b == 0x5c:
            out.append("\\\\")
        elif 0x20 <= b <= 0x7e:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def write(out_dir, name, capture, stream, chunks, found):
    with open(os.path.join(out_dir, name + ".h2"), "wb") as f:
        for is_server, data in chunks:
            f.write(b"s" if is_server else b"c")
            f.write(struct.pack(">I", len(data)))
            f.write(data)
    with open(os.path.join(out_dir, name + ".fields"), "w") as f:
        f.write("# %s tcp.stream %d: header blocks as tshark decodes them "
                "(tests/integration/make-http2-data.py)\n" % (os.path.basename(capture), stream))
        for from_server, stream_id, end_stream, push, fields in found:
            f.write("block %s %d %d %d %d\n" % ("s" if from_server else "c", stream_id,
                                               end_stream, push, len(fields)))
            for n, v in fields:
                f.write("%s\t%s\n" % (escape(n), escape(v)))
    print("%s: %d records, %d bytes; %d header blocks, %d fields" % (
        name, len(chunks), sum(len(d) for _, d in chunks), len(found),
        sum(len(b[4]) for b in found)))


def sweep(corpus, out_dir):
    for capture in sorted(glob.glob(os.path.join(corpus, "browser", "*.pcap"))):
        keys = capture[:-len(".pcap")] + ".keylog"
        base = os.path.basename(capture)[:-len(".pcap")]
        chunks = {}
        for stream in sorted(server_ports(capture, keys)):
            try:
                chunks[stream] = follow(capture, keys, stream)
            except SystemExit:
                continue  # not HTTP/2 (or nothing decrypted)
        if not chunks:
            continue
        found = blocks(capture, keys, sorted(chunks))
        for stream in sorted(chunks):
            write(out_dir, "%s-%d" % (base, stream), capture, stream, chunks[stream], found[stream])


SEEDS = "tests/fuzz/seeds/http2"


def frame(frame_type, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags]) + \
        struct.pack(">I", stream) + payload


def literal(name, value):
    """HPACK: a literal field without indexing, new name, no Huffman (short strings)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def seed_records(records):
    """The fuzzer's input: the plan (0: the preface is in the bytes), then records."""
    out = bytearray(4)
    for is_server, data in records:
        for i in range(0, max(len(data), 1), 0x7fff):
            piece = data[i:i + 0x7fff]
            out += struct.pack(">H", (0x8000 if is_server else 0) | len(piece)) + piece
    return bytes(out)


def without_data(records):
    """The records with the bytes of DATA frames left out."""
    keep = {False: [], True: []}
    streams = {False: b"".join(d for s, d in records if not s),
               True: b"".join(d for s, d in records if s)}
    for side, data in streams.items():
        mask = bytearray(b"\1" * len(data))
        pos = len(PREFACE) if not side else 0
        while pos + 9 <= len(data):
            length = int.from_bytes(data[pos:pos + 3], "big")
            if data[pos + 3] == 0:
                mask[pos:pos + 9 + length] = bytes(min(9 + length, len(data) - pos))
            pos += 9 + length
        keep[side] = mask
    out, offset = [], {False: 0, True: 0}
    for side, data in records:
        start = offset[side]
        offset[side] += len(data)
        kept = bytes(b for b, k in zip(data, keep[side][start:start + len(data)]) if k)
        if kept:
            out.append((side, kept))
    return out


def made_seeds():
    settings = frame(4, 0, 0, b"\x00\x03\x00\x00\x00\x64")
    big_table = frame(4, 0, 0, b"\x00\x01\x00\x01\x00\x00")  # SETTINGS_HEADER_TABLE_SIZE 65536
    request = b"\x82\x87\x84\x41\x0bexample.com" + literal(b"cookie", b"a=1") + literal(b"cookie", b"b=2")
    response = b"\x88" + literal(b"set-cookie", b"id=42; Path=/")
    seeds = {}
    # HEADERS padded, with priority, continued twice; the response too.
    block = request
    seeds["padded-priority-continuation"] = [
        (False, PREFACE + settings),
        (False, frame(1, 0x08 | 0x20 | 0x1, 1, b"\x04" + b"\x80\x00\x00\x03\x10" + block[:5] + b"\0" * 4)),
        (False, frame(9, 0, 1, block[5:11]) + frame(9, 0x4, 1, block[11:])),
        (True, settings + frame(4, 1, 0, b"")),
        (True, frame(1, 0x8, 1, b"\x02" + response[:3] + b"\0\0") + frame(9, 0x4, 1, response[3:])),
        (True, frame(0, 0x1, 1, b"hello")),
    ]
    # A PUSH_PROMISE (padded, continued), then the response naming what it indexed.
    promise = b"\x82\x87\x41\x01x\x44\x04/p.c" + b"\x40\x07x-token\x02ok"
    seeds["push-promise"] = [
        (False, PREFACE + settings + frame(1, 0x5, 1, b"\x82\x87\x84\x41\x01x")),
        (True, settings + frame(5, 0x8, 1, b"\x01\x00\x00\x00\x02" + promise[:4] + b"\0")),
        (True, frame(9, 0x4, 1, promise[4:]) + frame(1, 0x4, 1, b"\x88\xbe")),
        (True, frame(1, 0x5, 2, b"\x88")),
    ]
    # The client allows 65536: the server's block starts with a table size update to it.
    seeds["table-size"] = [
        (False, PREFACE + big_table + frame(1, 0x5, 1, request)),
        (True, settings + frame(4, 1, 0, b"") + frame(1, 0x4, 1, b"\x3f\xe1\xff\x03" + response)),
        (False, frame(4, 0, 0, b"\x00\x01\x00\x00\x00\x00") + frame(4, 1, 0, b"")),
        (True, frame(4, 1, 0, b"") + frame(1, 0x5, 3, b"\x20\x88")),
    ]
    # Frames passed over, then a GOAWAY with debug data.
    seeds["skipped-goaway"] = [
        (False, PREFACE + settings + frame(8, 0, 0, b"\0\0\x10\0") + frame(2, 0, 3, b"\0\0\0\1\x10")),
        (False, frame(0xa, 0, 0, b"\0\3abc") + frame(0xfb, 0xff, 7, b"x") + frame(6, 0, 0, b"\0" * 8)),
        (False, frame(1, 0x5, 1, request) + frame(3, 0, 1, b"\0\0\0\x08")),
        (True, settings + frame(7, 0, 0, b"\0\0\0\1\0\0\0\0bye")),
    ]
    return seeds


def write_seeds():
    os.makedirs(SEEDS, exist_ok=True)
    for path in sorted(glob.glob("tests/data/http2/*.h2")):
        data = open(path, "rb").read()
        records, pos = [], 0
        while pos < len(data):
            length = struct.unpack(">I", data[pos + 1:pos + 5])[0]
            records.append((data[pos:pos + 1] == b"s", data[pos + 5:pos + 5 + length]))
            pos += 5 + length
        name = os.path.basename(path)[:-len(".h2")]
        with open(os.path.join(SEEDS, name), "wb") as f:
            f.write(seed_records(without_data(records)))
    for name, records in made_seeds().items():
        with open(os.path.join(SEEDS, name), "wb") as f:
            f.write(seed_records(records))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--out", default="tests/data/http2")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--seeds", action="store_true")
    args = parser.parse_args()
    if args.seeds:
        write_seeds()
        return
    os.makedirs(args.out, exist_ok=True)
    if args.sweep:
        sweep(args.corpus, args.out)
        return
    for name, capture, keys, stream, in_repo in CONNECTIONS:
        if not in_repo and not args.all:
            continue
        capture = os.path.join(args.corpus, capture)
        keys = os.path.join(args.corpus, keys)
        write(args.out, name, capture, stream, follow(capture, keys, stream),
              blocks(capture, keys, [stream])[stream])


if __name__ == "__main__":
    main()

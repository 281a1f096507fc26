#!/usr/bin/env python3
"""Writes tests/data/tls/ for tests/unit/test_tlsdec.c from the shared TLS
corpus (../shared/corpus/tls, see its README.txt): for each capture below,
its key log (NAME.keys) and tshark's decrypted plaintext summary
(NAME.plain.tsv) copied as they are, and for each TCP stream that tshark
decrypted, the bytes each side sent as TCP reassembled them
(`tshark -r CAP -q -z follow,tcp,raw,N`, which drops retransmissions and
puts segments in order):

    NAME.streamN.client.bin   the client's bytes, from the first one
    NAME.streamN.server.bin   the server's
    NAME.streamN.order        the segments' sizes in the order they came,
                              one "client LEN" or "server LEN" a line

and tests/data/tls/streams.tsv, one line a stream: the capture, the stream,
the version and cipher suite of its ServerHello and the ALPN that tshark
shows (ServerHello in TLS 1.2, EncryptedExtensions in 1.3; "-" for none).
None of it comes from trackwatch: it is the independent truth the decryptor
is checked against.

    tests/integration/make-tls-streams.py [CORPUS_DIR]     (from the top of the tree)

With --seeds it writes tests/fuzz/seeds/tlsdec/ instead, from what is in
tests/data/tls: the connections whose secrets tests/fuzz/fuzz_tlsdec.c
holds, as its chunks in the order they came, and a TLS 1.3 connection made
up here whose protected records the harness seals itself (see its header).
"""
import os
import shutil
import subprocess
import sys

# The captures whose licence lets us keep them (see tests/data/tls/README.md).
CAPTURES = [
    "illustrated-tls12",
    "illustrated-tls13",
    "illustrated-tls13-archive",
    "zeek_tls12-decryption",
    "snet_TLS1_ECDHE-RSA-AES128-SHA",
    "snet_TLS1_1_ECDHE-RSA-AES128-SHA",
    "snet_TLS1_1_ECDHE-RSA-AES256-SHA",
    "snet_TLS1_2_AES128-GCM-SHA256_auth",
    "snet_TLS1_2_AES256-GCM-SHA384_auth",
    "snet_TLS1_2_ECDHE-ECDSA-AES128-GCM-SHA256_auth",
    "snet_TLS1_2_ECDHE-ECDSA-AES256-GCM-SHA384_auth",
    "snet_TLS1_2_ECDHE-ECDSA-CHACHA20-POLY1305_auth",
    "snet_TLS1_2_ECDHE-RSA-AES128-GCM-SHA256_auth",
    "snet_TLS1_2_ECDHE-RSA-AES128-SHA256_auth",
    "snet_TLS1_2_ECDHE-RSA-AES256-GCM-SHA384_auth",
    "snet_TLS1_2_ECDHE-RSA-AES256-SHA384_auth",
    "snet_TLS1_2_ECDHE-RSA-CHACHA20-POLY1305_auth",
    "snet_TLS1_3_TLS_AES_128_CCM_SHA256",
    "snet_TLS1_3_TLS_AES_128_GCM_SHA256",
    "snet_TLS1_3_TLS_AES_256_GCM_SHA384",
    "snet_TLS1_3_TLS_CHACHA20_POLY1305_SHA256",
    "snet_tls1.3_curl_google",
    "snet_tls1.3_keyupdates_aes256",
    "snet_tls1.3_session_resumption",
]

OUT = "tests/data/tls"

TSHARK_TLS = ["-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tls.desegment_ssl_records:TRUE"]


def tshark(*args):
    return subprocess.run(["tshark", "-n", *args], check=True, capture_output=True,
                          text=True).stdout


def follow(path, stream):
    """The segments of one TCP stream in order: a list of (side, bytes), side 0
    for the node that sent first (follow's "Node 0"), 1 for the other."""
    out = tshark("-r", path, "-q", "-z", f"follow,tcp,raw,{stream}")
    body = out.split("=" * 67)[1]
    segments = []
    for line in body.splitlines():
        if not line.strip() or ":" in line:
            continue
        side = 1 if line.startswith("\t") else 0
        segments.append((side, bytes.fromhex(line.strip())))
    return segments


def hello_fields(path, keys):
    """Per tcp.stream: (version:suite, alpn) from the ServerHello and the
    EncryptedExtensions, as tshark decrypts them with the key log."""
    out = tshark("-r", path, "-o", f"tls.keylog_file:{keys}", *TSHARK_TLS,
                 "-Y", "tls.handshake.type == 2 or tls.handshake.type == 8",
                 "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
                 "-e", "tcp.stream", "-e", "tls.handshake.type",
                 "-e", "tls.handshake.extensions.supported_version",
                 "-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite",
                 "-e", "tls.handshake.extensions_alpn_str")
    fields = {}
    for line in out.splitlines():
        stream, types, supported, versions, suites, alpn = (line.split("\t") + [""] * 6)[:6]
        entry = fields.setdefault(int(stream), {"version": "", "suite": "", "alpn": ""})
        types = types.split("|")
        if "2" in types:
            version = supported.split("|")[-1] if supported else versions.split("|")[0]
            entry["version"] = version
            entry["suite"] = suites.split("|")[0]
        if alpn:
            entry["alpn"] = alpn.split("|")[-1]
    return fields


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/tls"
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for name in CAPTURES:
        path = next(os.path.join(corpus, name + ext) for ext in (".pcap", ".pcapng")
                    if os.path.exists(os.path.join(corpus, name + ext)))
        keys = os.path.join(corpus, name + ".keys")
        shutil.copyfile(keys, os.path.join(OUT, name + ".keys"))
        shutil.copyfile(os.path.join(corpus, name + ".plain.tsv"),
                        os.path.join(OUT, name + ".plain.tsv"))
        streams = sorted({int(line.split("\t")[0]) for line in
                          open(os.path.join(corpus, name + ".plain.tsv")).read().splitlines()[1:]})
        fields = hello_fields(path, keys)
        for stream in streams:
            segments = follow(path, stream)
            # The client is the side whose first record is a ClientHello.
            first = {}
            for side, data in segments:
                first.setdefault(side, data)
            client = 0 if first.get(0, b"")[5:6] == b"\x01" else 1
            if first.get(client, b"")[5:6] != b"\x01":
                sys.exit(f"{name} stream {stream}: no ClientHello")
            base = os.path.join(OUT, f"{name}.stream{stream}")
            sides = {"client": bytearray(), "server": bytearray()}
            with open(base + ".order", "w") as order:
                for side, data in segments:
                    who = "client" if side == client else "server"
                    sides[who] += data
                    order.write(f"{who} {len(data)}\n")
            for who, data in sides.items():
                with open(f"{base}.{who}.bin", "wb") as f:
                    f.write(data)
            entry = fields.get(stream, {})
            version = entry.get("version", "")
            suite = entry.get("suite", "")
            rows.append((name, stream, version, suite, entry.get("alpn") or "-",
                         len(sides["client"]), len(sides["server"])))
    with open(os.path.join(OUT, "streams.tsv"), "w") as f:
        f.write("# written by tests/integration/make-tls-streams.py from tshark's reading of the corpus\n")
        f.write("capture\tstream\tversion\tsuite\talpn\tclient_bytes\tserver_bytes\n")
        for row in rows:
            f.write("\t".join(str(v) for v in row) + "\n")
    print(f"{len(rows)} streams of {len(CAPTURES)} captures in {OUT}")


# The captures fuzz_tlsdec.c has the secrets of.
FUZZ_SEEDED = [
    "illustrated-tls12",
    "illustrated-tls13",
    "zeek_tls12-decryption",
    "snet_TLS1_ECDHE-RSA-AES128-SHA",
    "snet_TLS1_2_ECDHE-RSA-AES256-SHA384_auth",
    "snet_TLS1_2_ECDHE-ECDSA-CHACHA20-POLY1305_auth",
    "snet_TLS1_3_TLS_AES_128_CCM_SHA256",
    "snet_tls1.3_keyupdates_aes256",
]
SEEDS = "tests/fuzz/seeds/tlsdec"


def chunk(server, data, seal=None):
    """One harness chunk: H (bit 7 server, bit 6 sealed, bits 0-2 the secret), length, bytes."""
    h = (0x80 if server else 0) | (0x40 | seal if seal is not None else 0)
    return bytes([h]) + len(data).to_bytes(2, "big") + data


def handshake(kind, body):
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def record(kind, body):
    return bytes([kind, 3, 3]) + len(body).to_bytes(2, "big") + body


def vector(body, length_bytes=2):
    return len(body).to_bytes(length_bytes, "big") + body


def extension(kind, body):
    return kind.to_bytes(2, "big") + vector(body)


HELLO_RETRY_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def made_up_tls13(retry=False, early=False):
    """A TLS 1.3 connection (TLS_AES_128_GCM_SHA256) for the harness's made-up secrets."""
    session = bytes(range(32))
    extensions = extension(43, vector(b"\x03\x04", 1)) + extension(16, vector(vector(b"h2", 1)))
    if early:
        extensions += extension(42, b"")
    client_hello = record(22, handshake(1, b"\x03\x03" + b"\x42" * 32 + vector(session, 1) +
                                        vector(b"\x13\x01") + vector(b"\x00", 1) +
                                        vector(extensions)))
    def server_hello(random):
        return record(22, handshake(2, b"\x03\x03" + random + vector(session, 1) + b"\x13\x01\x00" +
                                    vector(extension(43, b"\x03\x04"))))
    ccs = record(20, b"\x01")
    finished = handshake(20, b"\xf1" * 32)
    encrypted_extensions = handshake(8, vector(extension(16, vector(vector(b"h2", 1)))))
    ticket = handshake(4, b"\x00\x00\x0e\x10" + b"\x01\x02\x03\x04" + vector(b"\x00", 1) +
                       vector(b"ticket") + vector(b""))
    out = b"\x00"
    out += chunk(0, client_hello)
    if early:
        out += chunk(0, record(23, b"\x5a" * 40))
    if retry:
        out += chunk(1, server_hello(HELLO_RETRY_RANDOM) + ccs)
        out += chunk(0, ccs + client_hello)
    out += chunk(1, server_hello(b"\x53" * 32) + (b"" if retry else ccs))
    out += chunk(1, encrypted_extensions + finished + b"\x16", seal=0)
    out += chunk(1, ticket + b"\x16", seal=1)
    out += chunk(1, b"HTTP/1.1 200 OK\r\n\r\n" + b"\x17" + b"\x00" * 7, seal=1)
    out += chunk(1, handshake(24, b"\x01") + b"\x16", seal=1)
    out += chunk(1, b"after the update" + b"\x17", seal=2)
    if not retry:
        out += chunk(0, ccs)
    out += chunk(0, finished + b"\x16", seal=0)
    out += chunk(0, b"GET / HTTP/1.1\r\n\r\n" + b"\x17", seal=1)
    out += chunk(0, handshake(24, b"\x00") + b"\x16", seal=1)
    out += chunk(0, b"more" + b"\x17", seal=2)
    out += chunk(0, b"\x01\x00" + b"\x15", seal=2)
    return out


def write_seeds():
    os.makedirs(SEEDS, exist_ok=True)
    for name in FUZZ_SEEDED:
        base = os.path.join(OUT, f"{name}.stream0")
        sides = {who: open(f"{base}.{who}.bin", "rb").read() for who in ("client", "server")}
        at = {"client": 0, "server": 0}
        chunks = b""
        for line in open(base + ".order").read().splitlines():
            who, length = line.split()
            data = sides[who][at[who]:at[who] + int(length)]
            at[who] += int(length)
            chunks += chunk(who == "server", data)
        for flags, suffix in ((0, "keys"), (1, "late-keys")):
            with open(os.path.join(SEEDS, f"{name}-{suffix}"), "wb") as f:
                f.write(bytes([flags]) + chunks)
    for name, data in (("made-tls13", made_up_tls13()),
                       ("made-tls13-retry", made_up_tls13(retry=True)),
                       ("made-tls13-early", made_up_tls13(early=True))):
        with open(os.path.join(SEEDS, name), "wb") as f:
            f.write(data)
    print(f"seeds in {SEEDS}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seeds"]:
        write_seeds()
    else:
        main()

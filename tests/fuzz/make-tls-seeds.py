#!/usr/bin/env python3
"""Writes fuzz_tls seeds from the test captures: the first bytes of one
direction of a TLS connection, as reassembled from TCP by tshark
(`tshark -q -z follow,tcp,raw,STREAM`), up to the end of the record that
completes the ClientHello or ServerHello. Each is written twice, with the
harness's chunk-plan prefix for "one chunk" and for a few mixed chunk sizes
(see tests/fuzz/fuzz_tls.c), as seeds/tls/CAPTURE-STREAM-client|server-PLAN;
then a few streams made by hand for edge cases, as seeds/tls/made-NAME.
    tests/fuzz/make-tls-seeds.py              (from the top of the tree)
    tests/fuzz/make-tls-seeds.py --c FILE STREAM client|server
                                              prints those bytes as a C array
"""
import os
import subprocess
import sys

STREAMS = [
    ("tls_alert.pcap", 0),
    ("browser-accept-http.pcap", 2),    # post-quantum ClientHello, two segments
    ("browser-accept-http.pcap", 10),
    ("KakaoTalk_chat.pcap", 2),         # no server_name
    ("KakaoTalk_chat.pcap", 7),
    ("KakaoTalk_chat.pcap", 18),        # no extensions at all
    ("http_ipv6.pcap", 11),
]

# The harness's first byte is the count of chunk-size bytes that follow it.
PLANS = {"whole": b"\x00", "mixed": b"\x04\x01\x07\xc8\x03"}


def follow(path, stream):
    """The bytes each side sent, in order: (client, server)."""
    out = subprocess.run(
        ["tshark", "-r", path, "-q", "-z", f"follow,tcp,raw,{stream}"],
        check=True, capture_output=True, text=True).stdout
    sides = [bytearray(), bytearray()]
    body = out.split("=" * 67)[1]
    for line in body.splitlines():
        if not line.strip() or ":" in line:
            continue
        side = 1 if line.startswith("\t") else 0
        sides[side] += bytes.fromhex(line.strip())
    return bytes(sides[0]), bytes(sides[1])


def hello_prefix(data):
    """The records up to and including the one that completes the first hello,
    or the first record when there is none (tls_alert's server sends an alert)."""
    handshake, pos = b"", 0
    while pos + 5 <= len(data):
        length = int.from_bytes(data[pos + 3:pos + 5], "big")
        if data[pos] == 22:
            handshake += data[pos + 5:pos + 5 + length]
        pos += 5 + length
        if len(handshake) >= 4 and len(handshake) >= 4 + int.from_bytes(handshake[1:4], "big"):
            return data[:pos]
    return data[:5 + int.from_bytes(data[3:5], "big")]


HELLO_RETRY_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def vec(n, data):
    return len(data).to_bytes(n, "big") + data


def ext(kind, data):
    return kind.to_bytes(2, "big") + vec(2, data)


def record(kind, body):
    return bytes([kind, 3, 3]) + vec(2, body)


def client_hello(extensions):
    body = (b"\x03\x03" + b"\x11" * 32 + vec(1, b"\x22" * 32) + vec(2, b"\x13\x01\x13\x02")
            + vec(1, b"\x00") + vec(2, extensions))
    return b"\x01" + vec(3, body)


def server_hello(random, extensions):
    body = b"\x03\x03" + random + vec(1, b"") + b"\x13\x01\x00" + vec(2, extensions)
    return b"\x02" + vec(3, body)


def sni(name):
    return ext(0, vec(2, b"\x00" + vec(2, name)))


def handmade():
    """Edge cases, as streams: name -> bytes."""
    tls13 = ext(43, b"\x03\x04") + ext(51, b"\x00\x1d")
    retry = server_hello(HELLO_RETRY_RANDOM, tls13)
    real = server_hello(bytes(range(32)), tls13)
    grease = client_hello(sni(b"a.example") + ext(43, vec(1, bytes.fromhex("0a0a03041a1a0303")))
                          + ext(0xfe0d, b"\x01") + ext(16, vec(2, b"".join(
                              vec(1, bytes([97 + i]) * 100) for i in range(3)))))
    return {
        "sslv2": bytes.fromhex("802e0103010015000000100300800100800700c0"),
        "alert-first": bytes.fromhex("15030100020246"),
        "record-too-long": bytes.fromhex("1603014801010000"),
        "hello-retry": record(22, retry) + record(20, b"\x01") + record(22, real),
        "hello-retry-twice": record(22, retry) + record(22, retry),
        "two-records": record(22, grease[:40]) + record(22, grease[40:]),
        "sni-nul": record(22, client_hello(sni(b"evil.example\x00.good.example"))),
        "extension-overflow": record(22, client_hello(sni(b"a.example") + b"\x00\x2b\x00\x64\x03")),
        "too-long": bytes.fromhex("160303400001ffffff") + b"\x00" * 64,
    }


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--c":
        client, server = follow(sys.argv[2], int(sys.argv[3]))
        data = hello_prefix(client if sys.argv[4] == "client" else server)
        for i in range(0, len(data), 16):
            print("\t" + " ".join(f"0x{b:02x}," for b in data[i:i + 16]))
        return
    os.makedirs("tests/fuzz/seeds/tls", exist_ok=True)
    for name, stream in STREAMS:
        client, server = follow(f"tests/data/{name}", stream)
        for side, data in (("client", client), ("server", server)):
            if not data:
                continue
            data = hello_prefix(data)
            for plan, prefix in PLANS.items():
                base = name.rsplit(".", 1)[0]
                with open(f"tests/fuzz/seeds/tls/{base}-{stream}-{side}-{plan}", "wb") as f:
                    f.write(prefix + data)
    for name, data in handmade().items():
        with open(f"tests/fuzz/seeds/tls/made-{name}", "wb") as f:
            f.write(PLANS["mixed"] + data)


if __name__ == "__main__":
    main()

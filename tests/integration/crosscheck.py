#!/usr/bin/env python3
"""Checks trackwatchd's observations against independent truth.

1. tshark (a different dissector) on every capture in tests/data: every flow
   in which tshark sees a TLS or QUIC SNI, an HTTP request, or a DNS query on
   port 53 must have an observation from us, and each name we report for a
   flow must be one tshark saw in that flow (nDPI 4.2 keeps one name per flow;
   the next stage of the project makes it every name).
2. The browser scenario's truth file, written from the servers' logs and the
   browser driver, never from the capture: every DNS query (client port, name,
   type), the first request of every plain HTTP connection (host, method,
   path) and the server name of every HTTPS connection.

usage: crosscheck.py TRACKWATCHD DATA_DIR
"""
import json
import os
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def observations(binary, path):
    # Raw identifiers, to compare paths and cookies with the truth as sent.
    out = subprocess.run([binary, "-q", "--keep-identifiers", "-r", path, "--jsonl", "-"],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def flow_key(proto, client, sport, server, dport):
    return (proto, client, int(sport), server, int(dport))


def tshark(path, display_filter, fields):
    # tshark 4.0 leaves out-of-order segments unreassembled unless told to.
    cmd = ["tshark", "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path,
           "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


# What tshark sees, per kind: display filter, transport, port fields, name field.
TSHARK_KINDS = {
    "tls_sni": ("tls.handshake.type==1 && tcp", "tcp", "tcp", "tls.handshake.extensions_server_name"),
    "quic_sni": ("tls.handshake.type==1 && quic", "udp", "udp", "tls.handshake.extensions_server_name"),
    "gquic_sni": ("gquic.tag.sni", "udp", "udp", "gquic.tag.sni"),
    "http_request": ("http.request", "tcp", "tcp", "http.host"),
    "dns_query": ("dns.flags.response==0 && udp.port==53", "udp", "udp", "dns.qry.name"),
    "dns_query_tcp": ("dns.flags.response==0 && tcp.port==53", "tcp", "tcp", "dns.qry.name"),
}

# Flows nDPI 4.2 does not name and tshark does, as "file kind client_port":
# the known gaps of this stage, each to be closed by the project's own
# dissectors. A gap that closes is reported, so that this list only shrinks.
KNOWN_GAPS = {
    # QUIC version 2 (RFC 9369): nDPI 4.2 does not decrypt its Initial packets.
    ("quic-v2.pcapng", "quic_sni", 42086),
    # Chrome's ClientHello over two QUIC Initial packets: nDPI 4.2 sees neither name.
    ("quic_0RTT.pcap", "quic_sni", 51972),
}


def check_against_tshark(binary, path):
    obs = observations(binary, path)
    ours = {}
    for o in obs:
        key = flow_key(o["proto"], o["client"], o["sport"], o["server"], o["dport"])
        ours.setdefault(key, []).append(o)
    flows_named = 0
    for kind, (flt, proto, port, name_field) in TSHARK_KINDS.items():
        rows = tshark(path, flt, ["ip.src", "ipv6.src", port + ".srcport",
                                  "ip.dst", "ipv6.dst", port + ".dstport", name_field])
        seen = {}
        for src4, src6, sport, dst4, dst6, dport, names in rows:
            key = flow_key(proto, src4 or src6, sport, dst4 or dst6, dport)
            for name in filter(None, names.split(",")):
                # tshark shows a Host header's port; we report the host alone.
                if kind == "http_request" and name.count(":") == 1:
                    name = name.split(":")[0]
                seen.setdefault(key, set()).add(name.lower())
        our_kind = {"gquic_sni": "quic_sni", "dns_query_tcp": "dns_query"}.get(kind, kind)
        base = os.path.basename(path)
        for key, names in seen.items():
            mine = [o for o in ours.get(key, []) if o["kind"] == our_kind]
            gap = (base, our_kind, key[2]) in KNOWN_GAPS
            if not mine:
                if not gap:
                    fail(f"{base}: {kind} {sorted(names)} in flow {key}: no observation")
                continue
            if gap:
                fail(f"{base}: {kind} flow {key} is named now: remove it from KNOWN_GAPS")
            flows_named += 1
            if our_kind == "dns_query":
                # Our own DNS parser: every question, not one name per flow.
                missing = names - {o["host"] for o in mine if o["kind"] == "dns_query"}
                if missing:
                    fail(f"{base}: dns_query flow {key}: missing {sorted(missing)}")
            for o in mine:
                if o["host"] not in names and not (kind == "http_request" and o["host"] == ""):
                    fail(f"{os.path.basename(path)}: {kind} flow {key}: we say {o['host']!r}, "
                         f"tshark saw {sorted(names)}")
    return flows_named + check_dns_answers(path, obs) + check_tls_details(path, obs)


def check_tls_details(path, obs):
    """Our ClientHello reader's ALPN and supported versions, against tshark's."""
    rows = tshark(path, "tls.handshake.type==1 && tcp",
                  ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
                   "tls.handshake.extensions_alpn_str", "tls.handshake.extensions.supported_version"])
    theirs = {}
    for src4, src6, sport, dst4, dst6, dport, alpn, versions in rows:
        names = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2",
                 0x0304: "TLSv1.3"}
        listed = [int(v, 16) for v in versions.split(",") if v]
        listed = [names.get(v, f"0x{v:04x}") for v in listed if (v & 0x0f0f) != 0x0a0a]
        theirs[flow_key("tcp", src4 or src6, sport, dst4 or dst6, dport)] = (alpn, listed)
    checked = 0
    for o in obs:
        if o["kind"] != "tls_sni" or "tls_versions" not in o and "alpn" not in o:
            continue
        key = flow_key(o["proto"], o["client"], o["sport"], o["server"], o["dport"])
        alpn, versions = theirs.get(key, (None, None))
        if (o.get("alpn", ""), o.get("tls_versions", [])) != (alpn, versions):
            fail(f"{os.path.basename(path)}: tls flow {key}: alpn {o.get('alpn')} versions "
                 f"{o.get('tls_versions')}, tshark {alpn} {versions}")
        checked += 1
    return checked


def check_dns_answers(path, obs):
    """Every record of the answer section of every response on port 53 (UDP and TCP), as
    (flow, owner name, type): the same multiset as tshark's."""
    from collections import Counter
    theirs = Counter()
    for proto in ("udp", "tcp"):
        rows = tshark(path, f"dns.flags.response==1 && {proto}.port==53",
                      ["ip.dst", "ipv6.dst", f"{proto}.dstport", "ip.src", "ipv6.src",
                       f"{proto}.srcport", "dns.count.answers", "dns.resp.name", "dns.resp.type"])
        for dst4, dst6, dport, src4, src6, sport, count, names, types in rows:
            if "," in dst4 + dst6 + count:
                # tshark also dissects the DNS message quoted inside an ICMP error
                # (KakaoTalk_chat.pcap frame 57); that is not DNS traffic. Several
                # messages in one TCP segment are not told apart by these fields.
                continue
            key = flow_key(proto, dst4 or dst6, dport, src4 or src6, sport)
            n = int(count or 0)
            for name, rtype in list(zip(names.split(","), types.split(",")))[:n]:
                theirs[(key, name.lower(), int(rtype))] += 1
    ours = Counter()
    for o in obs:
        if o["kind"] == "dns_answer":
            key = flow_key(o["proto"], o["client"], o["sport"], o["server"], o["dport"])
            for r in o["answers"]:
                ours[(key, r["name"], r["type"])] += 1
    base = os.path.basename(path)
    for item in (theirs - ours):
        fail(f"{base}: dns_answer {item} seen by tshark {theirs[item]}x, by us {ours[item]}x")
    for item in (ours - theirs):
        fail(f"{base}: dns_answer {item} seen by us {ours[item]}x, by tshark {theirs[item]}x")
    return 0


QTYPES = {"A": 1, "AAAA": 28, "HTTPS": 65, "CNAME": 5, "SVCB": 64}


def check_against_truth(binary, pcap, truth_path):
    truth = json.load(open(truth_path))
    obs = observations(binary, pcap)
    client = truth["network"]["client"]
    dns = {(o["sport"], o["host"]): o for o in obs if o["kind"] == "dns_query"}
    checked = 0
    for q in truth["dns"]:
        ip, port = q["client"].rsplit(":", 1)
        if ip != client:
            continue
        o = dns.get((int(port), q["name"]))
        if not o:
            fail(f"truth: DNS {q['qtype']} {q['name']} from port {port}: no dns_query")
        elif q["qtype"] in QTYPES and o["qtype"] != QTYPES[q["qtype"]]:
            fail(f"truth: DNS {q['name']} port {port}: qtype {o['qtype']}, truth {q['qtype']}")
        checked += 1
    # Every request of every connection, in order (keep-alive: several per flow).
    by_conn = {}
    for r in sorted(truth["requests"], key=lambda r: r["t"]):
        by_conn.setdefault(r["client"], []).append(r)
    for conn, requests in by_conn.items():
        port = int(conn.rsplit(":", 1)[1])
        server_ip, server_port = requests[0]["server"].rsplit(":", 1)
        mine = [o for o in obs if o["sport"] == port and o["server"] == server_ip
                and o["dport"] == int(server_port)]
        if requests[0]["scheme"] == "http":
            hits = [o for o in mine if o["kind"] == "http_request"]
            if len(hits) != len(requests):
                fail(f"truth: http port {port}: {len(hits)} http_request, truth {len(requests)}")
            for o, r in zip(hits, requests):
                if (o["host"], o["method"]) != (r["host"], r["method"]) or not (
                        # The truth file cuts URIs past 300 characters with "...".
                        o["path"].startswith(r["uri"][:-3]) if r["uri"].endswith("...")
                        else o["path"] == r["uri"]):
                    fail(f"truth: http port {port}: we say {o['host']} {o['method']} "
                         f"{o['path'][:80]}, truth {r['host']} {r['method']} {r['uri'][:80]}")
                checked += 1
        else:
            hits = [o for o in mine if o["kind"] == "tls_sni"]
            if not hits or hits[0]["host"] != requests[0]["host"]:
                fail(f"truth: https {requests[0]['host']} (port {port}): tls_sni "
                     f"{hits[0]['host'] if hits else None}")
            checked += 1
    return checked


def main():
    binary, data = sys.argv[1], sys.argv[2]
    for name in sorted(os.listdir(data)):
        if name.endswith((".pcap", ".pcapng")):
            n = check_against_tshark(binary, os.path.join(data, name))
            print(f"tshark   {name}: {n} named flows, answers and hellos agree")
    for name in sorted(os.listdir(data)):
        if name.endswith(".truth.json"):
            pcap = os.path.join(data, name.replace(".truth.json", ".pcap"))
            n = check_against_truth(binary, pcap, os.path.join(data, name))
            print(f"truth    {name}: {n} DNS queries, HTTP requests and TLS connections agree")
    if failures:
        print(f"crosscheck: {len(failures)} failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

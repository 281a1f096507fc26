#!/usr/bin/env python3
"""The tshark oracle: on every capture of a corpus, the *sets* of names
trackwatchd observes must equal tshark's, per kind:

  tls_sni     tls.handshake.extensions_server_name (ClientHello over TCP)
  quic_sni    the same over QUIC, and gquic.tag.sni for Google QUIC
  http_host   http.host of requests, port stripped
  dns_qname   dns.qry.name of queries on port 53:
              dns.flags.response==0 && (udp.port==53 || tcp.port==53)

and the *counts* of headers, per flow (so per capture), must equal tshark's:

  cookie_count      http.cookie occurrences in requests (one per Cookie
                    header line: tshark 4.0 repeats the field for each), over
                    TCP and SSDP (UDP port 1900), whose requests we read too:
                    http.request.method && (tcp || udp.port==1900); NOTIFY
                    sets no http.request (see TSHARK_MISSES)
  set_cookie_count  http.set_cookie occurrences in responses over TCP:
                    http.response && tcp. We read no responses over UDP
                    (SSDP's replies to M-SEARCH), so tshark's there do not count
                    against our set_cookie_header observations.

Not part of `make check` (it needs the corpus and takes a while); golden
files cover the captures copied into tests/data, and
tests/integration/crosscheck.py compares the header values themselves there.

usage: tests/oracle/compare.py TRACKWATCHD CAPTURE_OR_DIR... [--kinds k1,k2]
Prints one line per capture and kind: "ok", or what is missing and extra (for
a count, the flows whose counts differ, with the frames tshark counted).
Exit status 1 if any comparison fails.
"""
import json
import os
import subprocess
import sys
from collections import Counter

KINDS = {
    "tls_sni": ("tls.handshake.type==1 && tcp", ["tls.handshake.extensions_server_name"]),
    "quic_sni": ("(tls.handshake.type==1 && quic) || gquic.tag.sni",
                 ["tls.handshake.extensions_server_name", "gquic.tag.sni"]),
    "http_host": ("http.request", ["http.host"]),
    "dns_qname": ("dns.flags.response==0 && (udp.port==53 || tcp.port==53)", ["dns.qry.name"]),
}

# Our observation kinds for each oracle kind.
OURS = {
    "tls_sni": ("tls_sni",),
    "quic_sni": ("quic_sni",),
    "http_host": ("http_request",),
    "dns_qname": ("dns_query",),
}


# Header counts: our observation kind, and the tshark field counted in the
# frames that match (a Python reading of the filter in the docstring, on one
# tshark run per capture).
COUNT_KINDS = {
    "cookie_count": ("cookie_header", "http.cookie",
                     lambda r: r["http.request.method"] != "" and (
                         r["tcp.srcport"] != "" or "1900" in (r["udp.srcport"], r["udp.dstport"]))),
    "set_cookie_count": ("set_cookie_header", "http.set_cookie",
                         lambda r: r["http.response"] != "" and r["tcp.srcport"] != ""),
}
COUNT_FIELDS = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
                "tcp.dstport", "udp.srcport", "udp.dstport", "http.request.method",
                "http.response", "http.cookie", "http.set_cookie"]

# Where tshark 4.0 miscounts headers, as (capture, kind, frame): the number of
# headers in that frame tshark does not count (negative: counts too many), and
# why. None on ../shared/corpus so far: every Cookie and Set-Cookie header
# tshark shows there we report, in the same flow, and no other.
TSHARK_MISCOUNTS = {
}

# Where tshark 4.0 is wrong: names we report that tshark's filter misses,
# as (capture, kind, name): why, and a frame that shows it.
TSHARK_MISSES = {
    ("starcraft_battle.pcap", "http_host", "239.255.255.250"):
        "SSDP NOTIFY * HTTP/1.1 (frame 29): tshark dissects the headers (http.host is set) "
        "but does not set http.request for NOTIFY",
    ("1kxun.pcap", "http_host", "ff02::c"):
        "SSDP NOTIFY over IPv6 (frame 694), Host: [FF02::C]:1900: same as above",
}


def tshark_names(path, kind):
    flt, fields = KINDS[kind]
    # tshark 4.0 leaves out-of-order segments unreassembled unless told to.
    cmd = ["tshark", "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-Y", flt,
           "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=\x1f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    names = set()
    for line in out.splitlines():
        for value in line.split("\t"):
            for name in value.split("\x1f"):
                if not name:
                    continue
                name = name.lower()
                if kind == "http_host":
                    if name.startswith("["):
                        name = name[1:name.index("]")] if "]" in name else name
                    elif name.count(":") == 1:
                        name = name.split(":")[0]
                names.add(name)
    return names


def flow_of(src, sport, dst, dport, proto):
    """A flow whichever way the frame went: its protocol and its two ends."""
    return (proto,) + tuple(sorted([(src, int(sport)), (dst, int(dport))]))


def tshark_counts(path):
    """Per count kind, per flow: the headers tshark shows, and the frames they are in."""
    cmd = ["tshark", "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path,
           "-Y", "http.cookie || http.set_cookie", "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=\x1f"]
    for f in COUNT_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    counts = {kind: {} for kind in COUNT_KINDS}
    # Not splitlines(): tshark writes a header's control bytes (\v, \x1c...) as they are.
    for line in filter(None, out.split("\n")):
        r = dict(zip(COUNT_FIELDS, line.split("\t")))
        if "\x1f" in r["ip.src"] + r["ipv6.src"]:
            continue  # a message quoted in an ICMP error
        tcp = r["tcp.srcport"] != ""
        key = flow_of(r["ip.src"] or r["ipv6.src"], r["tcp.srcport"] or r["udp.srcport"],
                      r["ip.dst"] or r["ipv6.dst"], r["tcp.dstport"] or r["udp.dstport"],
                      "tcp" if tcp else "udp")
        for kind, (_, field, keep) in COUNT_KINDS.items():
            other = "http.set_cookie" if field == "http.cookie" else "http.cookie"
            # A header with an empty value, the frame's only one, prints as ""
            # like no header: the frame matched the filter, so it holds one.
            n = len(r[field].split("\x1f")) if r[field] else 0 if r[other] else 1
            if n and keep(r):
                entry = counts[kind].setdefault(key, [0, []])
                entry[0] += n
                entry[1].append(int(r["frame.number"]))
    return counts


def frame_flows(path, frames):
    """The flows of the given frames, for TSHARK_MISCOUNTS."""
    if not frames:
        return {}
    cmd = ["tshark", "-n", "-r", path, "-Y", " || ".join(f"frame.number=={n}" for n in frames),
           "-T", "fields", "-E", "occurrence=f"] + sum(
        (["-e", f] for f in COUNT_FIELDS[:9]), [])
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    flows = {}
    for line in filter(None, out.split("\n")):
        r = dict(zip(COUNT_FIELDS, line.split("\t")))
        tcp = r["tcp.srcport"] != ""
        flows[int(r["frame.number"])] = flow_of(
            r["ip.src"] or r["ipv6.src"], r["tcp.srcport"] or r["udp.srcport"],
            r["ip.dst"] or r["ipv6.dst"], r["tcp.dstport"] or r["udp.dstport"],
            "tcp" if tcp else "udp")
    return flows


def compare_counts(path, obs, kinds):
    """One line per count kind; returns the number of kinds that differ."""
    name = os.path.basename(path)
    theirs = tshark_counts(path)
    exceptions = {k: v for k, v in TSHARK_MISCOUNTS.items() if k[0] == name}
    flows = frame_flows(path, sorted({k[2] for k in exceptions}))
    failed = 0
    for kind in kinds:
        our_kind = COUNT_KINDS[kind][0]
        ours = Counter(flow_of(o["client"], o["sport"], o["server"], o["dport"], o["proto"])
                       for o in obs if o["kind"] == our_kind)
        expected = Counter({key: n for key, (n, _) in theirs[kind].items()})
        for (_, k, frame), (missed, why) in exceptions.items():
            if k == kind:
                expected[flows[frame]] += missed
        bad = sorted(key for key in set(expected) | set(ours) if expected[key] != ours[key])
        total_theirs = sum(n for n, _ in theirs[kind].values())
        if bad:
            failed += 1
            print(f"FAIL {name} {kind}: {total_theirs} tshark, {sum(ours.values())} ours")
            for key in bad[:10]:
                frames = theirs[kind].get(key, (0, []))[1]
                print(f"       flow {key}: tshark {expected[key]} (frames {frames[:12]}"
                      f"{'...' if len(frames) > 12 else ''}), ours {ours[key]}")
        else:
            print(f"ok   {name} {kind}: {total_theirs}"
                  + (f" (+{sum(v[0] for k, v in exceptions.items() if k[1] == kind)} tshark misses)"
                     if any(k[1] == kind for k in exceptions) else ""))
    return failed


def our_observations(binary, path):
    out = subprocess.run([binary, "-q", "-r", path, "--jsonl", "-"], capture_output=True,
                         text=True, errors="replace")
    if out.returncode != 0:
        raise RuntimeError(f"{path}: trackwatchd exited {out.returncode}: {out.stderr.strip()}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def our_names(obs):
    names = {kind: set() for kind in KINDS}
    for o in obs:
        for kind, ours in OURS.items():
            if o["kind"] in ours and o["host"]:
                names[kind].add(o["host"])
    return names


def main():
    args = sys.argv[1:]
    kinds = list(KINDS) + list(COUNT_KINDS)
    if "--kinds" in args:
        i = args.index("--kinds")
        kinds = args[i + 1].split(",")
        del args[i:i + 2]
    binary, inputs = args[0], args[1:]
    files = []
    for item in inputs:
        if os.path.isdir(item):
            files += sorted(os.path.join(item, f) for f in os.listdir(item)
                            if f.endswith((".pcap", ".pcapng")))
        else:
            files.append(item)
    failed = passed = 0
    for path in files:
        obs = our_observations(binary, path)
        ours = our_names(obs)
        for kind in (k for k in kinds if k in KINDS):
            theirs = tshark_names(path, kind)
            name = os.path.basename(path)
            missing = theirs - ours[kind]
            extra = {n for n in ours[kind] - theirs if (name, kind, n) not in TSHARK_MISSES}
            if missing or extra:
                failed += 1
                print(f"FAIL {name} {kind}: {len(theirs)} tshark, {len(ours[kind])} ours; "
                      f"missing {sorted(missing)[:5]}{'...' if len(missing) > 5 else ''} "
                      f"extra {sorted(extra)[:5]}{'...' if len(extra) > 5 else ''}")
            else:
                passed += 1
                print(f"ok   {name} {kind}: {len(theirs)}")
        counted = [k for k in kinds if k in COUNT_KINDS]
        if counted:
            bad = compare_counts(path, obs, counted)
            failed += bad
            passed += len(counted) - bad
    print(f"oracle: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

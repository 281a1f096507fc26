#!/usr/bin/env python3
"""TLS decryption against tshark (issue 8).

For every capture NAME.pcap or NAME.pcapng in DIR that has NAME.keys (an NSS
key log) and NAME.plain.tsv (tshark's `follow,tls,raw` of each TCP stream:
bytes and sha256 per direction), runs

    trackwatchd -r NAME.pcap -k NAME.keys --keep-identifiers --dump-tls TMP --jsonl OUT

and checks:
  - streams: the decrypted bytes of each stream direction that tshark
    decrypts (bytes > 0) hash to the same sha256 (compared as sets of
    (direction, bytes, sha256): the dump names streams by trackwatch's flow
    id, not tshark's stream number);
  - with NAME.oracle.tsv (tshark's HTTP/1 and HTTP/2 header fields): the sets
    of request hosts, paths, cookies sent (name=value) and cookies set
    (name=value) equal tshark's.

    tls-oracle.py TRACKWATCHD DIR [--except NAME:REASON ...]

Captures named with --except are run and reported but not counted as
failures (known exceptions, documented in trackwatchd(8), DECRYPTION).
Exit status 1 when a check fails.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def plain_truth(path):
    """{(direction, bytes, sha256)} of the non-empty stream directions."""
    out = set()
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            if int(row["bytes"]) > 0:
                out.add((row["direction"], int(row["bytes"]), row["sha256"]))
    return out


def dumped(directory):
    out = set()
    for name in os.listdir(directory):
        data = open(os.path.join(directory, name), "rb").read()
        if data:
            direction = "client" if name.endswith("-client.bin") else "server"
            out.add((direction, len(data), hashlib.sha256(data).hexdigest()))
    return out


def split_cookie_header(value):
    pairs = set()
    for part in value.split(";"):
        part = part.strip()
        if part:
            pairs.add(part)
    return pairs


def oracle_fields(path):
    """tshark's hosts, paths, cookies sent and set, from NAME.oracle.tsv."""
    hosts, paths, sent, set_ = set(), set(), set(), set()
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            get = lambda k: [v for v in row.get(k, "").split("|") if v]
            for h in get("http.host"):
                hosts.add(h.lower().split(":")[0])
            for p in get("http.request.uri"):
                paths.add(p)
            for c in get("http.cookie"):
                sent |= split_cookie_header(c)
            for c in get("http.set_cookie"):
                set_.add(c.split(";")[0].strip())
            for h in get("http2.headers.authority"):
                hosts.add(h.lower().split(":")[0])
            for p in get("http2.headers.path"):
                paths.add(p)
            for c in get("http2.headers.cookie"):
                sent |= split_cookie_header(c)
            for c in get("http2.headers.set_cookie"):
                set_.add(c.split(";")[0].strip())
    return hosts, paths, sent, set_


def ours(jsonl):
    hosts, paths, sent, set_ = set(), set(), set(), set()
    with open(jsonl) as f:
        for line in f:
            o = json.loads(line)
            if not o.get("decrypted"):
                continue
            kind = o["kind"]
            if kind == "http_request":
                if o.get("host"):
                    hosts.add(o["host"])
                if o.get("path") is not None:
                    paths.add(o["path"])
            elif kind == "cookie_sent":
                sent.add("%s=%s" % (o["cookie_name"], o.get("cookie_value", "")))
            elif kind == "cookie_set":
                set_.add("%s=%s" % (o["cookie_name"], o.get("cookie_value", "")))
    return hosts, paths, sent, set_


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, directory = sys.argv[1], sys.argv[2]
    exceptions = {}
    args = sys.argv[3:]
    while args:
        if args[0] == "--except" and len(args) > 1:
            name, _, reason = args[1].partition(":")
            exceptions[name] = reason
            args = args[2:]
        else:
            sys.exit("unknown argument %s" % args[0])
    captures = sorted(n for n in os.listdir(directory)
                      if n.endswith((".pcap", ".pcapng")) and
                      os.path.exists(os.path.join(directory, n.rsplit(".", 1)[0] + ".keys")) and
                      os.path.exists(os.path.join(directory, n.rsplit(".", 1)[0] + ".plain.tsv")))
    failed = passed = excepted = 0
    streams_total = streams_equal = 0
    for capture in captures:
        name = capture.rsplit(".", 1)[0]
        base = os.path.join(directory, name)
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "dump")
            os.mkdir(dump)
            out = os.path.join(tmp, "out.jsonl")
            run = subprocess.run([binary, "-q", "-r", os.path.join(directory, capture),
                                  "-k", base + ".keys", "--keep-identifiers", "--dump-tls", dump,
                                  "--jsonl", out], capture_output=True, text=True)
            problems = []
            if run.returncode != 0:
                problems.append("exit %d: %s" % (run.returncode, run.stderr.strip()[:300]))
            truth = plain_truth(base + ".plain.tsv")
            got = dumped(dump)
            streams_total += len(truth)
            streams_equal += len(truth & got)
            if truth - got:
                problems.append("stream directions not decrypted as tshark does: %s" %
                                sorted(truth - got)[:4])
            if got - truth:
                problems.append("stream directions tshark does not have: %s" % sorted(got - truth)[:4])
            detail = "%d/%d stream directions" % (len(truth & got), len(truth))
            if os.path.exists(base + ".oracle.tsv") and os.path.exists(out):
                want = oracle_fields(base + ".oracle.tsv")
                have = ours(out)
                for what, w, h in zip(("hosts", "paths", "cookies sent", "cookies set"), want, have):
                    if w != h:
                        problems.append("%s: tshark %s, trackwatchd %s" %
                                        (what, sorted(w)[:6], sorted(h)[:6]))
                detail += ", %d hosts, %d paths, %d cookies sent, %d set" % tuple(len(x) for x in want)
            if not problems:
                passed += 1
                print("ok   %s: %s" % (name, detail))
            elif name in exceptions:
                excepted += 1
                print("known %s (%s): %s" % (name, exceptions[name], "; ".join(problems)))
            else:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(problems)))
    print("tls-oracle: %d captures passed, %d failed, %d known exceptions; %d of %d stream "
          "directions equal to tshark's" % (passed, failed, excepted, streams_equal, streams_total))
    sys.exit(1 if failed or not captures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The tshark oracle: on every capture of a corpus, the *sets* of names
trackwatchd observes must equal tshark's, per kind:

  tls_sni     tls.handshake.extensions_server_name (ClientHello over TCP)
  quic_sni    the same over QUIC, and gquic.tag.sni for Google QUIC
  http_host   http.host of requests, port stripped
  dns_qname   dns.qry.name of queries on port 53:
              dns.flags.response==0 && (udp.port==53 || tcp.port==53)

and the counts of Cookie and Set-Cookie headers (once the HTTP/1 parser
reports them). Not part of `make check` (it needs the corpus and takes a
while); golden files cover the captures copied into tests/data.

usage: tests/oracle/compare.py TRACKWATCHD CAPTURE_OR_DIR... [--kinds k1,k2]
Prints one line per capture and kind: "ok", or what is missing and extra.
Exit status 1 if any comparison fails.
"""
import json
import os
import subprocess
import sys

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


def our_names(binary, path):
    out = subprocess.run([binary, "-q", "-r", path, "--jsonl", "-"], capture_output=True,
                         text=True, errors="replace")
    if out.returncode != 0:
        raise RuntimeError(f"{path}: trackwatchd exited {out.returncode}: {out.stderr.strip()}")
    names = {kind: set() for kind in KINDS}
    for line in out.stdout.splitlines():
        o = json.loads(line)
        for kind, ours in OURS.items():
            if o["kind"] in ours and o["host"]:
                names[kind].add(o["host"])
    return names


def main():
    args = sys.argv[1:]
    kinds = list(KINDS)
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
        ours = our_names(binary, path)
        for kind in kinds:
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
    print(f"oracle: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

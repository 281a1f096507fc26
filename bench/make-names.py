#!/usr/bin/env python3
"""The name mix for bench/lists.sh, made from real names only.

    make-names.py TRACKWATCH EASYPRIVACY ENTITIES_JSON OUT_DIR < observations.jsonl

observations.jsonl: trackwatchd --jsonl output over real captures. Writes to
OUT_DIR (one name per line, shuffled with a fixed seed):

  capture.txt   every distinct DNS, SNI and Host name of the captures;
  trackers.txt  one name under each of 4,000 hosts of EasyPrivacy's pure
                rules (a random label added: "cdn42.", "px7.", ...);
  sites.txt     "www." and the first-party domains of companies in
                Disconnect's entities.json that no default list calls a
                tracker (real sites; each has a company entry, the slower
                kind of non-tracker lookup);
  mix.txt       the realistic mix: the capture names, the sites, and tracker
                names in the share the default lists find among the
                capture names (so the mix has the captures' tracker share).

Prints the composition.
"""
import json
import random
import subprocess
import sys

trackwatch, easyprivacy, entities_json, out = sys.argv[1:5]
random.seed(1)


def decide(names):
    res = subprocess.run([trackwatch, "lists", "test"], input="\n".join(names) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return [json.loads(line)["tracker"] for line in res]


capture = []
for line in sys.stdin:
    o = json.loads(line)
    h = o.get("host")
    if h and o.get("kind") in ("dns_query", "tls_client_hello", "quic_client_hello",
                                  "http_request") and h not in capture:
        capture.append(h)

hosts = []
for line in open(easyprivacy, encoding="utf-8", errors="replace"):
    line = line.strip()
    if line.startswith("||") and line.endswith("^") and "/" not in line and "*" not in line:
        hosts.append(line[2:-1])
trackers = ["%s%d.%s" % (random.choice(["www", "cdn", "t", "px", "api"]), random.randrange(100), h)
            for h in random.sample(sorted(set(hosts)), 4000)]

entities = json.load(open(entities_json))["entities"]
candidates = sorted({"www." + d for e in entities.values() for d in e.get("properties", [])})
sites = [n for n, t in zip(candidates, decide(candidates)) if not t]
random.shuffle(sites)
sites = sites[:6000]

capture_trackers = sum(decide(capture))
share = capture_trackers / len(capture)
ordinary = capture + sites
wanted = round(share * len(ordinary) / (1 - share)) - capture_trackers
mix = ordinary + trackers[:max(wanted, 0)]
random.shuffle(mix)
for name, names in (("capture", capture), ("trackers", trackers), ("sites", sites), ("mix", mix)):
    with open(f"{out}/{name}.txt", "w") as f:
        f.write("\n".join(names) + "\n")
print(f"names: {len(capture)} from the captures ({capture_trackers} trackers, {100 * share:.1f}%), "
      f"{len(sites)} sites, {len(trackers)} tracker names; mix {len(mix)} names, "
      f"{100 * (capture_trackers + max(wanted, 0)) / len(mix):.1f}% trackers")

#!/bin/sh
# Tracker lists: load time and host lookups per second on one core.
#
#   bench/lists.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR (default ../shared beside the checkout) gives the DuckDuckGo
# Tracker Data Set (lists/duckduckgo/extension-tds.v6.json) and the captures
# whose names begin the realistic mix: every DNS name, SNI and Host that
# trackwatchd reads in corpus/ndpi and corpus/browser, each once; then 6000
# sites people visit ("www." and a first-party domain of a company in
# Disconnect's entities.json); then one name under a host of EasyPrivacy's
# rules (a random label added) for every two of those, so about a third of
# the names come from the tracker list. The mix is shuffled and made once
# into build/bench/names.txt. RUNS defaults to 7; medians are printed.
#
# Measured: (1) the default lists (EasyPrivacy, EasyList, Disconnect, Open
# Cookie Database), as the sensor loads them; (2) those plus the TDS, the
# five sources the issue names; lookups against (2), without and with a site
# (with a site, party rules need the Public Suffix List).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${1:-$here/../shared}" && pwd)
runs=${2:-7}
out=$here/build/bench
mkdir -p "$out"
assets='/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/uBlock0@raymondhill.net/assets/thirdparties/easylist'
data=$here/blocklists/data
tds=$shared/lists/duckduckgo/extension-tds.v6.json
[ -r "$tds" ] || { echo "$tds not found" >&2; exit 1; }

make -C "$here" --no-print-directory -s build/trackwatchd build/lists_bench

names=$out/names.txt
if [ ! -s "$names" ]; then
	for p in "$shared"/corpus/ndpi/*.pcap* "$shared"/corpus/browser/*.pcap; do
		"$here/build/trackwatchd" -q -r "$p" --jsonl - 2>/dev/null || true
	done | python3 -c '
import json, random, sys
seen = []
for line in sys.stdin:
    o = json.loads(line)
    h = o.get("host")
    if h and o.get("kind") in ("dns_query", "tls_client_hello", "quic_client_hello", "http_request") and h not in seen:
        seen.append(h)
random.seed(1)
trackers = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if line.startswith("||") and line.endswith("^") and "/" not in line and "*" not in line:
        trackers.append(line[2:-1])
# Sites people visit: the first-party domains of Disconnect'"'"'s companies, as "www." names.
entities = json.load(open(sys.argv[2]))["entities"]
sites = sorted({"www." + d for e in entities.values() for d in e.get("properties", [])})
sites = random.sample(sites, min(6000, len(sites)))
ordinary = seen + sites
mix = ordinary + [("%s%d." % (random.choice(["www", "cdn", "t", "px", "api"]), random.randrange(100)) + h)
                  for h in random.sample(trackers, len(ordinary) // 2)]
random.shuffle(mix)
print("\n".join(mix))
' "$assets/easyprivacy.txt" "$here/blocklists/data/disconnect/entities.json" > "$names"
fi
sites=$out/names-sites.txt
awk '{ print $1, "www.example.com" }' "$names" > "$sites"

defaults="easyprivacy=abp:$assets/easyprivacy.txt easylist=abp:$assets/easylist.txt \
disconnect=disconnect:$data/disconnect/services.json,$data/disconnect/entities.json \
cookiedb=cookiedb:$data/open-cookie-database/open-cookie-database.csv"
echo "== default lists"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$names" 10000000 $defaults
echo "== default lists + DuckDuckGo TDS"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$names" 10000000 $defaults tds=tds:"$tds"
echo "== the same, each name with a site (www.example.com)"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$sites" 10000000 $defaults tds=tds:"$tds" | grep lookups

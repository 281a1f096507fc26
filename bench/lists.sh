#!/bin/sh
# Tracker lists: load time and host lookups per second on one core.
#
#   bench/lists.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR (default ../shared beside the checkout) gives the DuckDuckGo
# Tracker Data Set (lists/duckduckgo/extension-tds.v6.json) and the captures
# (corpus/ndpi, corpus/browser) whose names make the mix with
# bench/make-names.py (made once into build/bench/names/): the captures'
# own names, real sites (company domains from Disconnect that no list calls
# a tracker), and names under EasyPrivacy's hosts in the share of trackers
# the captures show. Names are cycled uniformly, so no name is cheaper for
# being popular. RUNS defaults to 7; medians are printed.
#
# Measured: loading (1) the default lists (EasyPrivacy, EasyList,
# Disconnect, Open Cookie Database), as the sensor loads them, and (2)
# those plus the TDS, the five sources the lists issue names; host lookups
# per second on one core against both, over the mix and over each part of
# it alone, and with a site given (party rules then need the Public Suffix
# List). Then URL lookups (lists_bench -u: what the timeline does for each
# request URL it has not seen lately) over the captures' request URLs.
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

make -C "$here" --no-print-directory -s build/trackwatchd build/trackwatch build/lists_bench

names=$out/names
if [ ! -s "$names/mix.txt" ]; then
	mkdir -p "$names"
	make -C "$here" --no-print-directory -s build/trackwatch
	for p in "$shared"/corpus/ndpi/*.pcap* "$shared"/corpus/browser/*.pcap; do
		"$here/build/trackwatchd" -q -r "$p" --jsonl - 2>/dev/null || true
	done | "$here/bench/make-names.py" "$here/build/trackwatch" "$assets/easyprivacy.txt" \
		"$data/disconnect/entities.json" "$names"
fi
awk '{ print $1, "www.example.com" }' "$names/mix.txt" > "$names/mix-sites.txt"

defaults="easyprivacy=abp:$assets/easyprivacy.txt easylist=abp:$assets/easylist.txt \
disconnect=disconnect:$data/disconnect/services.json,$data/disconnect/entities.json \
cookiedb=cookiedb:$data/open-cookie-database/open-cookie-database.csv"
echo "== default lists, the realistic mix"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$names/mix.txt" 10000000 $defaults
for part in capture sites trackers; do
	echo "== default lists, $part names only"
	# shellcheck disable=SC2086
	"$here/build/lists_bench" "$runs" "$names/$part.txt" 10000000 $defaults | grep lookups
done
echo "== default lists + DuckDuckGo TDS, the realistic mix"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$names/mix.txt" 10000000 $defaults tds=tds:"$tds"
echo "== the same, each name with a site (www.example.com)"
# shellcheck disable=SC2086
"$here/build/lists_bench" "$runs" "$names/mix-sites.txt" 10000000 $defaults tds=tds:"$tds" | grep lookups
urls=$names/urls.txt
if [ ! -s "$urls" ]; then
	for p in "$shared"/corpus/ndpi/*.pcap* "$shared"/corpus/browser/*.pcap; do
		"$here/build/trackwatchd" -q -r "$p" --jsonl - 2>/dev/null || true
	done | python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    o = json.loads(line)
    if o.get("kind") == "http_request" and o.get("host") and o.get("path", "").startswith("/"):
        u = ("https" if o.get("decrypted") else "http") + "://" + o["host"] + o["path"]
        if u not in seen and " " not in u:
            seen.add(u)
            print(u)' > "$urls"
fi
echo "== default lists, URL lookups (request URLs of the captures, no site, then www.example.com)"
# shellcheck disable=SC2086
"$here/build/lists_bench" -u "$runs" "$urls" 200000 $defaults | grep lookups
awk '{ print $1, "www.example.com" }' "$urls" > "$names/urls-sites.txt"
# shellcheck disable=SC2086
"$here/build/lists_bench" -u "$runs" "$names/urls-sites.txt" 200000 $defaults | grep lookups

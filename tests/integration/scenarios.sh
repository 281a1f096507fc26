#!/bin/sh
# The browser scenarios of a corpus (not bundled: pass its directory): each
# capture read with trackwatchd --db, its report for the scenario's client and
# site checked against the scenario's truth file (report-vs-truth.py).
#   tests/integration/scenarios.sh TRACKWATCHD TRACKWATCH CORPUS_DIR
# e.g. tests/integration/scenarios.sh build/trackwatchd build/trackwatch ../shared/corpus
set -u
d=${1:?usage: scenarios.sh TRACKWATCHD TRACKWATCH CORPUS_DIR}
cli=${2:?usage: scenarios.sh TRACKWATCHD TRACKWATCH CORPUS_DIR}
corpus=${3:?usage: scenarios.sh TRACKWATCHD TRACKWATCH CORPUS_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for pcap in "$corpus"/browser/*.pcap; do
	truth=${pcap%.pcap}.truth.json
	[ -f "$truth" ] || continue
	name=$(basename "$pcap" .pcap)
	client=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["network"]["client"])' "$truth")
	site=$(python3 -c 'import json,sys; from urllib.parse import urlparse; print(urlparse(json.load(open(sys.argv[1]))["base_url"]).hostname)' "$truth")
	rm -f "$tmp/db"*
	if ! "$d" -q -r "$pcap" --db "$tmp/db" || \
	   ! "$cli" report --db "$tmp/db" --device "$client" --site "$site" --format json > "$tmp/report.json"; then
		echo "FAIL $name: trackwatchd or trackwatch failed"
		failed=$((failed + 1))
		continue
	fi
	echo "== $name (device $client, site $site)"
	python3 "$here/tests/integration/report-vs-truth.py" "$truth" "$tmp/report.json" || failed=$((failed + 1))
done
echo "scenarios: $failed failed"
[ "$failed" -eq 0 ]

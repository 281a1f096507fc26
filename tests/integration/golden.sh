#!/bin/sh
# Golden tests: each capture in tests/data has its expected observations
# (tests/golden/FILE.jsonl) and end-of-run counters (tests/golden/FILE.stats).
#   tests/integration/golden.sh TRACKWATCHD            compare, fail on any difference
#   tests/integration/golden.sh TRACKWATCHD --update   rewrite the goldens (then review
#                                                      them with git diff before committing)
# The goldens are our own output: crosscheck.py is what checks them against
# tshark and the truth files.
set -u
bin=${1:?usage: golden.sh TRACKWATCHD [--update]}
update=${2:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
data=$here/tests/data
golden=$here/tests/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
count=0
for pcap in "$data"/*.pcap "$data"/*.pcapng; do
	[ -e "$pcap" ] || continue
	name=$(basename "$pcap")
	# A fixed key, so that hashed identifiers are the same in every run.
	if ! "$bin" -r "$pcap" --identifier-key "$data/identifier.key" --jsonl "$tmp/$name.jsonl" \
		2> "$tmp/$name.stats"; then
		echo "FAIL $name: trackwatchd exited $?"; cat "$tmp/$name.stats"; fail=1; continue
	fi
	if [ "$update" = --update ]; then
		cp "$tmp/$name.jsonl" "$tmp/$name.stats" "$golden/"
		echo "updated $name"
		continue
	fi
	count=$((count + 1))
	for part in jsonl stats; do
		if [ ! -e "$golden/$name.$part" ]; then
			echo "FAIL $name: no golden $name.$part (run with --update and review)"; fail=1
		elif ! diff -u "$golden/$name.$part" "$tmp/$name.$part" > "$tmp/diff"; then
			echo "FAIL $name.$part differs from the golden:"; head -40 "$tmp/diff"; fail=1
		fi
	done
done
[ "$update" = --update ] && exit 0
if [ $fail -eq 0 ]; then echo "golden: $count passed, 0 failed"; else echo "golden: failures above"; fi
exit $fail

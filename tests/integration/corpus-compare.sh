#!/bin/sh
# Runs trackwatchd on every capture of a corpus and compares, per file, the
# number of flows it names with what nDPI 4.2 alone names (MANIFEST.tsv's
# ndpi42_flows_with_host for ndpi/, a live ndpiReader run for browser/).
# Not part of `make check`: the corpus lives outside the project.
#   tests/integration/corpus-compare.sh TRACKWATCHD CORPUS_DIR
# Exits 1 if any file crashes the sensor or names fewer flows than nDPI.
set -u
bin=${1:?usage: corpus-compare.sh TRACKWATCHD CORPUS_DIR}
corpus=${2:?usage: corpus-compare.sh TRACKWATCHD CORPUS_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
printf '%-40s %8s %8s %s\n' file ndpi42 ours verdict
count_ours() {
	"$bin" -q -r "$1" --jsonl - > "$tmp/out.jsonl"
	rc=$?
	if [ $rc -ne 0 ]; then echo "exit $rc"; return; fi
	python3 -c '
import json, sys
flows = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["host"]:
        flows.add(o["flow"])
print(len(flows))' "$tmp/out.jsonl"
}
while IFS='	' read -r file _ _ _ _ _ _ _ _ _ _ expected _; do
	[ "$file" = file ] && continue
	ours=$(count_ours "$corpus/ndpi/$file")
	verdict=ok
	case $ours in *exit*) verdict=CRASH; fail=1 ;; *) [ "$ours" -ge "$expected" ] || { verdict=FEWER; fail=1; } ;; esac
	printf '%-40s %8s %8s %s\n' "$file" "$expected" "$ours" "$verdict"
done < "$corpus/ndpi/MANIFEST.tsv"
if command -v ndpiReader >/dev/null; then
	for f in "$corpus"/browser/*.pcap; do
		expected=$(ndpiReader -i "$f" -v 2 2>/dev/null | grep -E '^[[:space:]]+[0-9]+[[:space:]]+(TCP|UDP)' | grep -c 'Hostname/SNI')
		ours=$(count_ours "$f")
		verdict=ok
		case $ours in *exit*) verdict=CRASH; fail=1 ;; *) [ "$ours" -ge "$expected" ] || { verdict=FEWER; fail=1; } ;; esac
		printf '%-40s %8s %8s %s\n' "browser/$(basename "$f")" "$expected" "$ours" "$verdict"
	done
fi
exit $fail

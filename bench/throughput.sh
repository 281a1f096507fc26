#!/bin/sh
# Throughput and peak memory of trackwatchd against ndpiReader (Debian's
# libndpi-bin, the same nDPI 4.2) on one large mixed capture, whole runs timed
# with start-up included, runs interleaved so both see the same machine.
# trackwatchd runs as deployed: default lists loaded, observations matched
# and written to a new timeline database each run, the file's SHA-256 taken
# for the run's record; a reference line gives the same read from standard
# input, where there is no file to hash.
#
#   bench/throughput.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR holds bench/make-bench-pcap.sh and the corpus it replays (default
# ../shared beside the checkout); RUNS defaults to 5. The capture is built once
# into build/bench/ and reused. Prints per-run numbers, then medians:
# packets per second, the ratio to ndpiReader, and peak RSS; then the CPU time
# of each of trackwatchd's threads in one more run.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$here/../shared}
runs=${2:-5}
out=$here/build/bench
mkdir -p "$out"
pcap=$out/mixed.pcap

command -v ndpiReader >/dev/null || { echo "ndpiReader not found: make deps installs libndpi-bin" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: make deps installs time" >&2; exit 1; }
make -C "$here" --no-print-directory -s build/trackwatchd
if [ ! -s "$pcap" ]; then
	echo "building $pcap from $shared/bench/make-bench-pcap.sh ..."
	sh "$shared/bench/make-bench-pcap.sh" "$pcap"
fi
packets=$("$here/build/trackwatchd" -r "$pcap" --jsonl /dev/null 2>&1 | sed -n 's/.*packets \([0-9]*\),.*/\1/p')
echo "capture: $pcap, $packets packets, $(du -m "$pcap" | cut -f1) MiB"
echo "trackwatchd: $("$here/build/trackwatchd" --version | head -1); ndpiReader: nDPI $(ndpiReader -h 2>/dev/null | sed -n 's/.*nDPI \([0-9.]*\).*/\1/p' | head -1)"

# run NAME COMMAND...: prints "seconds max_rss_kib"
run() {
	name=$1; shift
	start=$(date +%s.%N)
	/usr/bin/time -v -o "$out/$name.time" "$@" > /dev/null 2> "$out/$name.err" || {
		echo "$name failed:" >&2; tail -5 "$out/$name.err" >&2; exit 1; }
	end=$(date +%s.%N)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/$name.time")
	echo "$start $end $rss" | awk '{ printf "%.3f %d\n", $2 - $1, $3 }'
}

: > "$out/tw.runs"
: > "$out/twin.runs"
: > "$out/ndpi.runs"
i=1
while [ "$i" -le "$runs" ]; do
	# The sensor as deployed: the default lists loaded, every observation
	# matched and stored in a new database (the file's SHA-256 taken too).
	rm -f "$out/tw.db" "$out/tw.db-wal" "$out/tw.db-shm"
	tw=$(run tw "$here/build/trackwatchd" -q -r "$pcap" --db "$out/tw.db")
	# For reference: the same from standard input, where there is no file to hash.
	rm -f "$out/tw.db" "$out/tw.db-wal" "$out/tw.db-shm"
	twin=$(run twin sh -c 'exec "$1" -q -r - --db "$2" < "$3"' sh "$here/build/trackwatchd" "$out/tw.db" "$pcap")
	nd=$(run ndpi ndpiReader -q -i "$pcap")
	echo "$tw" >> "$out/tw.runs"
	echo "$twin" >> "$out/twin.runs"
	echo "$nd" >> "$out/ndpi.runs"
	echo "run $i: trackwatchd $tw   (stdin $twin)   ndpiReader $nd   (seconds, peak RSS KiB)"
	i=$((i + 1))
done

median() { # column file
	sort -n -k"$1","$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
tw_s=$(median 1 "$out/tw.runs"); tw_rss=$(median 2 "$out/tw.runs")
twin_s=$(median 1 "$out/twin.runs")
nd_s=$(median 1 "$out/ndpi.runs"); nd_rss=$(median 2 "$out/ndpi.runs")
awk -v p="$packets" -v ts="$tw_s" -v ns="$nd_s" -v tr="$tw_rss" -v nr="$nd_rss" -v n="$runs" -v is="$twin_s" 'BEGIN {
	printf "median of %d runs:\n", n
	printf "  trackwatchd  %8.3f s  %10.0f packets/s  peak RSS %7.1f MiB\n", ts, p / ts, tr / 1024
	printf "  ndpiReader   %8.3f s  %10.0f packets/s  peak RSS %7.1f MiB\n", ns, p / ns, nr / 1024
	printf "  speed ratio (trackwatchd / ndpiReader): %.2fx   (goal: 3x)\n", ns / ts
	printf "  memory ratio (trackwatchd / ndpiReader): %.2f   (goal: below 1)\n", tr / nr
	printf "  reference: from standard input (no file SHA-256) %.3f s, %.2fx\n", is, ns / is
}'
# Where trackwatchd's time goes, thread by thread, in one more run (-d logs it).
rm -f "$out/tw.db" "$out/tw.db-wal" "$out/tw.db-shm"
cpu=$("$here/build/trackwatchd" -d -q -r "$pcap" --db "$out/tw.db" 2>&1 | sed -n 's/.*CPU seconds: //p')
echo "  one more run, CPU seconds by thread: $cpu"

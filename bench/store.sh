#!/bin/sh
# The timeline writer alone: how many rows per second it stores (matching
# against the default lists, devices, visits, SQLite in WAL mode with
# batched transactions), on the observations of the benchmark capture.
#
#   bench/store.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR holds bench/make-bench-pcap.sh (default ../shared beside the
# checkout); RUNS defaults to 5. The capture is the one bench/throughput.sh
# builds into build/bench/. Prints each run, then the median (goal: 200,000
# rows per second).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$here/../shared}
runs=${2:-5}
out=$here/build/bench
mkdir -p "$out"
pcap=$out/mixed.pcap
make -C "$here" --no-print-directory -s build/store_bench
if [ ! -s "$pcap" ]; then
	echo "building $pcap from $shared/bench/make-bench-pcap.sh ..."
	sh "$shared/bench/make-bench-pcap.sh" "$pcap"
fi
"$here/build/store_bench" "$runs" "$pcap" "$out/store-bench.db"
rm -f "$out/store-bench.db" "$out/store-bench.db-wal" "$out/store-bench.db-shm"

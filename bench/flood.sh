#!/bin/sh
# Peak memory under a SYN flood: 200,000 SYNs from random addresses and ports,
# each a new flow that never answers, at several --max-flows bounds. Shows
# that memory follows the bound, not the flood.
#   bench/flood.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/build/bench
mkdir -p "$out"
make -C "$here" --no-print-directory -s build/trackwatchd
python3 - "$out/synflood.pcap" <<'PY'
import random, struct, sys
random.seed(1)
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(200000):
        src = bytes([10, random.randint(0, 255), random.randint(0, 255), random.randint(1, 254)])
        tcp = struct.pack(">HHIIBBHHH", random.randint(1024, 65535), 443, random.getrandbits(32),
                          0, 5 << 4, 0x02, 65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0,
                         src, bytes([192, 0, 2, 1]))
        frame = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + tcp
        out.write(struct.pack("<IIII", 1700000000 + i // 10000, (i % 10000) * 100,
                              len(frame), len(frame)) + frame)
PY
printf '%-12s %12s %10s\n' max-flows "peak RSS" evicted
for bound in 1024 16384 65536 262144; do
	/usr/bin/time -f "%M" -o "$out/flood.rss" "$here/build/trackwatchd" -r "$out/synflood.pcap" \
		--max-flows $bound --jsonl /dev/null 2> "$out/flood.err"
	evicted=$(sed -n 's/.*evicted \([0-9]*\),.*/\1/p' "$out/flood.err")
	printf '%-12s %8.1f MiB %10s\n' $bound "$(awk '{ print $1 / 1024 }' "$out/flood.rss")" "$evicted"
done

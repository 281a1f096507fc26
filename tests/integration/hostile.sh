#!/bin/sh
# Memory stays bounded under hostile input: SYN floods, endless out-of-order
# segments, readers made to buffer (both sides of a connection), DNS
# compression loops. Each capture of tests/integration/make-hostile.py is
# streamed into trackwatchd (-r -: two of them are over 100 MB, as they must
# be to put 4x a 32 MiB bound on the wire, and nothing lands on disk) under
# /usr/bin/time, and each run must: exit 0; write nothing to standard error
# but its "trackwatchd: " statistics (no sanitizer report); stay under a peak
# RSS derived from the documented bounds; and show in its counters that the
# bound was reached.
#   tests/integration/hostile.sh TRACKWATCHD      (release or ASan build)
#
# The bounds (trackwatchd(8), daemon/pipeline.h, daemon/reassembly.h):
#   flows      --max-flows of them; about 1 KiB each while nDPI looks at the
#              flow, 200 bytes after. Measured with nDPI 4.2: a flow that has
#              carried payload costs 3 KiB while nDPI looks at it (nDPI's TLS
#              dissector allocates a 2 KiB buffer at a flow's first payload,
#              whatever the port), so 3 KiB is used for those.
#   pending    out-of-order segments: 32 MiB in all (64 KiB, 64 per stream)
#   readers    buffered hellos, header blocks, DNS-over-TCP messages, both
#              directions: 32 MiB in all
#   queue      the observation queue, 4 MiB, touched in full when the output
#              is heavy
#   DNS cache  8192 entries of 288 bytes, allocated at start, touched as
#              DNS answers fill it (dns-loop)
# Peak RSS must be under
#   bound = baseline + SLACK_PCT/100 * (terms + queue) + SLACK_MIB
# where baseline is the peak RSS of the same binary on a 5-packet capture
# (nDPI's tables, the libraries), and each case's terms are the bounds it can
# reach (a SYN opens no stream; a stream whose every segment comes in order
# has nothing pending; a stream our reader gave up at once holds nothing:
# each case says why, and checks the counter that shows it). The slack covers
# malloc's overhead and fragmentation. Release build: SLACK_PCT 125,
# SLACK_MIB 8. ASan build (found by its __asan_init symbol): ASan adds
# redzones and shadow memory to every allocation and keeps freed memory in
# quarantine and in per-size-class free lists, so the runs set ASAN_OPTIONS
# quarantine_size_mb=16 and allocator_release_to_os_interval_ms=0 (with
# ASan's defaults the reader flood peaks at 350 MiB: the bound would measure
# ASan, not trackwatchd) and use SLACK_PCT 250, SLACK_MIB 40 (the 16 MiB
# quarantine costs about 30 MiB of RSS). HOSTILE_SLACK_PCT and
# HOSTILE_SLACK_MIB override either; an ASAN_OPTIONS from the environment is
# appended to ours (its settings win).
#
# Known bugs: cases in HOSTILE_KNOWN_BUGS (default: none) whose RSS goes
# over the bound are reported as XFAIL and do not fail the run; one that
# stays under is an XPASS and fails (take it off the list). Two cases were
# known bugs when this test was written, both fixed since:
#   ndpi-tls-flood  nDPI 4.2's TLS dissector buffered each flow's TLS record
#                   (~16 KiB a flow) outside every bound, 1.2 GB at 65536
#                   flows; now our readers take TLS flows from nDPI at their
#                   first payload.
#   ooo-tiny-wide   the 32 MiB of waiting segments counted their bytes, not
#                   what each segment costs (~32 bytes more): 63 one-byte
#                   segments on each of 65536 streams took 126 MiB while
#                   4 MiB were counted. Heavy (4.3 million packets, 305 MB;
#                   11 s with the release build, over 2 minutes with ASan):
#                   run only with HOSTILE_FULL=1.
# HOSTILE_CASES="syn-flood dns-loop" runs only those cases.
set -u
bin=${1:?usage: hostile.sh TRACKWATCHD}
here=$(cd "$(dirname "$0")/../.." && pwd)
gen=$here/tests/integration/make-hostile.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
passed=0
failed=0
started=$(date +%s)

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

KiB=1024
MiB=$((1024 * 1024))
if grep -q __asan_init "$bin" 2>/dev/null; then
	build=asan
	slack_pct=${HOSTILE_SLACK_PCT:-250}
	slack_mib=${HOSTILE_SLACK_MIB:-40}
else
	build=release
	slack_pct=${HOSTILE_SLACK_PCT:-125}
	slack_mib=${HOSTILE_SLACK_MIB:-8}
fi
ASAN_OPTIONS="quarantine_size_mb=16:allocator_release_to_os_interval_ms=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS
known=${HOSTILE_KNOWN_BUGS-}
cases=${HOSTILE_CASES:-syn-flood ooo-flood ooo-tiny ndpi-tls-flood reader-flood server-flood dns-tcp-flood dns-loop quic-flood http-hosts-flood}
if [ "${HOSTILE_FULL:-0}" = 1 ] && [ -z "${HOSTILE_CASES:-}" ]; then
	cases="$cases ooo-tiny-wide"
fi
[ -x /usr/bin/time ] || { echo "hostile: /usr/bin/time is missing (Debian package time)"; exit 1; }

flow_idle=$KiB          # a flow nDPI looks at, no payload yet
flow_payload=$((3 * KiB)) # a flow nDPI looks at, payload seen
flow_done=200           # a flow nDPI is done with
flow_stream=512         # a flow, its state and one stream being read, nDPI done
pending=$((32 * MiB))
readers=$((32 * MiB))
queue=$((4 * MiB))

# The baseline: the same binary on a 5-packet capture.
/usr/bin/time -f '%M' -o "$tmp/base.rss" "$bin" -q -r "$here/tests/data/dns.pcap" \
	--jsonl /dev/null 2> "$tmp/base.err"
base_kib=$(tail -n 1 "$tmp/base.rss")
case $base_kib in ''|*[!0-9]*) echo "hostile: cannot measure the baseline"; cat "$tmp/base.rss" "$tmp/base.err"; exit 1;; esac
echo "hostile: $build build, baseline $((base_kib / 1024)) MiB, bound = baseline + $slack_pct% x terms + $slack_mib MiB"

# From the generator's line: the value of KEY (packets, flows, ...).
expect() { sed -n "s/^make-hostile: [^:]*:.*[ ,]$1[ =]\([0-9]*\).*/\1/p" "$tmp/$name.gen"; }
# From the statistics: the number after KEY in the line "trackwatchd: TITLE: ...", 0 if absent.
count() {
	awk -v p="trackwatchd: $1:" -v k="$2" '
		index($0, p) == 1 {
			n = split(substr($0, length(p) + 1), items, ",")
			for (i = 1; i <= n; i++) { split(items[i], w, " "); if (w[1] == k) v = w[2] }
		}
		END { print v + 0 }' "$tmp/$name.err"
}
flows_field() { # created | peak | evicted
	case $1 in
	created) sed -n 's/^trackwatchd: flows \([0-9]*\) .*/\1/p' "$tmp/$name.err";;
	peak) sed -n 's/^trackwatchd: flows .*(peak \([0-9]*\) at once.*/\1/p' "$tmp/$name.err";;
	evicted) sed -n 's/^trackwatchd: flows .*evicted \([0-9]*\),.*/\1/p' "$tmp/$name.err";;
	esac
}
# check DESCRIPTION TEST...: one assertion about the current case.
check() {
	what=$1; shift
	if [ "$@" ]; then ok; else bad "$name: $what"; fi
}

# run NAME MAX_FLOWS TERMS_BYTES TERMS_TEXT: streams the capture in, checks
# status, standard error, packet count and peak RSS.
run() {
	name=$1 max_flows=$2 terms=$3 terms_text=$4
	python3 "$gen" --stdout "$name" 2> "$tmp/$name.gen" |
		/usr/bin/time -f '%e %M' -o "$tmp/$name.time" "$bin" -r - --max-flows "$max_flows" \
			--jsonl "$tmp/$name.jsonl" 2> "$tmp/$name.err"
	status=$?
	read -r secs rss_kib <<EOF
$(tail -n 1 "$tmp/$name.time")
EOF
	case ${rss_kib:-x} in *[!0-9]*)
		bad "$name: no peak RSS from /usr/bin/time"; sed 's/^/    /' "$tmp/$name.time"; return;;
	esac
	check "exit status $status, want 0" "$status" -eq 0
	if grep -v '^trackwatchd: ' "$tmp/$name.err" | grep -q .; then
		bad "$name: unexpected output on standard error (sanitizer?)"
		grep -v '^trackwatchd: ' "$tmp/$name.err" | head -20 | sed 's/^/    /'
	else
		ok
	fi
	want_packets=$(expect packets)
	if [ -z "$want_packets" ]; then
		bad "$name: the generator did not finish"; sed 's/^/    /' "$tmp/$name.gen" | tail -5; return
	fi
	got_packets=$(sed -n 's/^trackwatchd: packets \([0-9]*\),.*/\1/p' "$tmp/$name.err")
	check "packets ${got_packets:-none}, want $want_packets" "${got_packets:-0}" -eq "$want_packets"
	bound_kib=$(( (base_kib * KiB + slack_pct * (terms + queue) / 100 + slack_mib * MiB) / KiB ))
	mb=$(awk -v b="$(expect bytes)" 'BEGIN { printf "%.0f", b / 1e6 }')
	printf 'hostile: %-14s %4s MB in, %6s s, peak RSS %4d MiB, bound %4d MiB (%s)\n' "$name" "$mb" \
		"$secs" $((rss_kib / 1024)) $((bound_kib / 1024)) "$terms_text"
	case " $known " in
	*" $name "*)
		if [ "$rss_kib" -gt "$bound_kib" ]; then
			echo "XFAIL: $name: peak RSS $((rss_kib / 1024)) MiB over the bound (known bug)"
		else
			bad "$name: XPASS: under the bound now; take it off HOSTILE_KNOWN_BUGS"
		fi;;
	*)
		check "peak RSS $((rss_kib / 1024)) MiB over the bound $((bound_kib / 1024)) MiB" \
			"$rss_kib" -le "$bound_kib";;
	esac
}

for name in $cases; do
	case $name in
	syn-flood)
		# SYNs only: no payload, no stream. flows: 4096 x 1 KiB.
		run syn-flood 4096 $((4096 * flow_idle)) "4096 flows x 1 KiB"
		want=$(expect flows)
		check "flows $(flows_field created), want $want" "$(flows_field created)" -eq "$want"
		check "peak $(flows_field peak) flows at once, want 4096" "$(flows_field peak)" -eq 4096
		check "evicted $(flows_field evicted), want $((want - 4096))" \
			"$(flows_field evicted)" -eq $((want - 4096));;
	ooo-flood)
		# 2600 flows x 3 KiB + pending 32 MiB + readers 32 MiB (the HTTP
		# readers hold their first line).
		run ooo-flood 4096 $((2600 * flow_payload + pending + readers)) \
			"2600 flows x 3 KiB + 32 + 32 MiB"
		# Per-stream bound: each TLS stream holds 50 x 1400 > 64 KiB.
		check "TLS bad_record $(count 'TLS client streams' bad_record), want $(expect tls_flows)" \
			"$(count 'TLS client streams' bad_record)" -eq "$(expect tls_flows)"
		# Sensor-wide bound: 40 x 1400 is under the per-stream bound, and the
		# streams that never had a gap hold 56,000 bytes each at the end,
		# together at most 32 MiB: at most 599 of them.
		http=$(expect http_flows)
		gaps=$(count 'HTTP/1 client streams ended' gap)
		check "HTTP gap $gaps, want at least $((http - 32 * MiB / 56000))" \
			"$gaps" -ge $((http - 32 * MiB / 56000))
		check "HTTP gap $gaps, want at most $http" "$gaps" -le "$http";;
	ooo-tiny)
		# 4096 flows x 3 KiB + pending + readers (a request line each).
		run ooo-tiny 4096 $((4096 * flow_payload + pending + readers)) \
			"4096 flows x 3 KiB + 32 + 32 MiB"
		# Per-stream segment bound: the 65th one-byte segment forces a gap.
		check "HTTP gap $(count 'HTTP/1 client streams ended' gap), want $(expect flows)" \
			"$(count 'HTTP/1 client streams ended' gap)" -eq "$(expect flows)";;
	ooo-tiny-wide)
		# The default --max-flows. nDPI is done with every flow at its
		# first payload (checked: none given up), each keeps its client
		# stream, whose DNS reader holds nothing between messages:
		# 65536 flows x 512 bytes + pending 32 MiB.
		run ooo-tiny-wide 65536 $((65536 * flow_stream + pending)) \
			"65536 flows x 512 B + 32 MiB"
		check "dns_query $(count observations dns_query), want $(expect flows)" \
			"$(count observations dns_query)" -eq "$(expect flows)"
		check "nDPI gave up on flows" -z "$(grep '^trackwatchd: nDPI:.*given up' "$tmp/$name.err" | grep -v ' 0 flows given up')";;
	ndpi-tls-flood)
		# Every stream ends in our reader at its first segment (bad_hello)
		# and comes in order: nothing but the flows. 8192 flows x 3 KiB.
		run ndpi-tls-flood 8192 $((8192 * flow_payload)) "8192 flows x 3 KiB"
		check "TLS bad_hello $(count 'TLS client streams' bad_hello), want $(expect flows)" \
			"$(count 'TLS client streams' bad_hello)" -eq "$(expect flows)";;
	reader-flood)
		# Every segment in order: flows (2902 x 3 KiB) + readers 32 MiB.
		run reader-flood 4096 $((2902 * flow_payload + readers)) "2902 flows x 3 KiB + 32 MiB"
		# Readers left hanging do not blind the sensor: two seconds on, they
		# make room, and a hello and a request split over two segments are read.
		check "the TLS victim is read" -n "$(grep '"kind":"tls_sni","host":"victim.reader.example"' "$tmp/$name.jsonl")"
		check "the HTTP victim is read" -n "$(grep '"kind":"http_request","host":"victim.reader.example"' "$tmp/$name.jsonl")"
		# Per-stream bound: a header block over 64 KiB.
		check "HTTP too_long $(count 'HTTP/1 client streams ended' too_long), want $(expect endless)" \
			"$(count 'HTTP/1 client streams ended' too_long)" -eq "$(expect endless)"
		# Sensor-wide bound: 2200 readers of 64 KiB do not fit in 32 MiB; those
		# dropped never complete their hello or header block.
		named=$(( $(count observations tls_sni) + $(count observations http_request) ))
		total=$(( $(expect tls_flows) + $(expect http_flows) ))
		check "tls_sni + http_request $named, want fewer than $total" "$named" -lt "$total"
		check "tls_sni + http_request $named, want some" "$named" -gt 0
		check "TLS done $(count 'TLS client streams' "done") != tls_sni" \
			"$(count 'TLS client streams' "done")" -eq "$(count observations tls_sni)";;
	server-flood)
		# Every segment in order: flows (2300 x 3 KiB) + readers 32 MiB.
		run server-flood 4096 $((2300 * flow_payload + readers)) "2300 flows x 3 KiB + 32 MiB"
		check "HTTP server too_long $(count 'HTTP/1 server streams ended' too_long), want $(expect endless)" \
			"$(count 'HTTP/1 server streams ended' too_long)" -eq "$(expect endless)"
		# The requests come first, while readers hold little: all read.
		check "http_request $(count observations http_request), want $(expect requests)" \
			"$(count observations http_request)" -eq "$(expect requests)"
		# 2200 response readers of 64 KiB do not fit in 32 MiB.
		got=$(count observations http_response)
		check "http_response $got, want fewer than $(expect http_flows)" "$got" -lt "$(expect http_flows)"
		check "http_response $got, want some" "$got" -gt 0;;
	dns-tcp-flood)
		# Every segment in order: flows (3000 x 3 KiB) + readers 32 MiB.
		run dns-tcp-flood 4096 $((3000 * flow_payload + readers)) "3000 flows x 3 KiB + 32 MiB"
		# A reader holding a 65535-byte message each: 32 MiB / 65535 = 512.
		got=$(count observations dns_query)
		check "dns_query $got, want at most $((32 * MiB / 65535))" "$got" -le $((32 * MiB / 65535))
		check "dns_query $got, want some" "$got" -gt 0;;
	http-hosts-flood)
		# 17001 flows x 3 KiB + readers 32 MiB; the flow table holds them all.
		run http-hosts-flood 32768 $((17001 * flow_payload + readers)) "17001 flows x 3 KiB + 32 MiB"
		check "the TLS victim is read after 17000 unanswered requests" \
			-n "$(grep '"kind":"tls_sni","host":"victim.hosts.example"' "$tmp/$name.jsonl")";;
	quic-flood)
		# 601 flows x 3 KiB + readers 32 MiB (QUIC readers count against it).
		run quic-flood 4096 $((601 * flow_payload + readers)) "601 flows x 3 KiB + 32 MiB"
		check "readers given up for memory, want some" \
			"$(sed -n 's/^trackwatchd: stream readers given up for memory: //p' "$tmp/$name.err")" -gt 0
		check "the TLS victim is read after the QUIC readers" \
			-n "$(grep '"kind":"tls_sni","host":"victim.quic.example"' "$tmp/$name.jsonl")";;
	dns-loop)
		# UDP: no stream. 1000 flows x 3 KiB + the address -> name cache
		# (8192 entries of 288 bytes, filled).
		run dns-loop 4096 $((1000 * flow_payload + 8192 * 288)) "1000 flows x 3 KiB + 2.25 MiB"
		for e in bad_pointer bad_rdata pointer_loop name_too_long truncated; do
			check "DNS errors $e $(count 'DNS errors' $e), want $(expect $e)" \
				"$(count 'DNS errors' $e)" -eq "$(expect $e)"
		done
		got=$(sed -n 's/^trackwatchd: DNS messages \([0-9]*\).*/\1/p' "$tmp/$name.err")
		check "DNS messages ${got:-none}, want $(expect messages)" "${got:-0}" -eq "$(expect messages)"
		check "dns_answer $(count observations dns_answer), want $(expect dns_answer)" \
			"$(count observations dns_answer)" -eq "$(expect dns_answer)"
		# At most 32 questions per message: 32 observations per query of 500.
		check "dns_query $(count observations dns_query), want $(expect dns_query)" \
			"$(count observations dns_query)" -eq "$(expect dns_query)";;
	*)
		bad "unknown case $name";;
	esac
done

echo "hostile: $passed passed, $failed failed ($(( $(date +%s) - started )) s)"
[ "$failed" -eq 0 ]

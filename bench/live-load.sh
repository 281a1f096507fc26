#!/bin/sh
# Packets lost under load in live capture: the mixed benchmark capture
# replayed by tcpreplay as fast as it can send into one end of a veth pair,
# while trackwatchd captures on the other end, inside a network namespace, as
# deployed (default lists loaded, observations matched and written to a new
# timeline database). For each run: the packets tcpreplay sent and the rate it
# reached, the packets trackwatchd read, and what the kernel says it dropped
# for it (libpcap's counters, printed by trackwatchd at SIGTERM: "dropped by
# kernel" is the capture ring overflowing because the sensor read too slowly,
# "dropped by interface" the device's missed and FIFO errors), with the drop
# percentage of what was sent. Two checks of the counters, both 0 when they
# are right: "unaccounted", sent but never counted by the kernel for the
# capture (lost before the capture socket, or miscounted), and "unread",
# counted as received but neither read nor dropped. trackwatchd is stopped
# only once it has read everything the ring holds (its CPU time stops
# growing), so packets still queued at the end are not taken for losses.
# "observations dropped" are the writer's losses (its queue full), and "CPU"
# the sensor's CPU time over the replay's time: 100 % is one core kept busy,
# so its reciprocal says roughly how much more traffic it could read.
#
# Then, for comparison, the same replay while ndpiReader (Debian's
# libndpi-bin, nDPI 4.2) captures instead, when it is installed. ndpiReader
# 4.2 reports no kernel counters; its "N packets total" is what it read, and
# the rest of what was sent is counted as lost.
#
# Last, a rate ladder: the same replay at fixed rates (tcpreplay --pps) with
# trackwatchd capturing, from the slowest up, stopping at the first rate with
# drops, and the highest rate reached with none. When there are none even at
# top speed, the sender is the limit of the test, not trackwatchd: on a veth
# pair one tcpreplay tops out at a few hundred thousand packets per second,
# its CPU spent mostly in the kernel's transmit path (which also copies each
# frame into the capture ring).
#
#   bench/live-load.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR holds bench/make-bench-pcap.sh and the corpus it replays (default
# ../shared beside the checkout); RUNS defaults to 3 (0: the ladder only). The
# capture is built once into build/bench/ and reused; the last run's logs are
# left there (live-*.err, live-*.out). Needs root (a network namespace, raw
# sockets), tcpreplay and ip; ethtool (to turn the veth offloads off) and
# ndpiReader are used when present. Environment: RATES, the ladder's packets
# per second (default "50000 100000 200000 300000 400000"; empty skips the
# ladder); TRACKWATCHD, a binary to test instead of building build/trackwatchd
# (keep it inside the checkout, e.g. a copy under build/, so that it finds the
# bundled lists).
#
# The namespace "twload" and the veth pair tw-load-a (host side) and
# tw-load-b (in the namespace) are made for the run and removed on any exit,
# Ctrl-C included. The veths get the largest MTU, so that the capture's frames
# of up to 37 KB (recorded with offloads on) are sent, not refused; IPv6 is
# off on both, so that the kernel sends nothing of its own on them. A daemon
# that gives up root for daemon.user and serves a control socket is given a
# configuration of its own (daemon.user nobody, control.socket none, the
# default lists) and -d, so that it logs to standard error, not syslog. One
# run (trackwatchd, then ndpiReader) takes about 8 seconds, the ladder about
# 35, the defaults a minute in all.
#
# On a 2-core VM (Debian 12, kernel 6.x) tcpreplay reached 200,000 to 370,000
# packets per second (0.9 to 1.7 Gbit/s) and trackwatchd read every packet at
# every rate, using a fifth to a third of a core at top speed; ndpiReader
# lost 0 to 15 % at top speed, from run to run as the machine's other load
# varied (with libpcap's default 2 MiB ring, where trackwatchd asks for
# 16 MiB). So on such a machine the sender is the limit, and the
# sensor's own ceiling is only estimated from its CPU use: about a million
# packets per second of this mix, in line with bench/throughput.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$here/../shared}
runs=${2:-3}
rates=${RATES-50000 100000 200000 300000 400000}
out=$here/build/bench
mkdir -p "$out"
pcap=$out/mixed.pcap
ns=twload
veth_a="tw-load-a"
veth_b="tw-load-b"

[ "$(id -u)" -eq 0 ] || { echo "live-load.sh needs root (network namespace, raw sockets)" >&2; exit 1; }
command -v tcpreplay >/dev/null || { echo "tcpreplay not found: apt-get install tcpreplay" >&2; exit 1; }
command -v ip >/dev/null || { echo "ip not found: apt-get install iproute2" >&2; exit 1; }
have_ethtool=1
command -v ethtool >/dev/null || { have_ethtool=0; echo "note: ethtool not found (apt-get install ethtool), veth offloads left as they are"; }
have_ndpi=1
command -v ndpiReader >/dev/null || { have_ndpi=0; echo "note: ndpiReader not found (apt-get install libndpi-bin), no comparison"; }
if [ -n "${TRACKWATCHD-}" ]; then
	tw=$TRACKWATCHD
	[ -x "$tw" ] || { echo "TRACKWATCHD=$tw is not executable" >&2; exit 1; }
else
	make -C "$here" --no-print-directory -s build/trackwatchd
	tw=$here/build/trackwatchd
fi
if [ ! -s "$pcap" ]; then
	echo "building $pcap from $shared/bench/make-bench-pcap.sh ..."
	sh "$shared/bench/make-bench-pcap.sh" "$pcap"
fi
if ip netns list | grep -q "^$ns\\b" || ip link show "$veth_a" >/dev/null 2>&1; then
	echo "namespace $ns or link $veth_a exists: another live-load.sh runs, or one was killed;" >&2
	echo "remove them with: ip netns del $ns; ip link del $veth_a" >&2
	exit 1
fi

tmp=
daemon_pid=
replay_pid=
made_ns=
# alive PID: whether PID runs (a zombie does not)
alive() {
	[ -d "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}
# stop PID: SIGTERM, then SIGKILL after 5 s; reaps it.
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	n=0
	while alive "$1" && [ $n -lt 50 ]; do
		sleep 0.1; n=$((n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	trap - EXIT INT TERM HUP
	[ -z "$replay_pid" ] || stop "$replay_pid"
	[ -z "$daemon_pid" ] || stop "$daemon_pid"
	if [ -n "$made_ns" ]; then
		ip netns del "$ns" 2>/dev/null || true
		ip link del "$veth_a" 2>/dev/null || true
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/live-load.XXXXXX")
# The database's directory is the daemon's user's, when it switches to one.
chmod 755 "$tmp"
mkdir "$tmp/db"
set --
if "$tw" --dump-config 2>/dev/null | grep -q '^daemon:'; then
	chown nobody "$tmp/db"
	printf 'daemon:\n  user: nobody\ncontrol:\n  socket: none\n' > "$tmp/load.yaml"
	set -- -c "$tmp/load.yaml"
fi
! "$tw" --help | grep -q -- '--debug' || set -- "$@" -d
tw_options=$*

ip netns add "$ns"
made_ns=1
ip link add "$veth_a" type veth peer name "$veth_b" netns "$ns"
[ ! -w "/proc/sys/net/ipv6/conf/$veth_a/disable_ipv6" ] || echo 1 > "/proc/sys/net/ipv6/conf/$veth_a/disable_ipv6"
ip netns exec "$ns" sh -c "[ ! -w /proc/sys/net/ipv6/conf/$veth_b/disable_ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/$veth_b/disable_ipv6"
ip link set "$veth_a" mtu 65535 up
ip netns exec "$ns" ip link set "$veth_b" mtu 65535 up
if [ $have_ethtool -eq 1 ]; then
	for k in rx tx sg tso gso gro; do
		ethtool -K "$veth_a" "$k" off >/dev/null 2>&1 || true
		ip netns exec "$ns" ethtool -K "$veth_b" "$k" off >/dev/null 2>&1 || true
	done
fi

packets=$("$tw" -r "$pcap" --jsonl /dev/null 2>&1 | sed -n 's/.*packets \([0-9]*\),.*/\1/p')
echo "capture: $pcap, $packets packets, $(du -m "$pcap" | cut -f1) MiB; replayed on $veth_a, captured on $veth_b in namespace $ns"
echo "trackwatchd: $("$tw" --version | head -1); $(tcpreplay --version 2>&1 | head -1)$([ $have_ndpi -eq 0 ] || echo "; ndpiReader: nDPI $(ndpiReader -h 2>/dev/null | sed -n 's/.*nDPI \([0-9.]*\).*/\1/p' | head -1)")"

# ticks PID: the process's CPU time so far (all threads), in clock ticks
ticks() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
# waiting PID: whether a thread of PID waits in poll, select or epoll
waiting() {
	for t in /proc/"$1"/task/*; do
		read -r call _ < "$t/syscall" 2>/dev/null || continue
		case $call in 7|23|232|270|271|281|441) return 0 ;; esac
	done
	return 1
}
# ready PID LOG: waits until PID captures: a packet socket open in the
# namespace, a thread waiting for packets, its CPU time still (start-up done)
ready() {
	n=0; last=
	while [ $n -lt 600 ]; do
		alive "$1" || { echo "capture did not start:" >&2; tail -5 "$2" >&2; exit 1; }
		now=$(ticks "$1")
		if [ "$(ip netns exec "$ns" cat /proc/net/packet | wc -l)" -gt 1 ] && waiting "$1" &&
		   [ "$now" = "$last" ]; then
			return 0
		fi
		last=$now
		sleep 0.2; n=$((n + 1))
	done
	echo "capture not ready after 120 s:" >&2; tail -5 "$2" >&2; exit 1
}
# drained PID: waits until PID's CPU time stops growing for half a second
drained() {
	n=0; last=$(ticks "$1")
	while [ $n -lt 240 ]; do
		sleep 0.5
		now=$(ticks "$1")
		[ "$now" != "$last" ] || return 0
		last=$now; n=$((n + 1))
	done
	echo "warning: still busy 120 s after the replay; stopped anyway" >&2
}
# replay --topspeed|--pps=N: sends the capture; "sent pps mbps seconds" into $tmp/replay
replay() {
	status=0
	tcpreplay "$@" -i "$veth_a" "$pcap" > "$out/live-replay.out" 2>&1 &
	replay_pid=$!
	wait "$replay_pid" || status=$?
	replay_pid=
	[ $status -eq 0 ] || { echo "tcpreplay failed ($status):" >&2; tail -5 "$out/live-replay.out" >&2; exit 1; }
	awk '/Successful packets:/ { sent = $3 }
	     /^Actual:/ { for (i = 2; i <= NF; i++) if ($i == "in") secs = $(i + 1) }
	     /^Rated:/ { for (i = 2; i <= NF; i++) { if ($(i + 1) ~ /^Mbps/) mbps = $i; if ($(i + 1) ~ /^pps/) pps = $i } }
	     END { if (sent == "" || pps == "" || secs == "") exit 1; printf "%d %.0f %.1f %s\n", sent, pps, mbps, secs }' \
		"$out/live-replay.out" > "$tmp/replay" || {
		echo "cannot read tcpreplay's report:" >&2; cat "$out/live-replay.out" >&2; exit 1; }
}
hz=$(getconf CLK_TCK)
# capture PID LOG [--topspeed|--pps=N]: one replay while PID captures, once
# ready; stops when PID has read all; "sent pps mbps cpu%" into $tmp/replay,
# cpu% its CPU time over the replay's time (100: one core kept busy)
capture() {
	pid=$1; log=$2; shift 2
	ready "$pid" "$log"
	t0=$(ticks "$pid")
	replay "$@"
	drained "$pid"
	t1=$(ticks "$pid")
	awk -v t="$((t1 - t0))" -v hz="$hz" '{ printf "%s %s %s %.0f\n", $1, $2, $3, 100 * t / hz / $4 }' \
		"$tmp/replay" > "$tmp/replay.cpu"
	mv "$tmp/replay.cpu" "$tmp/replay"
}
# daemon_run --topspeed|--pps=N: one replay captured by trackwatchd; into
# $tmp/result: "sent pps mbps cpu% received read kernel_drops interface_drops
# observations_dropped" (no command substitution: the trap must know the pids)
daemon_run() {
	rm -f "$tmp"/db/load.db*
	# shellcheck disable=SC2086 # the options: no spaces in $tmp (mktemp)
	ip netns exec "$ns" "$tw" $tw_options -i "$veth_b" --db "$tmp/db/load.db" > "$out/live-tw.out" 2> "$out/live-tw.err" &
	daemon_pid=$!
	capture "$daemon_pid" "$out/live-tw.err" "$@"
	status=0
	kill -TERM "$daemon_pid"
	wait "$daemon_pid" || status=$?
	daemon_pid=
	[ $status -eq 0 ] || { echo "trackwatchd exited $status after SIGTERM:" >&2; tail -5 "$out/live-tw.err" >&2; exit 1; }
	# one "received by filter" line per interface captured on
	awk '/received by filter/ { seen = 1; for (i = 1; i < NF; i++) { v = $(i + 1); sub(",", "", v)
			if ($i == "filter") recv += v; if ($i == "kernel") kd += v; if ($i == "interface") id += v } }
		/^trackwatchd: packets / { v = $3; sub(",", "", v); read = v }
		/observations dropped/ { od = $NF }
		END { if (!seen || read == "") exit 1; printf "%d %d %d %d %d\n", recv, read, kd, id, od }' \
		"$out/live-tw.err" > "$tmp/counts" || {
		echo "cannot read trackwatchd's statistics:" >&2; cat "$out/live-tw.err" >&2; exit 1; }
	echo "$(cat "$tmp/replay") $(cat "$tmp/counts")" > "$tmp/result"
}
# ndpi_run: one replay captured by ndpiReader; "sent pps mbps cpu% read" into $tmp/result
ndpi_run() {
	ip netns exec "$ns" ndpiReader -i "$veth_b" > "$out/live-ndpi.out" 2> "$out/live-ndpi.err" &
	daemon_pid=$!
	capture "$daemon_pid" "$out/live-ndpi.err" --topspeed
	status=0
	kill -INT "$daemon_pid"
	wait "$daemon_pid" || status=$?
	daemon_pid=
	[ $status -eq 0 ] || { echo "ndpiReader exited $status after SIGINT:" >&2; tail -5 "$out/live-ndpi.err" >&2; exit 1; }
	k=$(sed -n 's/.* of \([0-9]*\) packets total.*/\1/p' "$out/live-ndpi.out")
	[ -n "$k" ] || { echo "cannot read ndpiReader's packet count:" >&2; tail -20 "$out/live-ndpi.out" >&2; exit 1; }
	echo "$(cat "$tmp/replay") $k" > "$tmp/result"
}

# For trackwatchd, the columns below: sent pps mbps cpu% read dropped drop% unaccounted
# unread observations_dropped. Unaccounted: sent, not counted by the kernel for the
# capture; unread: counted as received, neither read nor dropped.
tw_columns() {
	awk '{ printf "%d %d %.1f %d %d %d %.3f %d %d %d\n", $1, $2, $3, $4, $6, $7 + $8,
		100 * ($7 + $8) / $1, $1 - $5 - $8, $5 - $6 - $7, $9 }'
}
tw_line() { # LABEL: one line of tw_columns
	awk -v label="$1" '{ printf "%s sent %d at %d pps (%.1f Mbps), read %d, dropped %d (%.3f %%), unaccounted %d, unread %d, observations dropped %d, CPU %d %%\n",
		label, $1, $2, $3, $5, $6, $7, $8, $9, $10, $4 }'
}
# For ndpiReader: sent pps mbps cpu% read lost lost%
ndpi_columns() {
	awk '{ printf "%d %d %.1f %d %d %d %.3f\n", $1, $2, $3, $4, $5, $1 - $5, 100 * ($1 - $5) / $1 }'
}
ndpi_line() { # LABEL: one line of ndpi_columns
	awk -v label="$1" '{ printf "%s sent %d at %d pps (%.1f Mbps), read %d, lost %d (%.3f %%; it reports no kernel counters), CPU %d %%\n",
		label, $1, $2, $3, $5, $6, $7, $4 }'
}

: > "$tmp/tw.runs"
: > "$tmp/ndpi.runs"
begin=$(date +%s)
i=1
while [ "$i" -le "$runs" ]; do
	daemon_run --topspeed
	tw_columns < "$tmp/result" >> "$tmp/tw.runs"
	tail -1 "$tmp/tw.runs" | tw_line "run $i: trackwatchd"
	if [ $have_ndpi -eq 1 ]; then
		ndpi_run
		ndpi_columns < "$tmp/result" >> "$tmp/ndpi.runs"
		tail -1 "$tmp/ndpi.runs" | ndpi_line "run $i: ndpiReader "
	fi
	i=$((i + 1))
done

median() { # column file
	sort -g -k"$1","$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
medians() { # file columns: the median of each column, on one line
	m=
	c=1
	while [ $c -le "$2" ]; do m="$m $(median $c "$1")"; c=$((c + 1)); done
	echo "$m"
}
if [ "$runs" -gt 0 ]; then
	echo "median of $runs runs at top speed ($(($(date +%s) - begin)) s in all):"
	medians "$tmp/tw.runs" 10 | tw_line "  trackwatchd"
	[ $have_ndpi -eq 0 ] || medians "$tmp/ndpi.runs" 7 | ndpi_line "  ndpiReader "
fi

if [ -n "$rates" ]; then
	echo "rate ladder (trackwatchd, one replay per rate, up to the first with drops):"
	begin=$(date +%s)
	best=0; best_at=; failed_at=
	for rate in $rates top; do
		if [ "$rate" = top ]; then daemon_run --topspeed; else daemon_run --pps="$rate"; fi
		tw_columns < "$tmp/result" > "$tmp/rung"
		# asked for, and "(short)" when tcpreplay did not reach it
		label=$(awk -v r="$rate" '{ printf "  %-11s %s", r == "top" ? "top speed:" : r " pps:",
			r != "top" && $2 < 0.95 * r ? "(short)" : "       " }' "$tmp/rung")
		tw_line "$label" < "$tmp/rung"
		# shellcheck disable=SC2046 # the words of the line
		set -- $(cat "$tmp/rung")
		if [ "$6" -ne 0 ] || [ "$8" -ne 0 ] || [ "$9" -ne 0 ] || [ "$5" -ne "$1" ]; then
			failed_at=$2; break
		fi
		[ "$2" -le "$best" ] || { best=$2; best_at=$rate; }
	done
	echo "  ($(($(date +%s) - begin)) s)"
	if [ -z "$failed_at" ]; then
		echo "  no drops at any rate, up to $best pps: the sender, not trackwatchd, is the limit here"
	elif [ "$best" -eq 0 ]; then
		echo "  drops already at the lowest rate tried (reached $failed_at pps)"
	else
		echo "  highest rate without drops: $best pps (asked: $best_at); drops at $failed_at pps"
	fi
fi

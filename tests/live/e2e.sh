#!/bin/bash
# The end-to-end live test (`make check-live`, not part of `make check`):
# trackwatchd captures live, in a network namespace, the traffic of a real
# headless Chromium that the shared lab's generator drives through a consent
# banner (SHARED_DIR/e2e/gen.sh, scenario "accept": news.example and its
# trackers over HTTPS, no TLS keys given to the sensor). While it runs,
# `trackwatch status` must answer through the control socket and count
# packets; afterwards the report for the browser's device and the site must
# list every tracker host of the generator's truth file (made from its
# servers' logs, not from the capture) with its company, and nothing else
# (tests/integration/report-vs-truth.py).
#
#   tests/live/e2e.sh SHARED_DIR            (root; Debian 12; network for apt/npm)
#
# gen.sh installs what it needs itself (chromium, nginx, dnsmasq, playwright-core
# from npm, ...). Its work directory (E2E_WORK) is a fresh temporary directory,
# removed at the end with everything else this script made (E2E_KEEP=1 keeps
# it). Exit status: 0 when every step passed, 1 otherwise, 2 on a usage error.
set -u

usage() { echo "usage: tests/live/e2e.sh SHARED_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
shared=$(cd "$1" 2>/dev/null && pwd) || { echo "e2e: no directory $1" >&2; exit 2; }
gen=$shared/e2e/gen.sh
here=$(cd "$(dirname "$0")/../.." && pwd)
d=$here/build/trackwatchd
cli=$here/build/trackwatch
device=10.99.0.2
scenario=accept
# Seconds the whole generator run may take (apt and npm on a cold machine included).
gen_timeout=${E2E_TIMEOUT:-900}

t0=$(date +%s)
log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*"; }

results=()
failed=0
# result NAME PASS|FAIL DETAIL
result() {
	results+=("$(printf '%-4s %-9s %s' "$2" "$1" "$3")")
	[ "$2" = PASS ] || failed=$((failed + 1))
	log "$2 $1: $3"
}

summary() {
	echo
	echo "== check-live summary ($(( $(date +%s) - t0 )) s)"
	printf '%s\n' "${results[@]}"
	if [ $failed -eq 0 ]; then
		echo "check-live: PASS (${#results[@]} steps)"
	else
		echo "check-live: FAIL ($failed of ${#results[@]} steps failed)"
	fi
}

tmp=
gen_pid=
cleanup() {
	if [ -n "$gen_pid" ] && kill -0 "$gen_pid" 2>/dev/null; then
		# gen.sh's own trap stops what it started and removes its namespaces.
		kill -TERM "$gen_pid" 2>/dev/null
		wait "$gen_pid" 2>/dev/null
	fi
	if [ -n "$tmp" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			log "E2E_KEEP=1: kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

abort() { summary; exit 1; }

# show FILE: indented, the first 25 and last 10 lines of a long one.
show() {
	[ -f "$1" ] || return 0
	if [ "$(wc -l < "$1")" -le 40 ]; then
		sed 's/^/    /' "$1"
	else
		head -25 "$1" | sed 's/^/    /'
		echo "    ..."
		tail -10 "$1" | sed 's/^/    /'
	fi
}

[ "$(id -u)" = 0 ] || { echo "e2e: must run as root (network namespaces, capture)" >&2; exit 2; }
[ -f "$gen" ] || { echo "e2e: no generator $gen" >&2; exit 2; }
tmp=$(mktemp -d /tmp/trackwatch-live.XXXXXX)

# 1. Build.
log "building (make all)"
if make -C "$here" --no-print-directory all > "$tmp/build.log" 2>&1; then
	result build PASS "build/trackwatchd, build/trackwatch"
else
	tail -30 "$tmp/build.log"
	result build FAIL "make all failed"
	abort
fi

# 2. Configuration: a database and a control socket of our own. Started as
# root, the daemon runs as daemon.user: nobody here (a fresh machine has no
# trackwatch user until make install), whose state directory this is, as
# systemd's StateDirectory= would make it.
conf=$tmp/trackwatch.yaml
chmod 0711 "$tmp"
mkdir -m 0750 "$tmp/store"
chown nobody "$tmp/store"
db=$tmp/store/trackwatch.db
sock=$tmp/trackwatchd.sock
cat > "$conf" <<EOF
# written by tests/live/e2e.sh
store:
  path: $db
control:
  socket: $sock
daemon:
  user: nobody
EOF
live_conf=$conf
if "$d" -n -c "$conf" > "$tmp/check.out" 2>&1; then
	result config PASS "trackwatchd -n: $(tail -1 "$tmp/check.out")"
else
	cat "$tmp/check.out"
	result config FAIL "trackwatchd -n -c rejects the configuration"
	abort
fi

# Another generator run (ours or anyone's) owns the namespaces "client" and
# "net" while it runs: wait for it rather than fail on it.
for i in $(seq 180); do
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qxE 'client|net' || break
	[ "$i" = 1 ] && log "network namespace client or net exists (another gen.sh run?); waiting up to 180 s"
	sleep 1
done

# 3. The scenario, the sensor live in netns "net" on veth-n. gen.sh starts the
# command with `ip netns exec net setsid /bin/sh -c CMD` after it made the
# namespaces and before the first scenario, logs to out/logs/sniffer.log and,
# after the last scenario, sends SIGINT to the command's process group (SIGKILL
# 5 s later). It does not look at the exit status: the wrapper shell ignores
# the signal itself (trackwatchd installs its own handlers) and writes it down.
work=$tmp/work
sniffer_rc=$tmp/sniffer.rc
export E2E_WORK=$work
export E2E_SNIFFER_WARMUP=${E2E_SNIFFER_WARMUP:-2}
# A live trackwatchd whose standard error is no terminal logs to syslog; -d
# keeps its messages in gen.sh's sniffer.log.
# -k: the key log Chromium writes while it browses (gen.sh makes it after the
# sensor starts): followed as it grows, so that the HTTPS is decrypted live.
keylog=$work/out/scenario-$scenario.keylog
export E2E_SNIFFER_CMD="trap '' INT TERM; '$d' -d -c '$live_conf' -i veth-n -k '$keylog'; echo \$? > '$sniffer_rc'"
log "running $gen $scenario (work directory $work, log $tmp/gen.log)"
bash "$gen" "$scenario" > "$tmp/gen.log" 2>&1 &
gen_pid=$!
# Chromium (root here) writes its key log mode 0600; the sensor, which runs
# as nobody, must be able to read it, as an operator would arrange with the
# file's mode or group: made readable as soon as it appears.
(while kill -0 "$gen_pid" 2>/dev/null; do
	[ -e "$keylog" ] && chmod 0644 "$keylog" 2>/dev/null
	sleep 0.1
done) &

# 4. While it runs: trackwatch status, about once a second.
polls=0 answered=0 counting=0 status_err='' status_seen='' early=''
start=$(date +%s)
while kill -0 "$gen_pid" 2>/dev/null; do
	# gen.sh stops the sensor only after the truth file is written.
	[ -e "$sniffer_rc" ] && [ ! -e "$work/out/scenario-$scenario.truth.json" ] && early=1
	if [ $(( $(date +%s) - start )) -gt "$gen_timeout" ]; then
		log "gen.sh still running after $gen_timeout s: stopping it"
		kill -TERM "$gen_pid" 2>/dev/null
		break
	fi
	# Only once the sensor is up (its log appears when gen.sh starts it).
	if [ -e "$work/out/logs/sniffer.log" ]; then
		polls=$((polls + 1))
		rc=0
		timeout 5 "$cli" -c "$conf" status --format json \
			> "$tmp/status.json" 2> "$tmp/status.err" || rc=$?
		if [ $rc -eq 0 ]; then
			answered=$((answered + 1))
			if python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(s.get("packets"), int) and s["packets"] > 0 else 1)' "$tmp/status.json" 2>/dev/null; then
				counting=$((counting + 1))
				cp "$tmp/status.json" "$tmp/status-seen.json"
				status_seen=1
			fi
		elif [ -z "$status_err" ]; then
			status_err="exit $rc: $(head -1 "$tmp/status.err")"
		fi
	fi
	sleep 1
done
gen_rc=0
wait "$gen_pid" || gen_rc=$?
gen_pid=
out=$work/out
truth=$out/scenario-$scenario.truth.json

if [ "$gen_rc" -eq 0 ]; then
	result scenario PASS "gen.sh $scenario: browser run, truth file, tshark checks of the capture"
else
	sed 's/^/    /' "$tmp/gen.log" | tail -25
	[ -s "$work/apt-install.log" ] && tail -10 "$work/apt-install.log" | sed 's/^/    apt: /'
	result scenario FAIL "gen.sh $scenario exited $gen_rc (see its log above)"
fi

# The sensor: it ran, and ended cleanly on gen.sh's SIGINT.
slog=$out/logs/sniffer.log
if [ ! -s "$sniffer_rc" ]; then
	show "$slog"
	result daemon FAIL "trackwatchd did not exit by itself (no exit status written)"
elif [ -n "$early" ]; then
	show "$slog"
	result daemon FAIL "trackwatchd exited $(cat "$sniffer_rc") while the scenario ran, before gen.sh stopped it"
elif [ "$(cat "$sniffer_rc")" != 0 ]; then
	show "$slog"
	result daemon FAIL "trackwatchd exited $(cat "$sniffer_rc") after SIGINT"
else
	result daemon PASS "exit 0 after SIGINT; $(grep -m1 '^trackwatchd: packets' "$slog" | sed 's/^trackwatchd: //'); $(grep -m1 '^trackwatchd: store' "$slog" | sed 's/^trackwatchd: //')"
fi

if [ -n "$status_seen" ]; then
	result status PASS "$answered of $polls polls answered, $counting with packets > 0; e.g. $(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(", ".join("%s=%s" % (k, s.get(k)) for k in ("uptime_s", "packets", "flows", "observations", "hits", "queue_depth")))' "$tmp/status-seen.json")"
elif [ "$answered" -gt 0 ]; then
	result status FAIL "$answered of $polls polls answered, never with \"packets\" > 0: $(head -c 300 "$tmp/status.json")"
else
	result status FAIL "$polls polls, none answered${status_err:+ (first: $status_err)}"
fi

# 5. The report for the browser's device and the scenario's site against the truth.
if [ ! -s "$truth" ]; then
	result report FAIL "no truth file $truth"
elif [ ! -s "$db" ]; then
	result report FAIL "no database $db"
else
	site=$(python3 -c 'import json,sys; from urllib.parse import urlparse; print(urlparse(json.load(open(sys.argv[1]))["base_url"]).hostname)' "$truth")
	# No --site: report-vs-truth.py wants this one site and no other for the device.
	if ! "$cli" -c "$conf" report --db "$db" --device "$device" --format json \
		> "$tmp/report.json" 2> "$tmp/report.err"; then
		sed 's/^/    /' "$tmp/report.err"
		result report FAIL "trackwatch report --device $device failed"
	else
		echo "== report for $device on $site against $(basename "$truth")"
		if python3 "$here/tests/integration/report-vs-truth.py" "$truth" "$tmp/report.json" > "$tmp/rvt.out" 2>&1; then
			cat "$tmp/rvt.out"
			result report PASS "$(tail -1 "$tmp/rvt.out")"
		else
			cat "$tmp/rvt.out"
			result report FAIL "$(tail -1 "$tmp/rvt.out")"
		fi
	fi
fi

# 6. Decrypted live = decrypted offline: the same capture and key log read as
# files into a fresh database give the same report (per site: the consent
# decisions, the tracker hosts and companies, and per phase the tracker
# hosts, cookies set and sent).
pcap=$out/scenario-$scenario.pcap
if [ ! -s "$pcap" ] || [ ! -s "$keylog" ] || [ ! -s "$tmp/report.json" ]; then
	result offline FAIL "no capture, key log or live report to compare"
elif ! "$d" -q -r "$pcap" -k "$keylog" --db "$tmp/offline.db" 2> "$tmp/offline.err" ||
     ! "$cli" report --db "$tmp/offline.db" --device "$device" --format json > "$tmp/offline.json" 2>> "$tmp/offline.err"; then
	sed 's/^/    /' "$tmp/offline.err"
	result offline FAIL "the offline run of the same capture failed"
elif python3 - "$tmp/report.json" "$tmp/offline.json" > "$tmp/compare.out" 2>&1 <<'EOF'
import json, sys
def view(path):
    doc = json.load(open(path))
    out = {}
    for d in doc["devices"]:
        for s in d["sites"]:
            out[s["site"]] = {
                "decisions": sorted({(c["decision"], c["source"]) for c in s.get("consent", [])}),
                "trackers": sorted((t["host"], t.get("entity")) for t in s["trackers"]),
                "phases": {p: {k: sorted(v[k]) for k in ("tracker_hosts", "cookies_set", "cookies_sent")}
                           for p, v in s.get("phases", {}).items()},
            }
    return out
live, offline = view(sys.argv[1]), view(sys.argv[2])
if live != offline:
    for site in sorted(set(live) | set(offline)):
        a, b = live.get(site), offline.get(site)
        if a != b:
            print("site %s:\n  live    %s\n  offline %s" % (site, json.dumps(a)[:1500], json.dumps(b)[:1500]))
    sys.exit(1)
s = next(iter(live.values()))
print("%d site(s); decisions %s; %d trackers; %d cookies set, %d sent before consent" % (
    len(live), [d for d, _ in s["decisions"] if d != "no_decision"], len(s["trackers"]),
    len(s["phases"]["before_consent"]["cookies_set"]), len(s["phases"]["before_consent"]["cookies_sent"])))
EOF
then
	result offline PASS "live report = offline report of the same capture and key log: $(tail -1 "$tmp/compare.out")"
else
	cat "$tmp/compare.out"
	result offline FAIL "the live report differs from the offline one"
fi

# 7. Summary.
summary
[ $failed -eq 0 ]

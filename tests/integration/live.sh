#!/bin/sh
# Live capture on the loopback interface: trackwatchd -i lo sees an HTTP
# request made while it runs, stops cleanly on SIGTERM (exit 0, observations
# flushed, kernel counters reported, the timeline database's run complete). Needs the right to capture (root or
# CAP_NET_RAW); says so and passes as skipped without it.
#   tests/integration/live.sh TRACKWATCHD
set -u
d=${1:?usage: live.sh TRACKWATCHD}
tmp=$(mktemp -d)
port=$((20000 + $$ % 20000))
server_pid=
sensor_pid=
cleanup() {
	[ -n "$sensor_pid" ] && kill "$sensor_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
"$d" -q -i lo -f "tcp port $port" --jsonl "$tmp/probe.jsonl" 2> "$tmp/probe.err" &
probe=$!
sleep 1
if ! kill -0 "$probe" 2>/dev/null; then
	echo "live: 0 passed, 0 failed, 1 skipped (cannot capture on lo: $(head -1 "$tmp/probe.err"))"
	exit 0
fi
kill "$probe"; wait "$probe" 2>/dev/null

python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" &
server_pid=$!
"$d" -i lo -f "tcp port $port" --jsonl "$tmp/live.jsonl" --db "$tmp/live.db" 2> "$tmp/live.err" &
sensor_pid=$!
sleep 1
# SIGUSR1: the statistics so far (printed at the next packet or capture timeout), and on.
kill -USR1 "$sensor_pid"
python3 -c '
import http.client, sys, time
for _ in range(50):
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
        c.request("GET", "/live-test?x=1", headers={"Host": "Live.Example:8080"})
        c.getresponse().read()
        break
    except OSError:
        time.sleep(0.1)' "$port"
sleep 1
kill -TERM "$sensor_pid"
wait "$sensor_pid"
status=$?
sensor_pid=
passed=0; failed=0
check() { if eval "$1"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $2"; sed 's/^/    /' "$tmp/live.err"; fi; }
check '[ $status -eq 0 ]' "trackwatchd -i lo exited $status after SIGTERM"
check 'grep -q "\"kind\":\"http_request\",\"host\":\"live.example\"" "$tmp/live.jsonl"' "no http_request for live.example in $(cat "$tmp/live.jsonl")"
# The query value is an identifier: written as its keyed hash, 32 hex digits.
check 'grep -Eq "\"path\":\"/live-test\\?x=[0-9a-f]{32}\"" "$tmp/live.jsonl"' "path of the live request, its query value hashed"
check 'grep -q "received by filter" "$tmp/live.err"' "kernel counters not reported"
check '[ "$(grep -c "^trackwatchd: packets [0-9]*, bytes" "$tmp/live.err")" -ge 2 ]' "SIGUSR1 printed no statistics before the end"
# The same run into a database: a live run, complete after SIGTERM, its request stored
# for the device 127.0.0.1 (loopback's MAC of zeros names no device).
check 'python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute(\"SELECT live, status, ended IS NOT NULL FROM runs\").fetchall() == [(1, \"complete\", 1)]
assert db.execute(\"SELECT device, kind, host FROM timeline\").fetchall() == [(\"127.0.0.1\", \"http_request\", \"live.example\")]
" "$tmp/live.db"' "live run in the database"
echo "live: $passed passed, $failed failed"
[ $failed -eq 0 ]

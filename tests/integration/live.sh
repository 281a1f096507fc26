#!/bin/sh
# Live capture on the loopback interface, as a daemon: trackwatchd -c FILE
# capturing on lo and on an interface that does not exist (retried, not
# fatal), with its control socket and database.
#  - It sees an HTTP request made while it runs; it stops cleanly on SIGTERM
#    (exit 0, observations flushed, kernel counters reported, the database's
#    run complete); SIGUSR1 prints the statistics so far.
#  - Started as root, it runs as daemon.user (nobody here) with only
#    CAP_NET_RAW and CAP_NET_ADMIN (from /proc/PID/status).
#  - trackwatch status answers (JSON and text), trackwatch reload works,
#    trackwatch consent mark goes through the daemon into its database.
#  - Bad input at every door leaves it running: garbage and oversized control
#    requests get an error answer; a reload with a broken list or a broken
#    YAML file fails with the reason and keeps the old configuration (by the
#    socket and by SIGHUP); an unreadable database and a configuration
#    naming a missing file stop it at start with a clear message.
# Needs the right to capture (root or CAP_NET_RAW); says so and passes as
# skipped without it.
#   tests/integration/live.sh TRACKWATCHD TRACKWATCH
set -u
d=${1:?usage: live.sh TRACKWATCHD TRACKWATCH}
cli=${2:?usage: live.sh TRACKWATCHD TRACKWATCH}
tmp=$(mktemp -d)
chmod 755 "$tmp"
port=$((20000 + $$ % 20000))
server_pid=
sensor_pid=
flap=
cleanup() {
	[ -n "$flap" ] && ip link del "$flap" 2>/dev/null
	[ -n "$sensor_pid" ] && kill "$sensor_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
printf 'control:\n  socket: none\ndaemon:\n  user: nobody\n' > "$tmp/probe.yaml"
"$d" -q -i lo -f "tcp port $port" --jsonl "$tmp/probe.jsonl" -c "$tmp/probe.yaml" 2> "$tmp/probe.err" &
probe=$!
sleep 1
if ! kill -0 "$probe" 2>/dev/null; then
	echo "live: 0 passed, 0 failed, 1 skipped (cannot capture on lo: $(head -1 "$tmp/probe.err"))"
	exit 0
fi
kill "$probe"; wait "$probe" 2>/dev/null

passed=0; failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { if eval "$1"; then ok; else bad "$2"; sed 's/^/    /' "$tmp/live.err" | tail -20; fi; }

# The daemon's state directory is its user's, as systemd's StateDirectory= makes it.
mkdir "$tmp/state"
root=0
if [ "$(id -u)" = 0 ]; then root=1; chown nobody "$tmp/state"; fi
# An interface that goes away while the daemon runs, and comes back (root, veth).
interfaces="lo, tw-gone0"
if [ $root = 1 ] && ip link add "tw-lv$$" type veth peer name "tw-lw$$" 2>/dev/null; then
	flap=tw-lv$$
	ip link set "$flap" up
	interfaces="lo, tw-gone0, $flap"
fi
printf '{"categories": {"Advertising": [{"Live Co": {"https://live.example/": ["live.example"]}}]}}' > "$tmp/services.json"
cat > "$tmp/tw.yaml" <<EOF
lists:
  - name: mine
    format: disconnect
    path: $tmp/services.json
capture:
  interface: [$interfaces]
  filter: "tcp port $port"
store:
  path: $tmp/state/live.db
  batch_ms: 100
control:
  socket: $tmp/run/trackwatchd.sock
daemon:
  user: nobody
EOF
sock=$tmp/run/trackwatchd.sock

python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" &
server_pid=$!
# -d: messages on standard error (else syslog: it is not a terminal), at debug level.
"$d" -d -c "$tmp/tw.yaml" --jsonl "$tmp/live.jsonl" 2> "$tmp/live.err" &
sensor_pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
sleep 0.5

# Privileges: root gave way to nobody, keeping only CAP_NET_RAW and CAP_NET_ADMIN.
if [ $root = 1 ]; then
	nobody=$(id -u nobody)
	check '[ "$(awk "/^Uid:/ {print \$2,\$3,\$4,\$5}" /proc/$sensor_pid/status)" = "$nobody $nobody $nobody $nobody" ]' \
		"the daemon is not uid $nobody: $(grep ^Uid: /proc/$sensor_pid/status)"
	check '! awk "/^Groups:/" /proc/$sensor_pid/status | grep -qw 0' "the daemon kept group 0"
	for cap in CapEff CapPrm CapBnd; do
		check '[ "$(awk "/^$cap:/ {print \$2}" /proc/$sensor_pid/status)" = 0000000000003000 ]' \
			"$cap is not CAP_NET_RAW|CAP_NET_ADMIN: $(grep ^$cap: /proc/$sensor_pid/status)"
	done
	for cap in CapInh CapAmb; do
		check '[ "$(awk "/^$cap:/ {print \$2}" /proc/$sensor_pid/status)" = 0000000000000000 ]' \
			"$cap is not empty: $(grep ^$cap: /proc/$sensor_pid/status)"
	done
	check '[ "$(stat -c %U "$tmp/state/live.db")" = nobody ]' "the database was not given to nobody"
	check '[ "$(stat -c %a "$sock")" = 660 ]' "the socket is not mode 0660: $(stat -c %a "$sock")"
fi

# status: JSON with the interfaces, the one that is missing retried with its error.
"$cli" -c "$tmp/tw.yaml" status --format json > "$tmp/status.json" 2> "$tmp/status.err"
check '[ $? -eq 0 ]' "trackwatch status failed: $(cat "$tmp/status.err")"
check 'python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s[\"ok\"] is True and s[\"pid\"] == int(sys.argv[2]), s
i = {x[\"name\"]: x for x in s[\"interfaces\"]}
assert i[\"lo\"][\"state\"] == \"capturing\", i
assert i[\"tw-gone0\"][\"state\"] == \"retrying\" and \"tw-gone0\" in i[\"tw-gone0\"][\"error\"], i
assert [l[\"name\"] for l in s[\"lists\"]] == [\"mine\"], s[\"lists\"]
for k in (\"uptime_s\", \"packets\", \"drops\", \"flows\", \"observations\", \"hits\", \"queue_depth\"):
    assert isinstance(s[k], int), k
" "$tmp/status.json" "$sensor_pid"' "status JSON: $(cat "$tmp/status.json")"
"$cli" -c "$tmp/tw.yaml" status > "$tmp/status.txt" 2>&1
check 'grep -q "^tw-gone0 *retrying" "$tmp/status.txt" && grep -q "^lo *capturing" "$tmp/status.txt"' \
	"status text: $(cat "$tmp/status.txt")"
check 'grep -q "tw-gone0: cannot capture: No such device.*trying again in 1 s" "$tmp/live.err"' \
	"the missing interface's failure is not logged once with its retry"

# Garbage at the control socket: an error answer, each; the daemon goes on.
python3 - "$sock" > "$tmp/garbage.out" <<'EOF'
import json, socket, sys
def ask(data, shut=True):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return json.loads(out)
for data in (b"garbage\n", b"\x00\xff\xfe{\n", b'{"command": 7}\n', b'{"command": "shutdown"}\n',
             b'{"command": "consent-mark", "decision": "maybe", "device": "x"}\n',
             b'{"command": "consent-mark", "decision": "accept", "device": "a\\u0001b"}\n',
             b'{"command": "status", "x": 1}\n', b"[1, 2]\n", b"\n", b"x" * 5000):
    try:
        a = ask(data, shut=len(data) < 4096)
    except OSError as e:
        print("error", e)
        continue
    print(a["ok"], a.get("error"))
print(ask(b"status\n")["ok"])
EOF
check '[ "$(grep -c "^False " "$tmp/garbage.out")" -eq 10 ] && [ "$(tail -1 "$tmp/garbage.out")" = True ]' \
	"garbage requests: $(cat "$tmp/garbage.out")"
check 'grep -q "request longer than 4095 bytes" "$tmp/garbage.out"' "an oversized request is not refused as such"

# The request the daemon must see.
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
# SIGUSR1: the statistics so far, and on.
kill -USR1 "$sensor_pid"

# consent mark through the daemon; reload; a reload that fails keeps what is running.
"$cli" -c "$tmp/tw.yaml" consent mark accept --device 127.0.0.1 --site www.Live.example > "$tmp/mark.out" 2>&1
check '[ $? -eq 0 ] && grep -q "recorded accept for 127.0.0.1 on live.example at .* (by trackwatchd" "$tmp/mark.out"' \
	"consent mark through the daemon: $(cat "$tmp/mark.out")"
"$cli" -c "$tmp/tw.yaml" reload > "$tmp/reload.out" 2>&1
check '[ $? -eq 0 ] && grep -q "^reloaded" "$tmp/reload.out"' "reload: $(cat "$tmp/reload.out")"
cp "$tmp/services.json" "$tmp/services.good"
printf '{"categories": {"Advertising": [' > "$tmp/services.json"
"$cli" -c "$tmp/tw.yaml" reload > "$tmp/reload.out" 2>&1
check '[ $? -eq 1 ] && grep -q "services.json:1: services.json: not JSON" "$tmp/reload.out"' \
	"reload with a broken list: $(cat "$tmp/reload.out")"
kill -HUP "$sensor_pid"
sleep 0.5
check 'grep -q "reload failed, the running configuration stays: .*services.json:1" "$tmp/live.err"' \
	"SIGHUP with a broken list is not logged as a failed reload"
cp "$tmp/services.good" "$tmp/services.json"
cp "$tmp/tw.yaml" "$tmp/tw.good"
printf 'capture: [\n' >> "$tmp/tw.yaml"
"$cli" -c "$tmp/tw.good" reload > "$tmp/reload.out" 2>&1
check '[ $? -eq 1 ] && grep -q "tw.yaml:" "$tmp/reload.out"' "reload with broken YAML: $(cat "$tmp/reload.out")"
cp "$tmp/tw.good" "$tmp/tw.yaml"
check 'kill -0 $sensor_pid' "the daemon died after bad reloads"
"$cli" -c "$tmp/tw.yaml" status --format json > "$tmp/status.json" 2>&1
check 'python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s[\"reloads\"] == 1 and s[\"packets\"] > 0 and s[\"observations\"] > 0, s
" "$tmp/status.json"' "status after the reloads: $(cat "$tmp/status.json")"

# The interface goes away: retried; it comes back: captured again, by the daemon that gave up root.
if [ -n "$flap" ]; then
	ip link del "$flap"
	for _ in $(seq 30); do grep -q "$flap: the capture failed" "$tmp/live.err" && break; sleep 0.1; done
	check 'grep -q "$flap: the capture failed (the interface went away?); trying again in 1 s" "$tmp/live.err"' \
		"the vanished interface is not logged as retried"
	"$cli" -c "$tmp/tw.yaml" status > "$tmp/status.txt" 2>&1
	check 'grep -q "^$flap *retrying" "$tmp/status.txt"' "status while $flap is gone: $(cat "$tmp/status.txt")"
	ip link add "$flap" type veth peer name "tw-lw$$" && ip link set "$flap" up
	for _ in $(seq 80); do grep -q "$flap: capturing again" "$tmp/live.err" && break; sleep 0.1; done
	check 'grep -q "$flap: capturing again, after [0-9]* failed attempts" "$tmp/live.err"' \
		"the interface that came back is not captured again"
fi
# A mark just before the stop is written all the same (it was answered "ok").
"$cli" -c "$tmp/tw.yaml" consent mark reject --device 127.0.0.1 --site live.example > /dev/null 2>&1
kill -TERM "$sensor_pid"
wait "$sensor_pid"
status=$?
sensor_pid=
check '[ $status -eq 0 ]' "trackwatchd exited $status after SIGTERM"
check 'grep -q "\"kind\":\"http_request\",\"host\":\"live.example\"" "$tmp/live.jsonl"' "no http_request for live.example in $(cat "$tmp/live.jsonl")"
# The query value is an identifier: written as its keyed hash, 32 hex digits.
check 'grep -Eq "\"path\":\"/live-test\\?x=[0-9a-f]{32}\"" "$tmp/live.jsonl"' "path of the live request, its query value hashed"
check 'grep -q "^trackwatchd: lo: received by filter" "$tmp/live.err"' "kernel counters not reported"
check '[ "$(grep -c "^trackwatchd: packets [0-9]*, bytes" "$tmp/live.err")" -ge 2 ]' "SIGUSR1 printed no statistics before the end"
check '[ ! -e "$sock" ]' "the socket is left behind"
# The run in the database: live, complete after SIGTERM, its request stored for the
# device 127.0.0.1 (loopback's MAC of zeros names no device), matched by the list, the mark.
check 'python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute(\"SELECT live, status, ended IS NOT NULL, source FROM runs\").fetchall() == [(1, \"complete\", 1, \"interfaces \" + sys.argv[2])]
assert db.execute(\"SELECT device, kind, host, entity FROM timeline\").fetchall() == [(\"127.0.0.1\", \"http_request\", \"live.example\", \"Live Co\")], db.execute(\"SELECT * FROM timeline\").fetchall()
assert db.execute(\"SELECT device, site, decision FROM consent_marks ORDER BY id\").fetchall() == [(\"127.0.0.1\", \"live.example\", \"accept\"), (\"127.0.0.1\", \"live.example\", \"reject\")]
received, dropped = db.execute(\"SELECT capture_received, capture_dropped FROM runs\").fetchone()
assert received >= 10 and dropped == 0, (received, dropped)
" "$tmp/state/live.db" "$interfaces"' "live run in the database"

# Without a database (observations as JSON lines only), a reload and then traffic:
# the daemon goes on (the new lists have no timeline to go to).
# (Its lists are in $tmp: the daemon's user, nobody, reads them at the reload, and the
# checkout may be where nobody cannot read, as under /root.)
printf 'lists:\n  - name: mine\n    format: disconnect\n    path: %s/services.json\ncapture:\n  interface: lo\n  filter: "tcp port %s"\ncontrol:\n  socket: %s/run/nodb.sock\ndaemon:\n  user: nobody\n' \
	"$tmp" "$port" "$tmp" > "$tmp/nodb.yaml"
"$d" -d -c "$tmp/nodb.yaml" --jsonl "$tmp/nodb.jsonl" 2> "$tmp/nodb.err" &
sensor_pid=$!
for _ in $(seq 50); do [ -S "$tmp/run/nodb.sock" ] && break; sleep 0.1; done
"$cli" --version > /dev/null
"$cli" -c "$tmp/nodb.yaml" reload > "$tmp/reload.out" 2>&1
check '[ $? -eq 0 ]' "reload without a database: $(cat "$tmp/reload.out")"
python3 -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/after-reload", headers={"Host": "nodb.example"})
c.getresponse().read()' "$port"
sleep 0.5
check 'kill -0 $sensor_pid' "the daemon without a database died after a reload: $(tail -3 "$tmp/nodb.err")"
kill -TERM "$sensor_pid"
wait "$sensor_pid"
check '[ $? -eq 0 ] && grep -q "nodb.example" "$tmp/nodb.jsonl"' "the daemon without a database after a reload: $(tail -3 "$tmp/nodb.err")"
sensor_pid=

# Doors that stop it at start, with the reason: a database it cannot open, a missing
# consent rules file named in the configuration, another daemon's socket.
mkdir -p "$tmp/ro" && chmod 500 "$tmp/ro"
sed "s|path: $tmp/state/live.db|path: $tmp/ro/sub/x.db|" "$tmp/tw.yaml" > "$tmp/ro.yaml"
"$d" -d -c "$tmp/ro.yaml" > /dev/null 2> "$tmp/ro.err"
check '[ $? -eq 1 ] && grep -q "$tmp/ro/sub/x.db" "$tmp/ro.err"' "unopenable database: $(cat "$tmp/ro.err")"
printf 'consent:\n  rules: %s/none.yaml\n' "$tmp" >> "$tmp/ro.yaml"
sed -i "s|$tmp/ro/sub/x.db|$tmp/state/live.db|" "$tmp/ro.yaml"
"$d" -d -c "$tmp/ro.yaml" > /dev/null 2> "$tmp/ro.err"
check '[ $? -eq 1 ] && grep -q "none.yaml" "$tmp/ro.err"' "missing consent rules: $(cat "$tmp/ro.err")"
echo "live: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/bin/sh
# The timeline store end to end: trackwatchd --db on captures, then the
# database (python3's sqlite3) and trackwatch's report and timeline.
#  - the bundled browser capture: every tracker host of its truth file
#    (written from the lab's server logs, not from the capture) is in the
#    report for device 10.99.0.2 and site news.example, with its company,
#    and no other host is reported as a tracker;
#  - a file read twice is refused unless --force; --jsonl alone writes no database;
#  - device names from the configuration, and configuration errors;
#  - durability: trackwatchd -r is killed (SIGKILL) in a large capture; the
#    database passes PRAGMA integrity_check, and what it holds is exactly
#    the first whole batches of a complete run;
#  - hostile names from the wire are stored as sent and printed safely in
#    every format.
#   tests/integration/store.sh TRACKWATCHD TRACKWATCH
set -u
d=${1:?usage: store.sh TRACKWATCHD TRACKWATCH}
cli=${2:?usage: store.sh TRACKWATCHD TRACKWATCH}
here=$(cd "$(dirname "$0")/../.." && pwd)
case $d in /*) ;; *) d=$PWD/$d ;; esac
case $cli in /*) ;; *) cli=$PWD/$cli ;; esac
data=$here/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # STATUS DESCRIPTION -- COMMAND...
	want=$1; what=$2; shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; sed 's/^/    /' "$1" | head -5; fi
}
# py DESCRIPTION SCRIPT ARGS...: a python3 check that prints FAIL lines and exits nonzero on failure
py() {
	what=$1; shift
	if python3 -c "$@" > "$tmp/py" 2>&1; then ok; else bad "$what"; sed 's/^/    /' "$tmp/py" | head -10; fi
}

http=$data/browser-accept-http.pcap
truth=$data/browser-accept-http.truth.json

# ---- The browser capture against its truth file ----
db=$tmp/http.db
expect 0 "trackwatchd --db on the browser capture" -- "$d" -q -r "$http" --db "$db"
expect 0 "report json --device 10.99.0.2 --site news.example" -- \
	"$cli" report --db "$db" --device 10.99.0.2 --site news.example --format json
cp "$tmp/out" "$tmp/report.json"
if python3 "$here/tests/integration/report-vs-truth.py" "$truth" "$tmp/report.json" > "$tmp/py" 2>&1; then ok
else bad "report against the truth file"; grep -v "^[a-z]" "$tmp/py" | head -10; fi
tail -1 "$tmp/py" | sed 's/^/store: /'

py "database: runs evidence, one device, visits, hits point to rows" '
import sqlite3, sys, hashlib
db = sqlite3.connect(sys.argv[1])
run = db.execute("SELECT source, file_sha256, file_bytes, status, lists, observations, hits, first_packet <= last_packet FROM runs").fetchall()
assert len(run) == 1, run
src, sha, size, status, lists, obs, hits, ordered = run[0]
data = open(sys.argv[2], "rb").read()
assert sha == hashlib.sha256(data).hexdigest(), (sha, "sha256 of the file")
assert size == len(data) and status == "complete" and ordered, run
assert "easyprivacy" in lists and "sha256" in lists, lists
assert obs == db.execute("SELECT count(*) FROM observations").fetchone()[0] > 0
assert hits == db.execute("SELECT count(*) FROM hits").fetchone()[0] > 0
assert db.execute("SELECT count(*) FROM hits WHERE observation_id NOT IN (SELECT id FROM observations)").fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM visits v JOIN sites s ON s.id = v.site_id WHERE s.name = ?", ("news.example",)).fetchone()[0] >= 1
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
assert db.execute("SELECT count(*) FROM timeline WHERE tracker AND kind = ? AND host = ?", ("resumed", "www.google-analytics.com")).fetchone()[0] >= 1, "a tracker reached again over a kept connection"
' "$db" "$http"

# ---- Runs: a file read again, --force, --jsonl alone ----
expect 1 "the same file again is refused" -- "$d" -q -r "$http" --db "$db"
contains "$tmp/err" "read before (run 1" "refusal names the earlier run"
expect 0 "--force reads it again" -- "$d" -q -r "$http" --db "$db" --force
py "two runs after --force" '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
' "$db"
expect 2 "--force without --db" -- "$d" -q -r "$http" --force
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && "$d" -q -r "$http" --jsonl obs.jsonl) > /dev/null 2>&1
if [ "$(ls "$tmp/cwd")" = "obs.jsonl" ]; then ok; else bad "--jsonl alone wrote: $(ls "$tmp/cwd")"; fi
expect 1 "a database that is not one" -- "$d" -q -r "$http" --db "$http"
contains "$tmp/err" "$http" "the error names the file"

# ---- Configuration: device names, errors ----
cat > "$tmp/names.yaml" <<'EOF'
devices:
  10.99.0.2: test-laptop
store:
  batch_rows: 100
EOF
expect 0 "--db with device names" -- "$d" -q -c "$tmp/names.yaml" -r "$http" --db "$tmp/named.db"
expect 0 "report --device by configured name" -- "$cli" report --db "$tmp/named.db" --device test-laptop --format json
contains "$tmp/out" '"name": "test-laptop"' "configured name in the report"
expect 0 "timeline --device by MAC" -- "$cli" timeline --db "$tmp/named.db" --device 6A:6A:81:6D:69:AF --trackers-only --format csv
contains "$tmp/out" "smetrics.news.example" "timeline by MAC"
printf 'devices:\n  not-a-mac: x\n' > "$tmp/bad.yaml"
expect 1 "a bad device key" -- "$d" -q -c "$tmp/bad.yaml" -r "$http" --db "$tmp/bad.db"
contains "$tmp/err" "bad.yaml:2:" "the error names file and line"
printf 'store:\n  batch_rows: 0\n' > "$tmp/bad.yaml"
expect 1 "batch_rows 0" -- "$d" -q -c "$tmp/bad.yaml" -r "$http" --db "$tmp/bad.db"
contains "$tmp/err" "batch_rows" "the error names the key"
printf 'store:\n  colour: blue\n' > "$tmp/bad.yaml"
expect 1 "an unknown store key" -- "$d" -q -c "$tmp/bad.yaml" -r "$http" --db "$tmp/bad.db"
contains "$tmp/err" "colour" "the error names the key"
expect 1 "a missing -c file" -- "$d" -q -c "$tmp/none.yaml" -r "$http" --db "$tmp/bad.db"

# ---- Durability: SIGKILL in the middle of a large capture ----
big=$tmp/big.pcap
python3 "$here/tests/integration/make-store-captures.py" repeat "$http" 150 "$big"
printf 'store:\n  batch_rows: 500\n  batch_ms: 3600000\n' > "$tmp/batch.yaml"
"$d" -q -c "$tmp/batch.yaml" -r "$big" --db "$tmp/full.db" > /dev/null 2>&1 || bad "complete run of the large capture"
# The killed run reads the same bytes from a pipe fed slowly, so that it is
# surely killed mid-run, once some batches are in.
python3 -c 'import sys, time
data = open(sys.argv[1], "rb").read()
for i in range(0, len(data), 65536):
    sys.stdout.buffer.write(data[i:i + 65536]); sys.stdout.buffer.flush(); time.sleep(0.01)
' "$big" 2>/dev/null | "$d" -q -c "$tmp/batch.yaml" -r - --db "$tmp/killed.db" > /dev/null 2>&1 &
pid=$!  # the last command of the pipeline: trackwatchd
i=0
while [ $i -lt 300 ]; do
	n=$(python3 -c 'import sqlite3,sys
try: print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM observations").fetchone()[0])
except Exception: print(0)' "$tmp/killed.db" 2>/dev/null)
	[ "${n:-0}" -ge 1500 ] && break
	sleep 0.05
	i=$((i + 1))
done
[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
wait 2>/dev/null
py "killed run: integrity_check, whole batches, a prefix of the complete run" '
import sqlite3, sys
full = sqlite3.connect(sys.argv[1])
killed = sqlite3.connect(sys.argv[2])
assert killed.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
q = "SELECT o.ts, k.name, h.name, o.sport, t.observation_id IS NOT NULL FROM observations o JOIN kinds k ON k.id = o.kind_id JOIN hosts h ON h.id = o.host_id LEFT JOIN hits t ON t.observation_id = o.id ORDER BY o.id"
a = full.execute(q).fetchall()
b = killed.execute(q).fetchall()
print("complete run %d rows, killed run %d rows" % (len(a), len(b)))
assert 0 < len(b) < len(a), "killed mid-run"
assert len(b) % 500 == 0, "whole batches only: %d" % len(b)
assert b == a[:len(b)], "the killed run holds the first rows of the complete run, unchanged"
status = killed.execute("SELECT status, ended FROM runs").fetchall()
assert status == [("running", None)], status
' "$tmp/full.db" "$tmp/killed.db"
cat "$tmp/py" | sed 's/^/store: /' | grep "rows" || true

# ---- A full disk: the batch that failed is rolled back, the run is marked failed ----
printf 'store:\n  batch_rows: 50\n' > "$tmp/b50.yaml"
python3 "$here/tests/integration/make-store-captures.py" repeat "$http" 40 "$tmp/big40.pcap"
(trap '' XFSZ; ulimit -f 400; "$d" -q -c "$tmp/b50.yaml" -r "$tmp/big40.pcap" --db "$tmp/diskfull.db") \
	> /dev/null 2> "$tmp/err"
if [ $? -eq 1 ]; then ok; else bad "a full disk: exit status not 1"; fi
contains "$tmp/err" "diskfull.db" "a full disk: the error names the database"
py "a full disk: whole batches, the run marked failed with what it holds" '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
n = db.execute("SELECT count(*) FROM observations").fetchone()[0]
run = db.execute("SELECT status, ended IS NOT NULL, observations FROM runs").fetchall()
assert n > 0 and n % 50 == 0, n
assert run == [("failed", 1, n)], (run, n)
' "$tmp/diskfull.db"

# ---- Cases the timeline once got wrong ----
mkdir "$tmp/cases"
python3 "$here/tests/integration/make-store-captures.py" cases "$tmp/cases"
for c in keepalive close appdata referer backwards; do
	expect 0 "trackwatchd --db on $c.pcap" -- "$d" -q -r "$tmp/cases/$c.pcap" --db "$tmp/cases/$c.db"
done
printf 'devices:\n  10.99.0.2: test-laptop\n' > "$tmp/cases/names.yaml"
expect 0 "trackwatchd --db on dhcp-first.pcap" -- "$d" -q -c "$tmp/cases/names.yaml" \
	-r "$tmp/cases/dhcp-first.pcap" --db "$tmp/cases/dhcp-first.db"
py "keep-alives and alerts are no contact; new data is, and begins no visit; a stylesheet's Referer keeps the page's visit; time going back begins no visit; a name by address after DHCP" '
import sqlite3, sys
base = sys.argv[1]
def q(name, sql):
    return sqlite3.connect("%s/%s.db" % (base, name)).execute(sql).fetchall()
for name in ("keepalive", "close"):
    assert q(name, "SELECT count(*) FROM timeline WHERE kind = \"resumed\"") == [(0,)], name
assert q("appdata", "SELECT host FROM timeline WHERE kind = \"resumed\"") == [("cdn.other.example",)]
for name in ("keepalive", "close", "appdata", "referer", "backwards"):
    sites = q(name, "SELECT s.name FROM visits v JOIN sites s ON s.id = v.site_id")
    assert sites == [("news.example",)], (name, sites)
    ga = q(name, "SELECT site FROM timeline WHERE host = \"www.google-analytics.com\"")
    assert all(x == ("news.example",) for x in ga), (name, ga)
names = q("dhcp-first", "SELECT name, hostname FROM devices")
assert names == [("test-laptop", "laptop")], names
' "$tmp/cases"

# ---- Hostile names ----
python3 "$here/tests/integration/make-store-captures.py" hostile "$tmp/hostile.pcap"
expect 0 "trackwatchd --db on hostile names" -- "$d" -q -r "$tmp/hostile.pcap" --db "$tmp/hostile.db"
py "hostile names stored as sent (HTTP Host), lower case, 255 bytes at most" '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.text_factory = bytes
hosts = {r[0] for r in db.execute("SELECT h.name FROM observations o JOIN hosts h ON h.id = o.host_id")}
assert b"x\"\x07\xff.example" in hosts, hosts
long = [h for h in hosts if h.startswith(b"aaaa")]
assert len(long) == 1 and len(long[0]) == 255 and set(long[0]) == {ord("a")}, long
assert any(h.startswith(b"=cmd") for h in hosts), hosts
assert any(b"ref" in r[0] for r in db.execute("SELECT s.name FROM sites s")), "Referer site"
' "$tmp/hostile.db"
for fmt in text json csv; do
	expect 0 "timeline --format $fmt on hostile names" -- "$cli" timeline --db "$tmp/hostile.db" --format $fmt
	cp "$tmp/out" "$tmp/timeline.$fmt"
	expect 0 "report --format $fmt on hostile names" -- "$cli" report --db "$tmp/hostile.db" --format $fmt
done
py "hostile names printed safely: printable ASCII only, JSON and CSV parse" '
import csv, json, sys
base = sys.argv[1]
for fmt in ("text", "json", "csv"):
    raw = open(base + "." + fmt, "rb").read()
    # Line ends only (CSV ends its records in CR LF, RFC 4180).
    bad = [c for c in raw if (c < 0x20 and c not in (0x0a, 0x0d)) or c >= 0x7f]
    assert not bad, "%s: raw bytes %r" % (fmt, bad[:10])
events = json.load(open(base + ".json"))
hosts = [e["host"] for e in events]
assert "x\"\\x07\\xff.example" in hosts, hosts
rows = list(csv.reader(open(base + ".csv", newline="")))
assert all(len(r) == len(rows[0]) for r in rows), "ragged CSV"
formula = [r for r in rows[1:] for f in r if "cmd|" in f]
assert formula and all(not f.startswith("=") for r in formula for f in r), formula
' "$tmp/timeline"

echo "store: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

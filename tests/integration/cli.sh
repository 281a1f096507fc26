#!/bin/sh
# Command-line behaviour of trackwatchd and trackwatch: options, exit status
# (0 ok, 1 runtime error, 2 usage), standard input, filters, and what happens
# on a corrupt or truncated capture (a one-line error naming the file and the
# packet, nonzero exit, and every observation made before the damage kept).
#   tests/integration/cli.sh TRACKWATCHD TRACKWATCH
set -u
d=${1:?usage: cli.sh TRACKWATCHD TRACKWATCH}
cli=${2:?usage: cli.sh TRACKWATCHD TRACKWATCH}
here=$(cd "$(dirname "$0")/../.." && pwd)
data=$here/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect STATUS DESCRIPTION -- COMMAND...: runs COMMAND, output in $tmp/out, $tmp/err
expect() {
	want=$1; what=$2; shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; sed 's/^/    /' "$1" | head -5; fi
}

kakao=$data/KakaoTalk_chat.pcap

expect 0 "trackwatchd --help" -- "$d" --help
contains "$tmp/out" "--jsonl" "trackwatchd --help"
contains "$tmp/out" "Exit status" "trackwatchd --help"
expect 0 "trackwatchd -h" -- "$d" -h
expect 0 "trackwatchd --version" -- "$d" --version
contains "$tmp/out" "trackwatchd 0." "trackwatchd --version"
contains "$tmp/out" "nDPI" "trackwatchd --version"
expect 2 "no input" -- "$d"
contains "$tmp/err" "nothing to read" "no input"
expect 2 "unknown option" -- "$d" --frobnicate
expect 2 "-r and -i together" -- "$d" -r "$kakao" -i lo
expect 2 "stray argument" -- "$d" -r "$kakao" extra
expect 2 "--max-flows 0" -- "$d" --max-flows 0 -r "$kakao"
expect 2 "--max-flows text" -- "$d" --max-flows many -r "$kakao"
expect 2 "--tcp-timeout negative" -- "$d" --tcp-timeout -5 -r "$kakao"
expect 1 "missing file" -- "$d" -r "$tmp/nonexistent.pcap"
contains "$tmp/err" "$tmp/nonexistent.pcap" "missing file names the file"
printf 'this is not a capture file, just text\n' > "$tmp/text.pcap"
expect 1 "not a capture" -- "$d" -r "$tmp/text.pcap"
contains "$tmp/err" "text.pcap" "not a capture names the file"
expect 2 "bad filter" -- "$d" -r "$kakao" -f 'port port'
expect 1 "unwritable --jsonl" -- "$d" -q -r "$kakao" --jsonl /nonexistent-dir/x.jsonl
contains "$tmp/err" "/nonexistent-dir/x.jsonl" "unwritable --jsonl names the path"

# Identifiers: hashed by default, with a key from a file or a random one per run;
# raw only when asked. The browser capture's session cookie is the test value.
browser=$data/browser-accept-http.pcap
raw_cookie=221f6f8774001b07e8e4e929e31bbc5e
expect 1 "missing key file" -- "$d" -q -r "$browser" --identifier-key "$tmp/no.key"
contains "$tmp/err" "$tmp/no.key" "missing key file names the path"
printf 'short' > "$tmp/short.key"
expect 1 "key file too short" -- "$d" -q -r "$browser" --identifier-key "$tmp/short.key"
contains "$tmp/err" "$tmp/short.key" "short key file names the path"
expect 2 "key file and --keep-identifiers" -- "$d" -q -r "$browser" \
	--identifier-key "$data/identifier.key" --keep-identifiers
expect 0 "--keep-identifiers" -- "$d" -q -r "$browser" --keep-identifiers --jsonl -
contains "$tmp/out" "\"cookie_name\":\"sessionid\",\"cookie_value\":\"$raw_cookie\"" \
	"--keep-identifiers keeps cookie values"
for run in 1 2; do
	expect 0 "default hashing, run $run" -- "$d" -q -r "$browser" --jsonl "$tmp/random$run.jsonl"
	if grep -qF "$raw_cookie" "$tmp/random$run.jsonl"; then bad "a raw cookie value is written by default"; else ok; fi
	expect 0 "hashing with a key file, run $run" -- "$d" -q -r "$browser" \
		--identifier-key "$data/identifier.key" --jsonl "$tmp/keyed$run.jsonl"
done
if cmp -s "$tmp/keyed1.jsonl" "$tmp/keyed2.jsonl"; then ok; else bad "one key file, two runs: hashes differ"; fi
if cmp -s "$tmp/random1.jsonl" "$tmp/random2.jsonl"; then bad "two runs without a key: same hashes"; else ok; fi
# With --db, the database's own key, made beside it (mode 0600) and kept: runs agree.
for run in 1 2; do
	expect 0 "the database's key, run $run" -- "$d" -q -r "$browser" --db "$tmp/keyed.db" \
		--force --jsonl "$tmp/dbkey$run.jsonl"
done
if cmp -s "$tmp/dbkey1.jsonl" "$tmp/dbkey2.jsonl"; then ok; else bad "one database, two runs: hashes differ"; fi
if [ "$(stat -c %a "$tmp/keyed.db.key")" = 600 ]; then ok; else bad "the database's key file is not mode 600"; fi
if grep -qF "$raw_cookie" "$tmp/dbkey1.jsonl" "$tmp/keyed.db"; then bad "a raw cookie value with the database's key"; else ok; fi
chmod 644 "$tmp/keyed.db.key"
expect 1 "a key file others may read" -- "$d" -q -r "$browser" --db "$tmp/keyed.db" --force
contains "$tmp/err" "open to others" "a key file others may read is refused"

# The same capture from a file and from standard input gives the same observations.
expect 0 "read file" -- "$d" -q -r "$kakao" --jsonl "$tmp/file.jsonl"
"$d" -q -r - --jsonl "$tmp/stdin.jsonl" < "$kakao"
if cmp -s "$tmp/file.jsonl" "$tmp/stdin.jsonl" && [ -s "$tmp/file.jsonl" ]; then ok; else bad "-r - differs from -r FILE"; fi
# Statistics go to standard error, observations to standard output.
expect 0 "text output" -- "$d" -r "$kakao"
contains "$tmp/out" "tls_sni" "text output"
contains "$tmp/err" "packets 347" "statistics"
contains "$tmp/err" "observations: dns_query 18, dns_answer 18, tls_sni 3, http_request 2" "statistics by kind"
# -q silences the statistics.
expect 0 "quiet" -- "$d" -q -r "$kakao"
if [ -s "$tmp/err" ]; then bad "-q still wrote to standard error"; else ok; fi
# A BPF filter applies to files as in tcpdump -r.
expect 0 "filter" -- "$d" -q -r "$kakao" -f 'udp port 53' --jsonl -
if [ -s "$tmp/out" ] && ! grep -v '"kind":"dns_\(query\|answer\)"' "$tmp/out" | grep -q .; then ok; else bad "filter kept non-DNS observations"; fi
# Two files are one stream: the observations of both, in order.
"$d" -q -r "$data/dns.pcap" --jsonl "$tmp/one.jsonl"
"$d" -q -r "$data/tls_alert.pcap" --jsonl "$tmp/two.jsonl"
expect 0 "two files" -- "$d" -q -r "$data/dns.pcap" -r "$data/tls_alert.pcap" --jsonl -
want=$(cat "$tmp/one.jsonl" "$tmp/two.jsonl" | grep -c .)
if [ "$(grep -c . "$tmp/out")" -eq "$want" ] && [ "$want" -gt 2 ]; then ok; else bad "two files: $(grep -c . "$tmp/out") observations, want $want"; fi
# A tiny flow bound evicts, and says so.
expect 0 "max-flows" -- "$d" -r "$kakao" --max-flows 2 -q --jsonl /dev/null
expect 0 "max-flows stats" -- "$d" -r "$kakao" --max-flows 2 --jsonl /dev/null
if grep -q 'evicted [1-9]' "$tmp/err"; then ok; else bad "--max-flows 2 evicted nothing"; fi

# A capture cut in the middle of a packet record: the error names the file and
# the packet number, the exit status is 1, and the observations before the
# cut are all there. The expected packet number comes from the record headers.
cut_at=40000
head -c $cut_at "$kakao" > "$tmp/cut.pcap"
packet=$(python3 - "$tmp/cut.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
offset, n = 24, 0
while offset + 16 <= len(data):
    incl = struct.unpack(order + "I", data[offset + 8:offset + 12])[0]
    if offset + 16 + incl > len(data):
        break
    offset += 16 + incl
    n += 1
print(n + 1)
PY
)
expect 1 "truncated capture" -- "$d" -r "$tmp/cut.pcap" --jsonl "$tmp/cut.jsonl"
contains "$tmp/err" "$tmp/cut.pcap: packet $packet:" "truncated capture error"
if [ "$(grep -c "cut.pcap" "$tmp/err")" -eq 1 ]; then ok; else bad "truncated capture: error is not one line"; fi
last_ts=$(python3 - "$tmp/cut.pcap" "$packet" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
offset, ts = 24, 0
for _ in range(int(sys.argv[2]) - 1):
    sec, usec, incl = struct.unpack(order + "III", data[offset:offset + 12])
    ts = sec * 1000000 + usec
    offset += 16 + incl
print(ts)
PY
)
python3 - "$tmp/file.jsonl" "$tmp/cut.jsonl" "$last_ts" <<'PY' && ok || bad "observations before the cut were lost"
import json, sys
full = [json.loads(l) for l in open(sys.argv[1])]
cut = [json.loads(l) for l in open(sys.argv[2])]
last = int(sys.argv[3])
before = [o for o in full if round(o["ts"] * 1e6) <= last]
keys = {(o["flow"], o["kind"], o["host"]) for o in cut}
missing = [o for o in before if (o["flow"], o["kind"], o["host"]) not in keys]
print(f"truncated capture: {len(before)} observations before the cut, {len(cut)} written, {len(missing)} missing")
sys.exit(1 if missing or not before else 0)
PY
# A corrupt record length in the middle of the file (a huge captured length).
python3 - "$kakao" "$tmp/corrupt.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
offset = 24
for _ in range(99):
    incl = struct.unpack("<I", data[offset + 8:offset + 12])[0]
    offset += 16 + incl
data[offset + 8:offset + 12] = struct.pack("<I", 0x7fffffff)
open(sys.argv[2], "wb").write(data)
PY
expect 1 "corrupt record" -- "$d" -r "$tmp/corrupt.pcap" --jsonl "$tmp/corrupt.jsonl"
contains "$tmp/err" "corrupt.pcap: packet 100:" "corrupt record error"
if [ -s "$tmp/corrupt.jsonl" ]; then ok; else bad "corrupt record: observations before it lost"; fi

# The configuration: -n checks it (and the lists and consent rules it names)
# without capturing; --dump-config prints what -c reads back; a bad key is
# an error naming file, line and key.
expect 0 "-n on the example configuration" -- "$d" -n -c "$here/etc/trackwatch.yaml"
contains "$tmp/out" "configuration OK" "-n on the example configuration"
expect 0 "--check with -i does not open the interface" -- "$d" --check -i tw-no-such-if0 -c "$here/etc/trackwatch.yaml"
contains "$tmp/out" "interface not opened: tw-no-such-if0" "--check names the interface it did not open"
printf 'capture:\n  interface: tw-no-such-if0\nflows:\n  max: 10\n  colour: blue\n' > "$tmp/badkey.yaml"
expect 1 "-n on a bad key" -- "$d" -n -c "$tmp/badkey.yaml"
contains "$tmp/err" "$tmp/badkey.yaml:5: flows: unknown key 'colour'" "-n on a bad key names file:line:key"
printf 'flows:\n  tcp_timeout: 0\n' > "$tmp/range.yaml"
expect 1 "-n on an out-of-range value" -- "$d" -n -c "$tmp/range.yaml"
contains "$tmp/err" "$tmp/range.yaml:2: flows: 'tcp_timeout' must be a whole number from 1 to 86400" "out of range names file:line:key"
expect 1 "-n with a missing -c file" -- "$d" -n -c "$tmp/nonexistent.yaml"
expect 0 "--dump-config" -- "$d" --dump-config -c "$here/etc/trackwatch.yaml" --max-flows 1234 -f "port 53"
cp "$tmp/out" "$tmp/dump.yaml"
contains "$tmp/dump.yaml" "# flows.max (unsigned, 1 to 268435456, default 65536)" "--dump-config: help before a key"
contains "$tmp/dump.yaml" "  max: 1234" "--dump-config: the command line overrides the file"
expect 0 "--dump-config fed back with -c -n" -- "$d" -c "$tmp/dump.yaml" -n
expect 0 "--dump-config of the dump" -- "$d" --dump-config -c "$tmp/dump.yaml"
sed 1d "$tmp/out" > "$tmp/dump2.body"
sed 1d "$tmp/dump.yaml" > "$tmp/dump1.body"
if cmp -s "$tmp/dump1.body" "$tmp/dump2.body"; then ok; else bad "--dump-config of its own output differs"; fi
# The configured filter and flow bound apply to a file run; -f overrides the filter.
printf 'capture:\n  filter: "udp port 9"\n' > "$tmp/filter.yaml"
expect 0 "capture.filter applies to files" -- "$d" -c "$tmp/filter.yaml" -r "$kakao" --jsonl "$tmp/filtered.jsonl"
if [ ! -s "$tmp/filtered.jsonl" ]; then ok; else bad "capture.filter 'udp port 9' let observations through"; fi
contains "$tmp/err" "packets 0," "capture.filter applies to files"
expect 0 "-f overrides capture.filter" -- "$d" -c "$tmp/filter.yaml" -f "ip or ip6" -r "$kakao" --jsonl "$tmp/unfiltered.jsonl"
if [ -s "$tmp/unfiltered.jsonl" ]; then ok; else bad "-f did not override capture.filter"; fi
printf 'capture:\n  filter: "port port"\n' > "$tmp/badfilter.yaml"
expect 1 "a filter that does not compile" -- "$d" -n -c "$tmp/badfilter.yaml"
contains "$tmp/err" "$tmp/badfilter.yaml:2: capture: 'filter' does not compile" "bad capture.filter names file:line:key"
expect 2 "-n with --dump-config" -- "$d" -n --dump-config

expect 0 "trackwatch --help" -- "$cli" --help
contains "$tmp/out" "Usage: trackwatch" "trackwatch --help"
expect 0 "trackwatch --version" -- "$cli" --version
contains "$tmp/out" "trackwatch 0." "trackwatch --version"
expect 2 "trackwatch no command" -- "$cli"
expect 2 "trackwatch unknown command" -- "$cli" frobnicate
expect 2 "trackwatch unknown option" -- "$cli" --frobnicate

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

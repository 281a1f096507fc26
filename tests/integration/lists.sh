#!/bin/sh
# trackwatch lists: check, test, cookie and update, end to end.
#   - the default lists and etc/trackwatch.yaml load;
#   - companies and categories of known trackers, with the bundled Disconnect
#     data and with the DuckDuckGo and Disconnect excerpts in tests/data/lists;
#   - bad lists (truncated JSON, a binary file, a 100 MB line, an empty file,
#     a bad configuration) give a one-line error naming the file, exit 1, and
#     never crash (the sanitizer build runs this);
#   - `lists update` against a local HTTPS server (tests/integration/
#     fetch-server.py, with a certificate made here): a list is downloaded
#     and moved into place, an unchanged one is not downloaded again, and a
#     download that does not parse leaves the old list as it was;
#   - lists-crosscheck.py: EasyPrivacy's pure domain rules against a
#     reference engine written in Python.
#   - the token index of generic URL rules answers exactly as a scan of every
#     rule does (LINEAR: the command built with -DMATCHER_LINEAR_GENERIC), on
#     URLs made from EasyPrivacy's and EasyList's patterns, for every type;
#   tests/integration/lists.sh TRACKWATCH [LINEAR]
set -u
cli=${1:?usage: lists.sh TRACKWATCH [LINEAR]}
linear=${2:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
data=$here/tests/data/lists
tmp=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # STATUS DESCRIPTION -- COMMAND...
	want=$1; what=$2; shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
	# Whatever the exit status, a sanitizer report is a failure.
	if grep -q 'Sanitizer' "$tmp/err"; then bad "$what: sanitizer report"; head -20 "$tmp/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; sed 's/^/    /' "$1" | head -5; fi
}
# json_field LINE-NUMBER KEY: a field of the LINE-th JSON object in $tmp/out
json_field() {
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2]) - 1]).get(sys.argv[3]))' \
		"$tmp/out" "$1" "$2"
}
field_is() { # LINE KEY VALUE DESCRIPTION
	got=$(json_field "$1" "$2")
	if [ "$got" = "$3" ]; then ok; else bad "$4: $2 is '$got', want '$3'"; fi
}

# ---- check ----
expect 0 "lists --help" -- "$cli" lists --help
contains "$tmp/out" "lists update" "lists --help"
expect 2 "lists without a command" -- "$cli" lists
expect 2 "lists frobnicate" -- "$cli" lists frobnicate
expect 2 "lists check with an argument" -- "$cli" lists check extra
expect 2 "lists test with a bad --list" -- "$cli" lists test --list nonsense
expect 2 "lists test with an unknown type" -- "$cli" lists test --type sprocket
expect 0 "lists check (defaults)" -- "$cli" lists check
contains "$tmp/out" "easyprivacy (abp)" "lists check"
contains "$tmp/out" "all 5 lists:" "lists check"
expect 0 "lists check -c etc/trackwatch.yaml" -- "$cli" -c "$here/etc/trackwatch.yaml" lists check
contains "$tmp/out" "disconnect (disconnect)" "lists check -c"

# ---- test: companies and categories ----
tds="tds=tds:$data/tds.json"
disconnect="disconnect=disconnect:$data/disconnect-services.json,$data/disconnect-entities.json"
printf 'connect.facebook.net\nanalytics.tiktok.com\nwww.google-analytics.com www.example.com\nexample.org\n' > "$tmp/names"
expect 0 "lists test with the TDS excerpt" -- sh -c "'$cli' lists test --list '$tds' < '$tmp/names'"
field_is 1 entity Facebook "TDS: connect.facebook.net"
field_is 2 entity ByteDance "TDS: analytics.tiktok.com"
field_is 2 tracker True "TDS: analytics.tiktok.com (default block)"
field_is 3 entity Google "TDS: www.google-analytics.com"
field_is 3 third_party True "TDS: third party from www.example.com"
field_is 4 tracker False "TDS: example.org"
field_is 4 rule None "TDS: example.org has no rule"
expect 0 "lists test with the Disconnect excerpt" -- sh -c "'$cli' lists test --list '$disconnect' < '$tmp/names'"
field_is 1 entity Meta "Disconnect: connect.facebook.net"
field_is 2 entity Bytedance "Disconnect: analytics.tiktok.com"
field_is 3 entity Google "Disconnect: www.google-analytics.com"
field_is 3 category Analytics "Disconnect: www.google-analytics.com"
expect 0 "lists test, defaults" -- sh -c "printf 'cdn.cookielaw.org\nwww.google.com\n' | '$cli' lists test"
field_is 1 tracker False "defaults: a consent manager is no tracker"
field_is 1 category ConsentManagers "defaults: cookielaw.org"
field_is 2 tracker False "defaults: Disconnect's Content is no tracker"
# EasyPrivacy's path rule marks the URL, never the bare host.
expect 0 "lists test, a path rule" -- sh -c "printf 'github.com\nhttps://github.com/_private/browser/stats\n' | '$cli' lists test"
field_is 1 tracker False "path rule: bare host"
field_is 2 tracker True "path rule: the URL"
field_is 2 rule "||github.com/_private/browser/stats" "path rule: the rule"
# A typed pattern tied to no host ("$ping,third-party") says nothing of a URL of unknown type.
expect 0 "lists test, a URL of unknown type" -- sh -c "printf 'https://www.wikipedia.org/static/logo.png\n' | '$cli' lists test"
field_is 1 tracker False "a URL of unknown type"
expect 0 "lists cookie" -- sh -c "printf '_ga\n_ga_ABC123\nnot-a-known-cookie\n' | '$cli' lists cookie --list cookiedb:$data/open-cookie-database.csv"
field_is 1 platform "Google Analytics" "cookie _ga"
field_is 2 name "_ga_" "cookie _ga_ABC123 by prefix"
field_is 3 known False "unknown cookie"

# ---- bad lists and configurations ----
head -c 5000 "$data/tds.json" > "$tmp/truncated.json"
expect 1 "a truncated TDS" -- "$cli" lists check --list "tds:$tmp/truncated.json"
contains "$tmp/err" "$tmp/truncated.json:" "a truncated TDS names the file"
head -c 65536 /dev/urandom > "$tmp/binary"
for f in hosts domains abp tds cookiedb; do
	expect 1 "a binary file as $f" -- "$cli" lists check --list "$f:$tmp/binary"
	contains "$tmp/err" "$tmp/binary" "a binary file as $f names the file"
done
: > "$tmp/empty"
for f in hosts domains abp disconnect tds cookiedb; do
	expect 1 "an empty file as $f" -- "$cli" lists check --list "$f:$tmp/empty"
	contains "$tmp/err" "empty" "an empty $f list says so"
	if grep -q "$tmp/empty0:" "$tmp/err"; then bad "an error without a line prints a line 0"; else ok; fi
done
python3 -c 'import sys; sys.stdout.write("||" + "a" * (100 << 20) + ".example^\n")' > "$tmp/long-line.txt"
expect 1 "a 100 MB line" -- "$cli" lists check --list "abp:$tmp/long-line.txt"
contains "$tmp/err" "line too long" "a 100 MB line"
expect 1 "a missing list" -- "$cli" lists check --list "hosts:$tmp/nonexistent"
contains "$tmp/err" "No such file" "a missing list"
printf 'lists:\n  - name: x\n    format: hosts\n    path: /dev/null\n    colour: blue\n' > "$tmp/bad.yaml"
expect 1 "an unknown list key" -- "$cli" -c "$tmp/bad.yaml" lists check
contains "$tmp/err" "$tmp/bad.yaml:5: unknown key 'colour'" "an unknown list key names file and line"
printf 'lists: [\n' > "$tmp/broken.yaml"
expect 1 "broken YAML" -- "$cli" -c "$tmp/broken.yaml" lists check
contains "$tmp/err" "$tmp/broken.yaml:" "broken YAML names the file"
expect 1 "a missing configuration" -- "$cli" -c "$tmp/none.yaml" lists check

# ---- update, against a local HTTPS server ----
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2> "$tmp/openssl.err"; then
	bad "openssl could not make a test certificate"; cat "$tmp/openssl.err"
else
	python3 "$here/tests/integration/fetch-server.py" --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
		> "$tmp/port" 2> "$tmp/server.log" &
	server_pid=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	port=$(head -1 "$tmp/port")
	mkdir "$tmp/lists"
	cat > "$tmp/update.yaml" <<EOF
lists:
  - name: good
    format: hosts
    path: $tmp/lists/good.txt
    url: https://127.0.0.1:$port/ok.txt
  - name: garbage
    format: hosts
    path: $tmp/lists/garbage.txt
    url: https://127.0.0.1:$port/ua
  - name: local
    format: domains
    path: $tmp/lists/local.txt
EOF
	printf 'old.example\n' > "$tmp/lists/garbage.txt"
	printf 'mine.example\n' > "$tmp/lists/local.txt"
	expect 1 "update: one good list, one that does not parse" -- \
		"$cli" -c "$tmp/update.yaml" lists update --ca-file "$tmp/cert.pem"
	contains "$tmp/out" "good: updated, 2 rules" "update: the good list"
	contains "$tmp/err" "garbage: the download does not parse, keeping the old list" "update: the bad list"
	if [ "$(cat "$tmp/lists/garbage.txt")" = "old.example" ]; then ok; else bad "update replaced a list with one that does not parse"; fi
	if grep -q 'tracker.example' "$tmp/lists/good.txt"; then ok; else bad "update did not put the good list in place"; fi
	left=$(find "$tmp/lists" -name '*.txt.*')
	if [ -z "$left" ]; then ok; else bad "update left temporary files: $left"; fi
	expect 0 "update: unchanged" -- "$cli" -c "$tmp/update.yaml" lists update --ca-file "$tmp/cert.pem" good
	contains "$tmp/out" "good: not modified" "update: If-Modified-Since"
	expect 1 "update: an untrusted certificate" -- "$cli" -c "$tmp/update.yaml" lists update good
	contains "$tmp/err" "certificate" "update: an untrusted certificate is refused"
	expect 2 "update: an unknown list" -- "$cli" -c "$tmp/update.yaml" lists update nosuchlist
	# Options after the list names are options too.
	expect 0 "update: NAME then --ca-file" -- "$cli" -c "$tmp/update.yaml" lists update good --ca-file "$tmp/cert.pem"
	contains "$tmp/out" "good: not modified" "update: NAME then --ca-file"
	printf 'tracker.example\n' > "$tmp/names"
	expect 0 "lists test after update" -- sh -c "'$cli' -c '$tmp/update.yaml' lists test < '$tmp/names' 2>&1"
	field_is 1 tracker True "the downloaded list is used"
	field_is 1 list good "the downloaded list is named"
fi

# ---- the token index against a scan of every rule ----
assets='/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/uBlock0@raymondhill.net/assets/thirdparties/easylist'
if [ -n "$linear" ]; then
	"$here/tests/integration/make-urls.py" "$assets/easyprivacy.txt" "$assets/easylist.txt" > "$tmp/urls"
	for type in '' script ping; do
		"$cli" lists test ${type:+--type $type} < "$tmp/urls" > "$tmp/idx" 2>&1
		"$linear" lists test ${type:+--type $type} < "$tmp/urls" > "$tmp/lin" 2>&1
		if cmp -s "$tmp/idx" "$tmp/lin" && [ -s "$tmp/idx" ]; then
			ok
		else
			bad "token index differs from a scan of every rule (type '${type:-unknown}')"
			diff "$tmp/idx" "$tmp/lin" | head -4
		fi
	done
	echo "token index: $(wc -l < "$tmp/urls") URLs, $(grep -c '"tracker":true' "$tmp/idx") trackers (type ping)"
fi

# ---- The cache of built lists (blocklists/lists.c): what it gives back is what a build gives ----
cache=$tmp/cache
mkdir -p "$cache"
printf '%s\n' www.google-analytics.com connect.facebook.net news.example https://www.facebook.com/tr/?id=1 \
	https://news.example/analytics.js static.hotjar.com example.org > "$tmp/cache-names"
TRACKWATCH_CACHE_DIR= "$cli" lists test < "$tmp/cache-names" > "$tmp/cache-none" 2>&1
TRACKWATCH_CACHE_DIR=$cache "$cli" lists test < "$tmp/cache-names" > "$tmp/cache-write" 2>&1
if ls "$cache"/matcher-* > /dev/null 2>&1; then ok; else bad "no cache file written to TRACKWATCH_CACHE_DIR"; fi
if cmp -s "$tmp/cache-none" "$tmp/cache-write"; then ok; else bad "the run that writes the cache answers differently"; fi
TRACKWATCH_CACHE_DIR=$cache "$cli" lists test < "$tmp/cache-names" > "$tmp/cache-read" 2>&1
if cmp -s "$tmp/cache-none" "$tmp/cache-read"; then ok; else bad "the lists read from the cache answer differently"; fi
# A damaged cache is not used (checksum, size), nor one others may write; the answers stay.
file=$(ls "$cache"/matcher-* | head -1)
size=$(stat -c %s "$file")
for damage in flip truncate mode; do
	cp "$file" "$tmp/cache-copy"
	case $damage in
	flip) printf '\377' | dd of="$file" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null ;;
	truncate) truncate -s $((size / 3)) "$file" ;;
	mode) chmod 666 "$file" ;;
	esac
	TRACKWATCH_CACHE_DIR=$cache "$cli" lists test < "$tmp/cache-names" > "$tmp/cache-damaged" 2>&1
	if cmp -s "$tmp/cache-none" "$tmp/cache-damaged"; then ok; else bad "a cache file damaged ($damage) changes the answers"; fi
	cp "$tmp/cache-copy" "$file"
	chmod 600 "$file"
done

# ---- EasyPrivacy against the reference engine ----
easyprivacy='/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/uBlock0@raymondhill.net/assets/thirdparties/easylist/easyprivacy.txt'
if "$here/tests/integration/lists-crosscheck.py" "$cli" "$easyprivacy" > "$tmp/cross" 2>&1; then
	ok
else
	bad "lists-crosscheck.py"
fi
tail -1 "$tmp/cross"

echo "lists: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

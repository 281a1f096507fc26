#!/bin/sh
# blocklists/fetch.c against a local server (fetch-server.py): HTTPS with a
# self-signed certificate made here by openssl(1), and a plain HTTP server
# for the cases that must refuse http://.
#   tests/integration/fetch.sh FETCH_TEST
set -u
t=${1:?usage: fetch.sh FETCH_TEST}
here=$(dirname "$0")
tmp=$(mktemp -d)
https_pid=
http_pid=
cleanup() {
	[ -n "$https_pid" ] && kill "$https_pid" 2>/dev/null
	[ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	2> "$tmp/openssl.err"; then
	cat "$tmp/openssl.err" >&2
	echo "fetch: could not make a test certificate" >&2
	exit 1
fi

# Starts a server; its port is the first line it prints.
start() { # NAME ARGS...
	name=$1; shift
	python3 "$here/fetch-server.py" "$@" > "$tmp/$name.port" 2> "$tmp/$name.log" &
	pid=$!
	i=0
	while [ ! -s "$tmp/$name.port" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 100 ]; then
			cat "$tmp/$name.log" >&2
			echo "fetch: the $name server did not start" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}
start https --cert "$tmp/cert.pem" --key "$tmp/key.pem" --big-bytes 2097152 --slow-seconds 10
https_pid=$pid
start http --plain
http_pid=$pid

mkdir "$tmp/run"
if ! TMPDIR="$tmp/run" "$t" "$(head -1 "$tmp/https.port")" "$tmp/cert.pem" \
	"$(head -1 "$tmp/http.port")"; then
	echo "-- server log:" >&2
	cat "$tmp/https.log" "$tmp/http.log" >&2
	exit 1
fi

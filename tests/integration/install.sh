#!/bin/sh
# make install honours PREFIX and DESTDIR, and make uninstall takes it all back.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
failed=0
make -C "$here" --no-print-directory -s install DESTDIR="$stage" PREFIX=/opt/tw > /dev/null || failed=1
for f in opt/tw/sbin/trackwatchd opt/tw/bin/trackwatch opt/tw/share/man/man8/trackwatchd.8 \
	opt/tw/share/man/man1/trackwatch.1; do
	[ -f "$stage/$f" ] || { echo "FAIL: $f not installed"; failed=1; }
done
"$stage/opt/tw/sbin/trackwatchd" --version > /dev/null || { echo "FAIL: installed trackwatchd does not run"; failed=1; }
make -C "$here" --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=/opt/tw > /dev/null || failed=1
left=$(find "$stage" -type f)
[ -z "$left" ] || { echo "FAIL: uninstall left $left"; failed=1; }
[ $failed -eq 0 ] && echo "install: 1 passed, 0 failed"
exit $failed

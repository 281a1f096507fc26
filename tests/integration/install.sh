#!/bin/sh
# make install honours PREFIX and DESTDIR, and make uninstall takes it all back.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
failed=0
make -C "$here" --no-print-directory -s install DESTDIR="$stage" PREFIX=/opt/tw > /dev/null || failed=1
for f in opt/tw/sbin/trackwatchd opt/tw/bin/trackwatch opt/tw/share/man/man8/trackwatchd.8 \
	opt/tw/share/man/man1/trackwatch.1 opt/tw/share/trackwatch/lists/disconnect/services.json \
	opt/tw/share/trackwatch/lists/disconnect/LICENSE opt/tw/share/trackwatch/lists/open-cookie-database/LICENSE \
	opt/tw/share/doc/trackwatch/examples/trackwatch.yaml opt/tw/share/man/man5/trackwatch.yaml.5 \
	opt/tw/share/trackwatch/consent-signals.yaml opt/tw/lib/systemd/system/trackwatchd.service; do
	[ -f "$stage/$f" ] || { echo "FAIL: $f not installed"; failed=1; }
done
"$stage/opt/tw/sbin/trackwatchd" --version > /dev/null || { echo "FAIL: installed trackwatchd does not run"; failed=1; }
# The installed program finds its own bundled lists (share/trackwatch/lists beside bin/),
# and the example configuration loads.
out=$(env -u TRACKWATCH_DATADIR "$stage/opt/tw/bin/trackwatch" -c "$stage/opt/tw/share/doc/trackwatch/examples/trackwatch.yaml" lists check 2>&1) \
	|| { echo "FAIL: installed trackwatch lists check: $out"; failed=1; }
case $out in
*"$stage/opt/tw/share/trackwatch/lists/disconnect/services.json"*) ;;
*) echo "FAIL: installed trackwatch does not read its installed lists: $out"; failed=1 ;;
esac
# The installed sensor finds its installed consent rules and accepts the example configuration.
out=$(env -u TRACKWATCH_DATADIR "$stage/opt/tw/sbin/trackwatchd" -n \
	-c "$stage/opt/tw/share/doc/trackwatch/examples/trackwatch.yaml" 2>&1) \
	|| { echo "FAIL: installed trackwatchd -n: $out"; failed=1; }
case $out in
*"configuration OK"*"consent rules"*) ;;
*) echo "FAIL: installed trackwatchd -n does not load its consent rules: $out"; failed=1 ;;
esac
# The service unit names the installed program, and systemd reads it without a complaint.
unit=$stage/opt/tw/lib/systemd/system/trackwatchd.service
grep -q '^ExecStart=/opt/tw/sbin/trackwatchd ' "$unit" || { echo "FAIL: the unit does not run /opt/tw/sbin/trackwatchd"; failed=1; }
if command -v systemd-analyze > /dev/null; then
	# Verified as it would run from the stage: the programs it names must exist.
	sed "s|/opt/tw/|$stage/opt/tw/|g" "$unit" > "$stage/trackwatchd.service"
	out=$(systemd-analyze verify --man=no "$stage/trackwatchd.service" 2>&1) || { echo "FAIL: systemd-analyze verify: $out"; failed=1; }
	rm -f "$stage/trackwatchd.service"
	[ -z "$out" ] || { echo "FAIL: systemd-analyze verify says: $out"; failed=1; }
else
	echo "install: systemd-analyze not here: the unit's syntax not checked"
fi
make -C "$here" --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=/opt/tw > /dev/null || failed=1
left=$(find "$stage" -type f)
[ -z "$left" ] || { echo "FAIL: uninstall left $left"; failed=1; }
[ $failed -eq 0 ] && echo "install: 1 passed, 0 failed"
exit $failed

#!/bin/sh
# The manual pages render without warnings from groff, and document every
# long option that --help lists.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
for page in "$here"/man/*.[18]; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then echo "FAIL: $(basename "$page"): $warnings"; fail=1; fi
done
# Every long option in trackwatchd.c's option table appears in trackwatchd(8).
for opt in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", .*/\1/p' "$here/daemon/main.c"); do
	if ! grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$here/man/trackwatchd.8"; then
		echo "FAIL: --$opt is not documented in trackwatchd(8)"; fail=1
	fi
done
# And every long option of the trackwatch commands appears in trackwatch(1).
for opt in $(cat "$here"/cli/*.c | sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", .*/\1/p'); do
	if ! grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$here/man/trackwatch.1"; then
		echo "FAIL: --$opt is not documented in trackwatch(1)"; fail=1
	fi
done
[ $fail -eq 0 ] && echo "man: pages render cleanly and document every option"
exit $fail

#!/bin/sh
# Rewrites the goldens from the current build and shows what changed, for review.
#   tests/integration/regen-golden.sh
set -eu
cd "$(dirname "$0")/../.."
make --no-print-directory build/trackwatchd
tests/integration/golden.sh build/trackwatchd --update
git --no-pager diff --stat -- tests/golden
echo "Review with: git diff -- tests/golden   (and run make crosscheck)"

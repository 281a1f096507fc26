#!/bin/sh
# Tries the README's two commands as a newcomer would: in a minimal Debian 12
# made with debootstrap, holding only git, make and a compiler, on a fresh
# clone of this repository's HEAD. Needs root and network access to Debian's
# mirror. Not part of `make check`.
#   tests/newcomer.sh [CHROOT_DIR]      (default /var/tmp/trackwatch-newcomer)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/trackwatch-newcomer}
if [ ! -x "$root/usr/bin/make" ]; then
	debootstrap --variant=minbase --include=git,make,gcc,libc6-dev,ca-certificates \
		bookworm "$root" http://deb.debian.org/debian
fi
cp /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null || true
mkdir -p "$root/etc/apt/sources.list.d"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
trap 'umount "$root/proc" "$root/dev" 2>/dev/null || true' EXIT
rm -rf "$root/root/trackwatch"
git clone -q "$repo" "$root/root/trackwatch"
chroot "$root" /bin/sh -c 'cd /root/trackwatch && make demo && make check'
echo "newcomer: make demo and make check passed in $root"

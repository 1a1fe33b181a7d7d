#!/usr/bin/env bash
# install-deps.sh - makes sure the Debian packages smmvm builds and tests with
# are present. As root it installs what is missing with apt-get; otherwise it
# names the missing packages and the command to install them.
set -eu
packages="gcc make binutils libc6-dev libcmocka-dev libjansson-dev python3 qemu-system-x86 acpica-tools"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "smmvm: missing Debian packages:$missing" >&2
    echo "smmvm: install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "smmvm: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2

#!/usr/bin/env bash
# Fetches the Debian 6.1 kernel image and its headers as .deb files (apt-get download: no
# install, no root needed for the unpack) and unpacks them under .cache/kernel/, so the PF
# module can be built against real headers and the QEMU test can boot the same kernel.
# Idempotent: a finished unpack is reused. Prints shell assignments for the paths:
#   KVER=6.1.0-NN-amd64 KERNEL_ROOT=... KHEADERS=... VMLINUZ=... KMODULES=...
# Usage: eval "$(scripts/kernel/fetch.sh)"
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache="${VFMED_KERNEL_CACHE:-$top/.cache/kernel}"
mkdir -p "$cache"

# Resolve NN from the metapackage (apt lists must exist: run apt-get update once before).
kver=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -n1)
if [ -z "$kver" ]; then
	apt-get update -qq >&2
	kver=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -n1)
fi
[ -n "$kver" ] || { echo "fetch.sh: cannot resolve the linux-image-amd64 version" >&2; exit 1; }
kbase=${kver%-amd64}                      # 6.1.0-NN
kmajor=$(echo "$kbase" | cut -d. -f1,2)   # 6.1
root="$cache/$kver"

if [ ! -f "$root/.done" ]; then
	rm -rf "$root" && mkdir -p "$root/debs"
	( cd "$root/debs" && apt-get download -q \
		"linux-image-$kver" "linux-headers-$kver" "linux-headers-$kbase-common" \
		"linux-kbuild-$kmajor" >&2 )
	for d in "$root"/debs/*.deb; do dpkg -x "$d" "$root/fs"; done
	# The amd64 headers' Makefile includes the absolute /usr/src/...-common path: point it
	# at the unpacked copy. (Its scripts/tools symlinks are relative and resolve in place.)
	hdr="$root/fs/usr/src/linux-headers-$kver"
	sed -i "s|/usr/src/linux-headers-$kbase-common|$root/fs/usr/src/linux-headers-$kbase-common|g" "$hdr/Makefile"
	touch "$root/.done"
fi
hdr="$root/fs/usr/src/linux-headers-$kver"
echo "KVER=$kver"
echo "KERNEL_ROOT=$root/fs"
echo "KHEADERS=$hdr"
echo "VMLINUZ=$root/fs/boot/vmlinuz-$kver"
echo "KMODULES=$root/fs/lib/modules/$kver"

#!/usr/bin/env bash
# Fetches the Debian 6.1 kernel image and its headers as .deb files (apt-get download: no
# install, no root needed for the unpack) and unpacks them under .cache/kernel/, so the PF
# module can be built against real headers and the QEMU test can boot the same kernel.
# Idempotent: a finished unpack is reused. Prints shell assignments for the paths:
#   KVER=6.1.0-NN-amd64 KERNEL_ROOT=... KHEADERS=... VMLINUZ=... VMLINUX=... KMODULES=...
# VMLINUX is the kernel ELF taken out of the bzImage once, here: QEMU boots it directly
# through its PVH entry point (CONFIG_PVH), which skips the XZ decompression the bzImage
# does at every boot — about 3 s of each boot under TCG.
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
vmlinuz="$root/fs/boot/vmlinuz-$kver"
if [ ! -f "$root/vmlinux" ]; then
	command -v xz >/dev/null || { echo "fetch.sh: xz (xz-utils) is missing (scripts/deps.d/30-qemu.sh)" >&2; exit 1; }
	# The compressed kernel is the XZ stream inside the bzImage (CONFIG_KERNEL_XZ), as the
	# kernel's scripts/extract-vmlinux finds it: at its magic, up to the end of the stream.
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || { echo "fetch.sh: no XZ stream in $vmlinuz" >&2; exit 1; }
	tmp="$root/vmlinux.$$"
	# (Through a file, not a pipe: xz stops reading at the end of the stream, which would
	# kill the writer with SIGPIPE.)
	tail -c +$((off + 1)) "$vmlinuz" >"$tmp.xz"
	xz -dcq --single-stream "$tmp.xz" >"$tmp"
	rm -f "$tmp.xz"
	# PVH boot needs the Xen PHYS32_ENTRY note (type 0x12).
	notes=$(readelf -n "$tmp" 2>/dev/null) || true
	case $notes in
	*"(0x00000012)"*) mv "$tmp" "$root/vmlinux" ;;
	*) rm -f "$tmp"; echo "fetch.sh: the kernel in $vmlinuz has no PVH entry note" >&2; exit 1 ;;
	esac
fi
hdr="$root/fs/usr/src/linux-headers-$kver"
echo "KVER=$kver"
echo "KERNEL_ROOT=$root/fs"
echo "KHEADERS=$hdr"
echo "VMLINUZ=$vmlinuz"
echo "VMLINUX=$root/vmlinux"
echo "KMODULES=$root/fs/lib/modules/$kver"

#!/usr/bin/env bash
# Packs a tiny initramfs (newc cpio, gzip) for booting the Debian kernel in QEMU: the static
# busybox from Debian's busybox-static (every applet as a symlink), kernel modules taken from
# the unpacked linux-image .deb together with everything they depend on (resolved from each
# module's own `depends` field, so no depmod run over the whole tree is needed), extra
# out-of-tree modules, static helper binaries and files, and an /init script.
# modules.dep is generated for the image so `modprobe` works inside the guest.
#
# Usage: initramfs.sh -o OUT.cpio.gz -k KMODULES_DIR -i INIT
#                     [-m module_name]... [-x extra.ko]... [-b static_binary]... [-f SRC=DST]...
#   -k  /lib/modules/<kver> of the unpacked image (fetch.sh prints it as KMODULES)
#   -m  an in-tree module by name (dashes and underscores are the same), with its deps
#   -x  an out-of-tree .ko, installed under lib/modules/<kver>/extra/
#   -b  a binary copied to /bin (must be static: the image has no libc)
#   -f  any file copied to DST inside the image (parent dirs are created)
set -euo pipefail

out= kmod= init=
mods=() extras=() bins=() files=()
while getopts "o:k:i:m:x:b:f:" opt; do
	case $opt in
	o) out=$OPTARG ;;
	k) kmod=$OPTARG ;;
	i) init=$OPTARG ;;
	m) mods+=("$OPTARG") ;;
	x) extras+=("$OPTARG") ;;
	b) bins+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	*) echo "initramfs.sh: bad option (see the header of $0)" >&2; exit 2 ;;
	esac
done
die() { echo "initramfs.sh: $*" >&2; exit 1; }
[ -n "$out" ] && [ -n "$kmod" ] && [ -n "$init" ] || die "-o, -k and -i are required"
[ -f "$kmod/modules.order" ] || die "$kmod is not an unpacked /lib/modules/<kver> (no modules.order)"
[ -f "$init" ] || die "init script $init not found"
busybox=/bin/busybox
"$busybox" --list >/dev/null 2>&1 || die "busybox-static is not installed (scripts/deps.d/30-qemu.sh)"
command -v depmod >/dev/null || die "depmod (kmod) is not installed (scripts/deps.d/30-qemu.sh)"
command -v cpio >/dev/null || die "cpio is not installed (scripts/deps.d/30-qemu.sh)"

kver=$(basename "$kmod")
stage=$(mktemp -d "${TMPDIR:-/tmp}/vfmed-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,run,mnt,etc,"lib/modules/$kver"}

# busybox: a static binary. --install -s DIR links every applet in DIR to the running
# binary's real path (/usr/bin/busybox on merged-/usr Debian), so the image gets the binary
# at that same path.
bbreal=$(readlink -f "$busybox")
mkdir -p "$stage$(dirname "$bbreal")"
cp "$bbreal" "$stage$bbreal"
"$bbreal" --install -s "$stage/bin"
[ -e "$stage/bin/busybox" ] || ln -s "$bbreal" "$stage/bin/busybox"

# In-tree modules with their dependency closure. Name -> path index from modules.order
# (every module the image builds is listed there, relative to $kmod).
declare -A path_of=() wanted=()
while read -r rel; do
	n=${rel##*/}; n=${n%.ko}; n=${n//-/_}
	path_of[$n]=$rel
done <"$kmod/modules.order"
add_module() {
	local n=${1//-/_} dep deps
	[ -n "${wanted[$n]:-}" ] && return 0
	local rel=${path_of[$n]:-}
	if [ -z "$rel" ]; then
		# Built into the kernel: nothing to copy, but say so if the caller asked for it.
		grep -q "/${1//_/[-_]}.ko\$" "$kmod/modules.builtin" 2>/dev/null && return 0
		die "module '$1' is neither in modules.order nor built in"
	fi
	[ -f "$kmod/$rel" ] || die "module file $kmod/$rel missing"
	wanted[$n]=$rel
	deps=$(modinfo -F depends "$kmod/$rel")
	for dep in ${deps//,/ }; do add_module "$dep"; done
}
for m in "${mods[@]}"; do add_module "$m"; done
for n in "${!wanted[@]}"; do
	rel=${wanted[$n]}
	mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
	cp "$kmod/$rel" "$stage/lib/modules/$kver/$rel"
done
for x in "${extras[@]}"; do
	[ -f "$x" ] || die "extra module $x not found"
	mkdir -p "$stage/lib/modules/$kver/extra"
	cp "$x" "$stage/lib/modules/$kver/extra/"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$kmod/$f" ] && cp "$kmod/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver" || die "depmod failed for the staged modules"

for b in "${bins[@]}"; do
	[ -f "$b" ] || die "binary $b not found"
	# A dynamic executable has a PT_INTERP program header; the image has no ld.so/libc.
	readelf -l "$b" 2>/dev/null | grep -q 'program interpreter' &&
		die "$b is dynamically linked (the image has no libc): build it with -static"
	cp "$b" "$stage/bin/"
done
for spec in "${files[@]}"; do
	src=${spec%%=*} dst=${spec#*=}
	[ -n "$src" ] && [ "$dst" != "$spec" ] || die "-f wants SRC=DST, got '$spec'"
	[ -f "$src" ] || die "file $src not found"
	mkdir -p "$stage/$(dirname "$dst")"
	cp "$src" "$stage/$dst"
done
install -m 0755 "$init" "$stage/init"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner 0:0 --quiet) |
	gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs.sh: $out ($(du -h "$out" | cut -f1), modules: ${!wanted[*]} ${extras[*]:+extra: ${extras[*]}})" >&2

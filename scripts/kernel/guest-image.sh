#!/usr/bin/env bash
# Builds everything the kernel test's guest boots with, under OUTDIR:
#   - the PF driver module (pf-driver/linux, via scripts/build-kmod.sh) against the unpacked
#     Debian headers, unless --kmod names a prebuilt .ko;
#   - the static guest programs of tests/kernel/guest/*.c (gcc -static: the image has no
#     libc), and init.sh as /init (Node scripts and `vfmed` come from the host over 9p);
#   - the initramfs: busybox + those + the in-tree modules the test loads (uio_pci_generic,
#     vfio-pci, vfio_iommu_type1; virtio_pci + 9p to reach the host's Node over virtio-9p;
#     and their dependencies).
# Prints shell assignments: KVER= VMLINUZ= VMLINUX= INITRD= KMOD= (eval-able, like fetch.sh);
# boot VMLINUX (the PVH-bootable ELF, no decompression at boot), VMLINUZ works too.
#
# Usage: scripts/kernel/guest-image.sh OUTDIR [--kmod path/to/vfpf.ko]
# Uses VFMED_KERNEL_CACHE like fetch.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "guest-image.sh: $*" >&2; exit 1; }

out=${1:-}
[ -n "$out" ] || die "usage: guest-image.sh OUTDIR [--kmod FILE]"
shift
kmod=
while [ $# -gt 0 ]; do
	case $1 in
	--kmod) kmod=$2; shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)

eval "$("$top/scripts/kernel/fetch.sh")"

if [ -z "$kmod" ]; then
	[ -x "$top/scripts/build-kmod.sh" ] || [ -f "$top/scripts/build-kmod.sh" ] ||
		die "scripts/build-kmod.sh is missing: the PF module (pf-driver/linux) cannot be built"
	# build-kmod.sh prints the path of the module it built on its last stdout line.
	kmod=$(VFMED_KMOD_OUT="$out/kmod" bash "$top/scripts/build-kmod.sh" | tail -n 1)
fi
[ -f "$kmod" ] || die "PF module '$kmod' not found"
modinfo -F vermagic "$kmod" | grep -q "^$KVER " ||
	die "$kmod was built for '$(modinfo -F vermagic "$kmod")', the guest runs $KVER"

guest="$top/tests/kernel/guest"
cflags=(-std=gnu11 -O2 -g -Wall -Wextra -Werror -static -I"$top/native/include" -I"$top/pf-driver/linux")
bins=()
for src in "$guest"/*.c; do
	b="$out/bin/$(basename "$src" .c)"
	gcc "${cflags[@]}" -o "$b" "$src" || die "compiling $src failed"
	bins+=(-b "$b")
done

"$top/scripts/kernel/initramfs.sh" -o "$out/initramfs.cpio.gz" -k "$KMODULES" -i "$guest/init.sh" \
	-m uio_pci_generic -m vfio-pci -m vfio_iommu_type1 -m virtio_pci -m 9pnet_virtio -m 9p \
	-x "$kmod" "${bins[@]}"

echo "KVER=$KVER"
echo "VMLINUZ=$VMLINUZ"
echo "VMLINUX=$VMLINUX"
echo "INITRD=$out/initramfs.cpio.gz"
echo "KMOD=$kmod"

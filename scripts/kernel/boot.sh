#!/usr/bin/env bash
# Boots the Debian kernel in QEMU for the real-kernel test: TCG (this machine's /dev/kvm is a
# software hypervisor without vmx/svm; a Debian guest hangs under -enable-kvm), one vCPU,
# guest RAM from a shared file (so the host-side hardware model can DMA into it at
# "guest physical address = file offset"), and one ivshmem-plain PCI device per BAR file
# (the emulated PF's BAR and the VFs' BAR0s, created by the hardware model under shm_dir).
# The guest sees each as a PCI device 1af4:1110 whose BAR2 is that file, live both ways.
#
# Fixed PCI addresses so the guest and the host agree without a discovery protocol:
#   the n-th --bar (n = 0, 1, ...) is 0000:00:NN.0 with NN = 0x10 + n.
# Serial ports: ttyS0 = kernel console and the test's human log (--console, default
# stdout), ttyS1 = the machine-readable result channel (--results FILE), which only the
# in-guest test writes, so kernel messages can never interleave with a result line.
#
# Usage: boot.sh --kernel VMLINUX|VMLINUZ --initrd INITRD --ram-file PATH [--mem 256M]
#                [--bar FILE]... [--iommu] [--append "k=v ..."] [--console FILE]
#                [--results FILE] [--share DIR] [--timeout SECONDS] [--dry-run]
#   --iommu   q35 + an emulated Intel VT-d (intel_iommu=on iommu=pt): vfio-pci can bind,
#             and iommu=pt keeps DMA addresses = guest physical for every other driver.
#   --share   DIR exported read-only to the guest over virtio-9p, mount tag "hostroot"
#             (the guest mounts it to run the host's Node and the repository's scripts).
#   --kernel  the ELF vmlinux (fetch.sh's VMLINUX: QEMU enters it through PVH, no
#             decompression) or the bzImage.
#   --dry-run print the QEMU command line instead of running it.
# Exit status: QEMU's (0 after the guest powers off), 124 on timeout (from timeout(1)).
set -euo pipefail

die() { echo "boot.sh: $*" >&2; exit 2; }
kernel= initrd= ramfile= mem=256M iommu=0 append= console=- results= share= tmo=300 dry=0
bars=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--ram-file) ramfile=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--bar) bars+=("$2"); shift 2 ;;
	--iommu) iommu=1; shift ;;
	--append) append=$2; shift 2 ;;
	--console) console=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--share) share=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	--dry-run) dry=1; shift ;;
	*) die "unknown argument '$1' (see the header of $0)" ;;
	esac
done
[ -f "$kernel" ] || die "--kernel: '$kernel' not found (eval \"\$(scripts/kernel/fetch.sh)\" gives VMLINUX)"
[ -f "$initrd" ] || die "--initrd: '$initrd' not found"
[ -n "$ramfile" ] || die "--ram-file is required (guest RAM must be a shared file)"
[ ${#bars[@]} -le 16 ] || die "at most 16 --bar devices (slots 0x10..0x1f)"
[[ $tmo =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (scripts/deps.d/30-qemu.sh)"

# Kernel command line. mitigations=off: nothing to protect in a throwaway guest and TCG
# runs noticeably faster without them. panic=-1 + -no-reboot: a panic ends QEMU at once
# instead of hanging until the timeout. hugepages=2: reserved at boot, before memory
# fragments, for the UIO driver's DMA buffers (physically contiguous, never migrated).
# slub_debug/page_poison: the Debian kernel has no KASAN; this is the debugging it does
# have (slab red zones, poisoning, free checks), reported as BUG lines in dmesg.
cmdline="console=ttyS0,115200 panic=-1 oops=panic mitigations=off hugepages=2"
cmdline+=" slub_debug=FZPU page_poison=1 loglevel=6"
machine=q35
devs=()
if [ "$iommu" = 1 ]; then
	cmdline+=" intel_iommu=on iommu=pt"
	devs+=(-device intel-iommu,intremap=on)
	machine=q35,kernel-irqchip=split
fi
[ -n "$append" ] && cmdline+=" $append"

i=0
for b in "${bars[@]}"; do
	[ -f "$b" ] || die "--bar: '$b' not found"
	sz=$(stat -c %s "$b")
	# A PCI BAR is a power of two of at least 4 KiB; QEMU maps the whole file.
	[ "$sz" -ge 4096 ] && [ $((sz & (sz - 1))) -eq 0 ] || die "--bar $b: size $sz is not a power of two >= 4096"
	devs+=(-object "memory-backend-file,id=bar$i,share=on,mem-path=$b,size=$sz"
		-device "ivshmem-plain,memdev=bar$i,bus=pcie.0,addr=$(printf '0x%x' $((0x10 + i)))")
	i=$((i + 1))
done

if [ -n "$share" ]; then
	[ -d "$share" ] || die "--share: '$share' is not a directory"
	# multidevs=remap: the export spans several host filesystems; keep inode numbers unique.
	devs+=(-virtfs "local,path=$share,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
fi

serial0=stdio
[ "$console" != - ] && serial0="file:$console"
serial1=()
[ -n "$results" ] && serial1=(-serial "file:$results")

cmd=(qemu-system-x86_64 -accel tcg -machine "$machine" -cpu max -smp 1 -m "$mem"
	-object "memory-backend-file,id=ram,share=on,mem-path=$ramfile,size=$mem"
	-machine memory-backend=ram
	-nodefaults -no-user-config -display none -vga none -monitor none -no-reboot
	-serial "$serial0" "${serial1[@]}"
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	"${devs[@]}")
if [ "$dry" = 1 ]; then
	printf '%q ' "${cmd[@]}"; echo
	exit 0
fi
# timeout(1) forwards SIGTERM/SIGINT to QEMU, so killing this pid stops the guest.
exec timeout -k 5 "$tmo" "${cmd[@]}" </dev/null

#!/bin/sh
# /init of the kernel test's guest (busybox ash). Runs the in-guest steps of one scenario and
# reports each on the result channel, ttyS1 (grammar: tests/kernel/harness/results.ts), then
# powers off. Kernel messages go to ttyS0 only, so they never interleave with a result.
#
# The host passes everything on the kernel command line; the kernel hands name=value words
# to init as environment variables:
#   vfmed_scenario  pf | vfio | uio      which steps to run (see the bottom of this file);
#                   uio is the UIO VF path alone, for debugging the guest driver with the PF
#                   driven from the host (libvfpf) instead of the module
#   vfmed_pf        BDF of the PF BAR device        vfmed_vf0, vfmed_vf1   VF BAR devices
#   vfmed_spare     BDF of a spare ivshmem device (bind/unbind tests)
#   vfmed_mac0/1    MACs the PF assigns to VF0/VF1  vfmed_peer  MAC of the far end (uplink)
#   vfmed_rx/tx     frame counts for the UIO traffic
#   vfmed_repo      the repository's path on the host   vfmed_node  the host's node binary
#                   (the host's root is exported read-only over virtio-9p as "hostroot")
#   vfmed_vf1_dma   IOVA:LENGTH of VF1's DMA space (the host's memory for VF1), which the
#                   kernel-pf step dirty-logs
#
# A step is a command: exit 0 = ok, anything else = fail (its last output line becomes the
# detail). Lines a step prints as "VFMED-DATA key value" are forwarded for the host.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "VFMED-BOOTED $(cut -d' ' -f1 /proc/uptime)" >&3

n_ok=0 n_fail=0
KVER=$(uname -r)
VFPF_KO=/lib/modules/$KVER/extra/vfpf.ko

result() { # NAME ok|fail DETAIL
	echo "VFMED-RESULT $1 $2 $3" >&3
	echo "==== [$2] $1 $3 (uptime $(cut -d' ' -f1 /proc/uptime))"
	if [ "$2" = ok ]; then n_ok=$((n_ok + 1)); else n_fail=$((n_fail + 1)); fi
}

# step NAME CMD...: run CMD, show its output, forward its VFMED-DATA lines, report.
step() {
	name=$1
	shift
	echo "==== $name: $*"
	"$@" >/tmp/step.out 2>&1
	rc=$?
	grep -v '^VFMED-' /tmp/step.out
	sed -n "s/^VFMED-DATA /VFMED-DATA $name /p" /tmp/step.out >&3
	last=$(grep -v '^VFMED-' /tmp/step.out | tail -n 1)
	if [ $rc -eq 0 ]; then result "$name" ok "$last"; else result "$name" fail "rc=$rc $last"; fi
}

# expect_fail PATTERN CMD...: succeeds when CMD fails AND says PATTERN (a clear error, not
# just any failure). Its output is passed through.
expect_fail() {
	pat=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	[ $rc -ne 0 ] || { echo "expected a failure, got success"; return 1; }
	echo "$out" | grep -q -- "$pat" || { echo "the error does not say '$pat'"; return 1; }
	echo "failed as expected (rc=$rc)"
}

driver_of() { [ -e "/sys/bus/pci/devices/$1/driver" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver")"; }

# ---- PF driver module ---------------------------------------------------------------------
pf_load() {
	insmod "$VFPF_KO" || return 1
	[ -c /dev/vfpf ] || { echo "/dev/vfpf did not appear"; return 1; }
	d=$(driver_of "$vfmed_pf")
	[ "$d" = vfpf ] || { echo "PF $vfmed_pf bound to '$d', not vfpf"; return 1; }
	# The VF BAR devices are ivshmem too: the module must have refused them (no VFPF_MAGIC).
	for b in $vfmed_vf0 $vfmed_vf1 $vfmed_spare; do
		d=$(driver_of "$b")
		[ -z "$d" ] || { echo "$b (not a PF BAR) was bound to '$d'"; return 1; }
	done
	echo "VFMED-DATA refcnt $(cat /sys/module/vfpf/refcnt)"
	echo "vfpf bound $vfmed_pf, /dev/vfpf present, the other ivshmem devices left alone"
}

pf_unload() {
	rmmod vfpf || { echo "rmmod vfpf failed (refcnt $(cat /sys/module/vfpf/refcnt 2>/dev/null))"; return 1; }
	[ ! -e /sys/module/vfpf ] || { echo "/sys/module/vfpf still exists"; return 1; }
	[ ! -e /dev/vfpf ] || { echo "/dev/vfpf still exists"; return 1; }
	d=$(driver_of "$vfmed_pf")
	[ -z "$d" ] || { echo "PF still bound to $d"; return 1; }
	en=$(cat "/sys/bus/pci/devices/$vfmed_pf/enable")
	[ "$en" = 0 ] || { echo "PF device left enabled (enable=$en): pci_enable_device leaked"; return 1; }
	echo "vfpf unloaded: module, char device and binding gone, PCI device disabled"
}

# ---- Node in the guest: the host's node, the repository and its dist/ over virtio-9p ------
# Read-only, in a chroot with this guest's /proc, /dev (so /dev/vfpf, /dev/uio*, /dev/vfio),
# /sys and a private /tmp mounted on top. Mounted once, by the first step that needs it.
HOST=/host
GUEST_MODROOT=/tmp/guest-modroot
host_mount() {
	[ -n "${vfmed_repo:-}" ] && [ -n "${vfmed_node:-}" ] || { echo "vfmed_repo/vfmed_node not given"; return 1; }
	grep -q " $HOST 9p " /proc/mounts && return 0
	modprobe virtio_pci && modprobe 9pnet_virtio && modprobe 9p || return 1
	mkdir -p $HOST
	# msize: the transport's largest message (virtio's limit); Node's first start reads ~50 MB
	# of its binary through it and takes half the time of the default 128 KiB under TCG.
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot $HOST ||
		{ echo "cannot mount the host export (boot.sh --share)"; return 1; }
	mount -t proc proc $HOST/proc && mount -t devtmpfs devtmpfs $HOST/dev &&
		mount -t sysfs sysfs $HOST/sys ||
		{ echo "cannot mount proc/dev/sys in the chroot"; host_umount; return 1; }
	# The private /tmp would hide a repository that lives under the host's /tmp (a CI clone
	# may): keep a bind of the repository and put it back over its own path.
	mkdir -p /repo && mount -o bind "$HOST$vfmed_repo" /repo &&
		mount -t tmpfs tmpfs $HOST/tmp && mkdir -p "$HOST$vfmed_repo" &&
		mount -o bind /repo "$HOST$vfmed_repo" ||
		{ echo "cannot mount the private /tmp over the repository $vfmed_repo"; host_umount; return 1; }
	# This kernel's modules, for the host's kmod when vfmed runs modprobe in the chroot (the
	# host has no /lib/modules of this kernel): kmod takes "-d ROOT" from MODPROBE_OPTIONS.
	mkdir -p $HOST$GUEST_MODROOT/lib/modules &&
		mount -o bind /lib/modules $HOST$GUEST_MODROOT/lib/modules ||
		{ echo "cannot bind this kernel's modules into the chroot"; host_umount; return 1; }
}

# Only on a failed mount: unmounting a used export costs ~1.5 s under TCG, and it is
# read-only, so power-off loses nothing.
host_umount() {
	for m in $HOST$GUEST_MODROOT/lib/modules "$HOST$vfmed_repo" $HOST/tmp /repo $HOST/sys $HOST/dev \
		$HOST/proc $HOST; do
		grep -q " $m " /proc/mounts && umount $m
	done
}

# node_run SCRIPT ARGS...: the host's node on a script of the repository, in the chroot
# (bounded: a hung Node must fail its step, not the whole boot).
node_run() {
	host_mount || return 1
	timeout 150 chroot $HOST "$vfmed_node" "$@"
}

# vfmed ARGS...: the project's CLI (dist/mediator/cli/main.js) as an administrator runs it,
# with a root PATH and this kernel's modules for its modprobe.
vfmed() {
	host_mount || return 1
	PATH=/usr/sbin:/usr/bin:/sbin:/bin MODPROBE_OPTIONS="-d $GUEST_MODROOT" \
		timeout 150 chroot $HOST "$vfmed_node" "$vfmed_repo/dist/mediator/cli/main.js" "$@"
}

# The mediator's kernel path: its compiled koffi binding of /dev/vfpf (KernelPf) drives
# every ioctl of the module, incl. VF1's dirty log and save/load while the host streams
# frames into VF1 (kernel-pf.mjs).
node_kernel_pf() {
	layout=$(vfpf-ctl layout) || return 1
	node_run "$vfmed_repo/tests/kernel/guest/kernel-pf.mjs" "$vfmed_repo" "$layout"
}

# ---- vfio-pci refused without an IOMMU ----------------------------------------------------
vfio_refused_by_kernel() {
	# The same request `vfmed bind` refuses, made directly: the kernel must refuse it too, so
	# vfmed's report matches what really happens.
	modprobe vfio-pci
	dev=/sys/bus/pci/devices/$vfmed_spare
	echo vfio-pci >"$dev/driver_override"
	echo "$vfmed_spare" >/sys/bus/pci/drivers_probe 2>/dev/null
	d=$(driver_of "$vfmed_spare")
	echo >"$dev/driver_override"
	[ -z "$d" ] || { echo "vfio-pci bound $vfmed_spare without an IOMMU"; return 1; }
	echo "kernel: $(dmesg | grep -F "$vfmed_spare" | grep -i vfio | tail -n 1)"
	echo "vfio-pci did not bind (no IOMMU group, no no-IOMMU mode)"
}

# ---- vfmed bind / unbind of real PCI devices, each result checked in sysfs ---------------
# uio_bind BDF...: to uio_pci_generic in one `vfmed bind` (which loads the driver itself);
# each device then has the driver, and a /dev/uioN.
uio_bind() {
	vfmed bind "$@" --driver uio_pci_generic || return 1
	for b in "$@"; do
		d=$(driver_of "$b")
		[ "$d" = uio_pci_generic ] || { echo "$b: driver '$d' after vfmed bind"; return 1; }
		u=$(ls "/sys/bus/pci/devices/$b/uio" 2>/dev/null)
		[ -n "$u" ] && [ -c "/dev/$u" ] || { echo "$b: no /dev/uioN after vfmed bind"; return 1; }
	done
}

# vfio_bind BDF: from whatever driver it has straight to vfio-pci; the device node of its
# IOMMU group must exist.
vfio_bind() {
	vfmed bind "$1" --driver vfio-pci || return 1
	d=$(driver_of "$1")
	[ "$d" = vfio-pci ] || { echo "$1: driver '$d' after vfmed bind"; return 1; }
	g=$(basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")")
	[ -c "/dev/vfio/$g" ] || { echo "$1: no /dev/vfio/$g"; return 1; }
	echo "VFMED-DATA vfio-group $g"
}

# pci_unbind BDF...: no driver afterwards and driver_override cleared. --no-reprobe: these
# ivshmem devices have no kernel driver of their own to give them back to.
pci_unbind() {
	vfmed unbind "$@" --no-reprobe || return 1
	for b in "$@"; do
		d=$(driver_of "$b")
		[ -z "$d" ] || { echo "$b still bound to $d"; return 1; }
		o=$(cat "/sys/bus/pci/devices/$b/driver_override")
		[ "$o" = "(null)" ] || { echo "$b: driver_override '$o' left behind"; return 1; }
	done
}

# vfio-pci without an IOMMU: vfmed must refuse, say why (its message goes to the host),
# and leave the device as it was.
vfio_refused() {
	out=$(expect_fail CONFIG_VFIO_NOIOMMU vfmed bind "$vfmed_spare" --driver vfio-pci) || { echo "$out"; return 1; }
	echo "$out"
	echo "VFMED-DATA message $(echo "$out" | grep -m1 CONFIG_VFIO_NOIOMMU)"
	d=$(driver_of "$vfmed_spare")
	[ -z "$d" ] || { echo "the refused bind left $vfmed_spare bound to $d"; return 1; }
	echo "refused, $vfmed_spare left unbound"
}

# `vfmed bind --check-noiommu`: fails on this kernel and says why.
noiommu_report() {
	out=$(expect_fail CONFIG_VFIO_NOIOMMU vfmed bind --check-noiommu) || { echo "$out"; return 1; }
	echo "$out"
	echo "VFMED-DATA message $(echo "$out" | grep -m1 CONFIG_VFIO_NOIOMMU)"
}

# The spare device's BAR through its UIO binding: read by mmap of resource2, and written.
spare_bar() {
	w=$(pci-bar "$vfmed_spare" 0) || return 1
	echo "VFMED-DATA word0 $w"
	pci-bar "$vfmed_spare" 0x2008 0x75696f21 >/dev/null || return 1 # "uio!"
	echo "spare BAR word 0 = $w, token written"
}

# ---- end: the kernel's own verdict --------------------------------------------------------
kernel_clean() {
	# Taint bits other than O (out-of-tree, 4096) and E (unsigned, 8192) mean a warning,
	# an oops, a bad page, a forced unload ... (Documentation/admin-guide/tainted-kernels).
	t=$(cat /proc/sys/kernel/tainted)
	echo "VFMED-DATA tainted $t"
	bad=$((t & ~(4096 | 8192)))
	[ $bad -eq 0 ] || { echo "kernel tainted with $bad (flags other than O/E)"; return 1; }
	echo "kernel taint $t: only out-of-tree/unsigned module"
}

finish() {
	dmesg | sed 's/^/VFMED-DMESG /' >&3
	echo "VFMED-END $n_ok $n_fail" >&3
	echo "==== done: $n_ok ok, $n_fail failed"
	sync
	poweroff -f
}

scenario_pf() {
	step pf-load pf_load
	step pf-info timeout 60 vfpf-ctl info
	step pf-sriov timeout 60 vfpf-ctl sriov 2
	step pf-mac timeout 60 vfpf-ctl mac 0 "$vfmed_mac0" 1 "$vfmed_mac1"
	step pf-errors timeout 60 vfpf-ctl errors
	# The host performs VF0's reset + VF_RESET mailbox handshake through the trapped register
	# path; this PF driver answers it and enables the VF's RX/TX. Wait for that here.
	step vf0-ready timeout 90 vfpf-ctl wait-enabled 0 60000
	step uio-bind uio_bind "$vfmed_vf0" "$vfmed_spare"
	step uio-traffic timeout 120 uio-vf "$vfmed_vf0" --mac "$vfmed_mac0" --peer "$vfmed_peer" \
		--rx "$vfmed_rx" --tx "$vfmed_tx" --timeout-ms 100000
	step uio-spare spare_bar
	step uio-unbind pci_unbind "$vfmed_vf0" "$vfmed_spare"
	# VF1 is driven by the host and passes traffic throughout; the host watches its frames.
	step vf1-ready timeout 90 vfpf-ctl wait-enabled 1 60000
	step node-kernel-pf node_kernel_pf
	step noiommu-report noiommu_report
	step vfio-bind-refused vfio_refused
	step vfio-kernel-refuses vfio_refused_by_kernel
	step pf-unload pf_unload
	step pf-reload pf_load
	step pf-reload-info timeout 60 vfpf-ctl info
	step pf-unload-again pf_unload
	step kernel-clean kernel_clean
}

scenario_vfio() {
	# The PF module with an IOMMU present: iommu=pt gives its DMA API an identity domain, so
	# the admin queue's DMA addresses stay guest-physical, which the host model resolves.
	step pf-load pf_load
	step pf-info timeout 60 vfpf-ctl info
	step pf-unload pf_unload
	step uio-bind uio_bind "$vfmed_spare"
	step uio-spare spare_bar
	step vfio-bind vfio_bind "$vfmed_spare"
	step vfio-probe timeout 60 vfio-probe "$vfmed_spare"
	step vfio-unbind pci_unbind "$vfmed_spare"
	step kernel-clean kernel_clean
}

scenario_uio() {
	step uio-bind uio_bind "$vfmed_vf0"
	step uio-traffic timeout 120 uio-vf "$vfmed_vf0" --mac "$vfmed_mac0" --peer "$vfmed_peer" \
		--rx "$vfmed_rx" --tx "$vfmed_tx" --timeout-ms 100000
	step uio-unbind pci_unbind "$vfmed_vf0"
	step kernel-clean kernel_clean
}

case ${vfmed_scenario:-} in
pf) scenario_pf ;;
uio) scenario_uio ;;
vfio) scenario_vfio ;;
*) result scenario fail "unknown vfmed_scenario '${vfmed_scenario:-}'" ;;
esac
finish

#!/bin/sh
# bind.sh - the sysfs sequence `vfmed bind` performs, as a busybox shell script for the
# kernel test's guest (Node does not run there): bind a PCI device to uio_pci_generic or
# vfio-pci, unbind it, or say whether VFIO can run without an IOMMU.
#
# Why driver_override and not new_id: new_id makes the driver claim EVERY unbound device
# with that vendor:device id, and in the test every BAR (PF and VFs) is an ivshmem 1af4:1110.
# driver_override names one device (kernel >= 3.16); drivers_probe then binds just it.
#
# Usage: bind.sh bind uio_pci_generic|vfio-pci BDF [--unsafe-noiommu]
#        bind.sh unbind BDF
#        bind.sh noiommu            exit 0 if VFIO no-IOMMU mode is available
# On success prints "bound BDF DRIVER DEVNODE" / "unbound BDF"; on failure a line starting
# "bind.sh: error:" on stderr and exit 1 (2 for usage errors).
set -u

err() { echo "bind.sh: error: $*" >&2; exit 1; }
usage() { echo "usage: bind.sh bind uio_pci_generic|vfio-pci BDF [--unsafe-noiommu] | unbind BDF | noiommu" >&2; exit 2; }

NOIOMMU_PARAM=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode

# The kernel's own reason when a probe fails, e.g. "probe of ... failed with error -22".
kernel_says() { dmesg | grep -F "$1" | tail -n 1; }

noiommu_report() {
	modprobe vfio 2>/dev/null
	if [ -e "$NOIOMMU_PARAM" ]; then
		echo "VFIO no-IOMMU mode: available (enable_unsafe_noiommu_mode=$(cat $NOIOMMU_PARAM))"
		return 0
	fi
	echo "VFIO no-IOMMU mode: unavailable: this kernel ($(uname -r)) is built without CONFIG_VFIO_NOIOMMU (the vfio module has no enable_unsafe_noiommu_mode parameter)"
	return 1
}

do_unbind() {
	dev=/sys/bus/pci/devices/$1
	[ -d "$dev" ] || err "no PCI device $1"
	if [ -e "$dev/driver" ]; then
		echo "$1" >"$dev/driver/unbind" || err "unbinding $1 from $(basename "$(readlink "$dev/driver")") failed"
	fi
	# An empty write clears the override, so a later probe can pick the default driver.
	echo >"$dev/driver_override" 2>/dev/null
	echo "unbound $1"
}

do_bind() {
	drv=$1 bdf=$2 unsafe=$3
	dev=/sys/bus/pci/devices/$bdf
	[ -d "$dev" ] || err "no PCI device $bdf"
	case $drv in
	uio_pci_generic) modprobe uio_pci_generic || err "cannot load uio_pci_generic" ;;
	vfio-pci)
		modprobe vfio-pci && modprobe vfio_iommu_type1 || err "cannot load vfio-pci/vfio_iommu_type1"
		if [ ! -e "$dev/iommu_group" ]; then
			if [ ! -e "$NOIOMMU_PARAM" ]; then
				err "$bdf has no IOMMU group, and VFIO cannot run without an IOMMU on this kernel: $(uname -r) is built without CONFIG_VFIO_NOIOMMU. Enable an IOMMU (intel_iommu=on / amd_iommu=on; in QEMU: -machine q35 -device intel-iommu) or bind the device to uio_pci_generic"
			fi
			[ "$unsafe" = 1 ] || err "$bdf has no IOMMU group; VFIO no-IOMMU mode exists but is off: pass --unsafe-noiommu to enable it (no DMA isolation, taints the kernel)"
			echo Y >"$NOIOMMU_PARAM" || err "cannot enable VFIO no-IOMMU mode"
		fi
		;;
	*) usage ;;
	esac
	cur=
	[ -e "$dev/driver" ] && cur=$(basename "$(readlink "$dev/driver")")
	if [ "$cur" != "$drv" ]; then
		if [ -n "$cur" ]; then
			echo "$bdf" >"$dev/driver/unbind" || err "unbinding $bdf from $cur failed"
		fi
		echo "$drv" >"$dev/driver_override" || err "cannot set driver_override of $bdf"
		echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
		cur=
		[ -e "$dev/driver" ] && cur=$(basename "$(readlink "$dev/driver")")
		if [ "$cur" != "$drv" ]; then
			echo >"$dev/driver_override" 2>/dev/null
			err "$drv did not bind $bdf (kernel: $(kernel_says "$bdf"))"
		fi
	fi
	case $drv in
	uio_pci_generic)
		node=
		for u in "$dev"/uio/uio*; do [ -e "$u" ] && node=/dev/$(basename "$u"); done
		[ -n "$node" ] && [ -c "$node" ] || err "$bdf bound to uio_pci_generic but no /dev/uioN appeared"
		;;
	vfio-pci)
		g=$(basename "$(readlink "$dev/iommu_group")")
		node=/dev/vfio/$g
		[ -c "$node" ] || node=/dev/vfio/noiommu-$g
		[ -c "$node" ] || err "$bdf bound to vfio-pci but no /dev/vfio/$g appeared"
		# A group is usable only when every member is bound to vfio (or has no driver).
		for m in "$dev"/iommu_group/devices/*; do
			md=
			[ -e "$m/driver" ] && md=$(basename "$(readlink "$m/driver")")
			case $md in "" | vfio-pci | pcieport) ;; *) err "IOMMU group $g also holds $(basename "$m"), bound to $md: the group is not viable" ;; esac
		done
		;;
	esac
	echo "bound $bdf $drv $node"
}

[ $# -ge 1 ] || usage
case $1 in
bind)
	[ $# -ge 3 ] || usage
	unsafe=0
	[ "${4:-}" = --unsafe-noiommu ] && unsafe=1
	do_bind "$2" "$3" "$unsafe" ;;
unbind) [ $# -eq 2 ] || usage; do_unbind "$2" ;;
noiommu) noiommu_report ;;
*) usage ;;
esac

#!/usr/bin/env bash
# Debian packages the real-kernel test (tests/kernel) needs on the host: QEMU to boot the
# Debian kernel under TCG (this machine's /dev/kvm has no vmx/svm), busybox-static for the
# guest's initramfs, kmod (modinfo/depmod) to resolve and index the guest's modules, cpio to
# pack the initramfs, xz-utils to take the kernel ELF out of the bzImage once (booted
# through PVH, it skips a decompression at every boot). The guest's kernel image and
# headers are .debs that scripts/kernel/fetch.sh downloads and unpacks, never installed.
# .ci/run runs `apt-get update` once before every scripts/deps.d/*.sh, so this file does not.
# --no-install-recommends keeps QEMU's GUI/audio stack out.
set -euo pipefail

pkgs=(qemu-system-x86 busybox-static kmod cpio xz-utils)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

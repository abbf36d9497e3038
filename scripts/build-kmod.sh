#!/usr/bin/env bash
# Builds vfpf.ko (pf-driver/linux + the OS-independent pf-driver/core) against the Debian
# 6.1 kernel headers that scripts/kernel/fetch.sh unpacks, with W=1, and fails if the
# compiler printed any warning at all.
#
# The module is built out of tree in its own directory (default build/kmod, or
# $VFMED_KMOD_OUT), assembled from the sources:
#   Kbuild, vfpf_*.c/.h      <- pf-driver/linux
#   core/                    <- pf-driver/core
#   include/vfmed/           <- native/include/vfmed/{pf_regs.h,vf_regs.h}
#   include/stdint.h         <- pf-driver/linux/shim/stdint.h (vf_regs.h needs <stdint.h>)
# Prints the path of vfpf.ko on success. The full build log is kept next to it (build.log).
#
# Env: VFMED_KERNEL_CACHE (where fetch.sh keeps the unpacked kernel), VFMED_KMOD_OUT.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="${VFMED_KMOD_OUT:-$top/build/kmod}"

eval "$("$top/scripts/kernel/fetch.sh")"
: "${KHEADERS:?fetch.sh did not report KHEADERS}"

rm -rf "$out"
mkdir -p "$out/core" "$out/include/vfmed"
cp "$top"/pf-driver/linux/Kbuild "$top"/pf-driver/linux/*.[ch] "$out/"
cp "$top"/pf-driver/core/*.[ch] "$out/core/"
cp "$top"/native/include/vfmed/pf_regs.h "$top"/native/include/vfmed/vf_regs.h "$out/include/vfmed/"
cp "$top"/pf-driver/linux/shim/stdint.h "$out/include/"

log="$out/build.log"
set +e
make -C "$KHEADERS" M="$out" W=1 -j"${VFMED_KMOD_JOBS:-2}" modules >"$log" 2>&1
rc=$?
set -e
if ((rc != 0)); then
	cat "$log" >&2
	echo "build-kmod: make failed (exit $rc)" >&2
	exit 1
fi
if grep -qi 'warning:' "$log"; then
	grep -i -B2 -A4 'warning:' "$log" >&2
	echo "build-kmod: the module build printed warnings (W=1 must be clean)" >&2
	exit 1
fi
[[ -f "$out/vfpf.ko" ]] || { echo "build-kmod: vfpf.ko missing" >&2; exit 1; }
echo "$out/vfpf.ko"

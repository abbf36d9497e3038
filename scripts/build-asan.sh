#!/usr/bin/env bash
# ASan/UBSan flavour of the native build: compiles the addon (vfmed_hw.node) and libvfpf.so
# with -fsanitize=address,undefined into build-asan/, then (with --test) runs the vitest
# suites that drive the native code under it.
#
#   scripts/build-asan.sh                 build only
#   scripts/build-asan.sh --test          build, then run the default suites
#   scripts/build-asan.sh --test PATH...  build, then run these vitest paths/filters
#   scripts/build-asan.sh --no-build --test ...   reuse an existing build-asan/
#   --json-out FILE                       also write vitest's JSON report to FILE
#
# How it works. node-gyp always builds into ./build, so the flavour is built from a shadow
# tree of symlinks (build-asan/tree: binding.gyp, native/, pf-driver/, node_modules/) with
# the sanitizer flags in CFLAGS/CXXFLAGS/LDFLAGS; binding.gyp stays the only build
# description. build-asan/Release points at the products, laid out like build/Release, and
# VFMED_BUILD_DIR=build-asan/Release makes mediator/native/addon.ts (nativeBuildDir) and the
# libvfpf binding load them.
#
# Node itself is not instrumented, so the ASan runtime is LD_PRELOADed (it must be the first
# DSO); leak checking is off because Node and V8 keep allocations until exit by design.
# Any ASan report aborts the test worker, which vitest reports as a failed file; UBSan is
# built with -fno-sanitize-recover so undefined behaviour fails the same way.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build-asan"
build=1
test=0
paths=()
json_out=""
while (($#)); do
	case "$1" in
	--test) test=1 ;;
	--no-build) build=0 ;;
	--json-out)
		json_out="${2:?--json-out needs a file}"
		shift
		;;
	-h | --help)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "build-asan.sh: unknown option $1" >&2
		exit 2
		;;
	*) paths+=("$1") ;;
	esac
	shift
done

san_cflags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
san_ldflags="-fsanitize=address,undefined"

if ((build)); then
	echo "build-asan: building the addon and libvfpf.so with $san_cflags"
	mkdir -p "$out/tree"
	for p in binding.gyp native pf-driver node_modules; do
		ln -sfn "$root/$p" "$out/tree/$p"
	done
	# node-gyp run directly does not see npm's config: pass the Node headers npm uses
	# (the machines build against the installed Node's own headers, never a download).
	nodedir="${npm_config_nodedir:-$(cd "$root" && npm config get nodedir 2>/dev/null || true)}"
	if [[ -z "$nodedir" || "$nodedir" == undefined || "$nodedir" == null ]]; then
		nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
	fi
	(
		cd "$out/tree"
		CFLAGS="$san_cflags" CXXFLAGS="$san_cflags" LDFLAGS="$san_ldflags" \
			node "$root/node_modules/node-gyp/bin/node-gyp.js" rebuild -j 2 --loglevel=warn \
			--nodedir="$nodedir"
	)
	ln -sfn tree/build/Release "$out/Release"
	# Refuse to "pass" with an uninstrumented build. (gyp names the PF driver library
	# vfpf.so or lib.target/libvfpf.so depending on the generator: take what is there.)
	shopt -s nullglob
	products=("$out/Release/vfmed_hw.node" "$out"/Release/*vfpf*.so "$out"/Release/lib.target/*vfpf*.so)
	shopt -u nullglob
	if ((${#products[@]} < 2)); then
		echo "build-asan: the PF driver library was not built" >&2
		exit 1
	fi
	for f in "${products[@]}"; do
		if ! nm -D "$f" 2>/dev/null | grep '__asan_report' >/dev/null; then
			echo "build-asan: $f is not built with AddressSanitizer" >&2
			exit 1
		fi
	done
fi

((test)) || exit 0

if ((${#paths[@]} == 0)); then
	# The suites that execute native code: the glue, the hardware model, the PF driver
	# through koffi, the CLI demo (its child process inherits the environment below) and the
	# vfio-user server with its native socket transport and fast path, the mediator (tail
	# log, trackers), the guest runner (MMIO exits, live migration, the stream codec), the
	# uplink backends, and the daemon with real guest runners end to end (they inherit the
	# environment too).
	for d in tests/addon tests/hw tests/pf tests/cli tests/vfio tests/mediate tests/guest tests/wire tests/e2e; do
		[[ -d "$root/$d" ]] && paths+=("$d")
	done
fi

libasan="$(gcc -print-file-name=libasan.so)"
libubsan="$(gcc -print-file-name=libubsan.so)"
if [[ ! -e "$libasan" || ! -e "$libubsan" ]]; then
	echo "build-asan: gcc's libasan/libubsan not found (install libasan8 libubsan1)" >&2
	exit 1
fi

export VFMED_BUILD_DIR="$out/Release"
export LD_PRELOAD="$libasan $libubsan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:allow_user_segv_handler=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "build-asan: vitest ${paths[*]} under ASan/UBSan (VFMED_BUILD_DIR=$VFMED_BUILD_DIR)"
cd "$root"
reporters=()
[[ -n "$json_out" ]] && reporters=(--reporter=default --reporter=json --outputFile="$json_out")
exec node node_modules/vitest/vitest.mjs run "${reporters[@]}" "${paths[@]}"

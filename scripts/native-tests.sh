#!/usr/bin/env bash
# native-tests.sh - builds the C unit tests of the hardware model (native/tests) together
# with native/nic, native/dma and native/wire under ASan + UBSan and runs them.
# Usage: scripts/native-tests.sh [test-name-filter]
# Prints one line per test and ends with "native: N passed, M failed"; exits non-zero on
# any failure, sanitizer report or build error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build-asan/native-tests"
mkdir -p "$out"
cc="${CC:-gcc}"
flags=(-std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -Werror
       -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
       -I"$root/native/include" -pthread)
srcs=()
while IFS= read -r f; do srcs+=("$f"); done < <(
	find "$root/native/nic" "$root/native/dma" "$root/native/wire" "$root/native/tests" \
		-maxdepth 1 -name '*.c' | sort)
"$cc" "${flags[@]}" -o "$out/run" "${srcs[@]}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$out/run" "$@"

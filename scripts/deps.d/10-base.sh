#!/usr/bin/env bash
# Debian packages every part of the build needs: the C/C++ toolchain and python3 for
# node-gyp (the addon and libvfpf.so), and the gcc sanitizer runtimes for the ASan flavour
# (scripts/build-asan.sh). One file per concern in scripts/deps.d/; .ci/run runs them all in
# order after a single `apt-get update`, so none of them updates the lists itself.
set -euo pipefail

pkgs=(build-essential python3 libasan8 libubsan1)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

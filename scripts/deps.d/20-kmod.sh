#!/usr/bin/env bash
# Debian packages the out-of-tree build of vfpf.ko needs (scripts/build-kmod.sh), on top of
# 10-base.sh: gcc-12 (the compiler Debian's 6.1 kernel was built with; module and kernel
# must agree), make, and the shared libraries of the prebuilt kbuild tools in
# linux-kbuild-6.1 (objtool: libelf1, zlib; extract-cert/sign-file: libssl3). The kernel
# headers themselves are not installed: scripts/kernel/fetch.sh downloads and unpacks them
# (apt-get download + dpkg -x), so the machine's own kernel does not matter.
set -euo pipefail

pkgs=(gcc-12 make libelf1 zlib1g libssl3)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Debian packages the end-to-end tests (tests/e2e) need: tshark and tcpdump (independent
# readers of the pcap files the daemon writes and replays), iproute2 (ip netns, ip link,
# bridges, ss: the TAP test and the live-migration tests build their own network
# namespaces) and iputils-ping (ping through the TAP to an echo guest, and across a live
# migration). The migration tests' flip relay runs on python3 (10-base.sh). tshark's debconf question (non-root capture) is answered "no".
set -euo pipefail

pkgs=(tshark tcpdump iproute2 iputils-ping)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

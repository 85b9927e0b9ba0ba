#!/usr/bin/env bash
# Install what lvsctl's tests and demo need on a Debian machine, once:
# QEMU (the lab VM, software emulation), busybox-static, iproute2 and ipvsadm
# (they go into the VM), kmod (depmod), cpio and make, and systemd and
# procps for systemd-analyze verify on examples/systemd (whose ExecReload=
# runs /bin/kill); bash, zsh and fish to run the shell completion scripts
# in them; groff-base and man-db to check the man pages (groff -ww, man
# -l) and, with dpkg, to install and look up the Debian package
# (.ci/run). Packages already installed are left alone, so this is
# cheap to run every time.
set -euo pipefail

packages=(qemu-system-x86 busybox-static ipvsadm iproute2 kmod cpio make ca-certificates systemd procps
	bash zsh fish groff-base man-db)
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "scripts/deps.sh: missing packages: ${missing[*]}" >&2
	echo "scripts/deps.sh: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "scripts/deps.sh: installing ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

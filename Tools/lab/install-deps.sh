#!/bin/bash
# install-deps.sh  -- what the kernel lab needs on the host, installed only when missing:
# qemu (software emulation or KVM), kmod (depmod for the unpacked modules), virtme-ng
# (vng: boots a kernel with the host's root file system), dmsetup, e2fsprogs, trace-cmd.
set -euo pipefail
pkgs="qemu-system-x86 kmod dmsetup e2fsprogs trace-cmd zstd python3-pip busybox-static"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi
if ! command -v vng >/dev/null 2>&1; then
  python3 -m pip install -q virtme-ng >&2 || python3 -m pip install -q --break-system-packages virtme-ng >&2
fi
command -v vng >/dev/null && command -v qemu-system-x86_64 >/dev/null && command -v depmod >/dev/null

#!/bin/bash
# fetch-kernels.sh CACHE  -- download and unpack Debian's amd64 kernels for the lab
# (newest 5.10 from bullseye, 6.1 from bookworm, 6.12 from trixie, the newest of
# trixie-backports) through a private apt configuration under CACHE/apt: the
# machine's own apt sources and lists stay untouched. Each kernel lands in
# CACHE/kernels/REL/ (boot/vmlinuz-REL, lib/modules/REL with depmod run), and
# CACHE/kernels/REL/.ok marks a finished unpack, so a second run downloads nothing.
# Prints the releases, one per line, oldest first.
set -euo pipefail
cache=$(realpath -m "$1")
D=$cache/apt
mkdir -p "$D/sources.d" "$D/lists/partial" "$D/cache/archives/partial" "$cache/debs" "$cache/kernels"
# The Debian mirror the machine already uses (first deb.debian.org-like URI of its
# deb822 or one-line sources), so the lab reaches the same registry.
uri=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
[ -n "$uri" ] || uri=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
[ -n "$uri" ] || { echo "fetch-kernels: no Debian mirror found in /etc/apt" >&2; exit 2; }
cat > "$D/sources.d/debian.sources" <<X
Types: deb
URIs: $uri
Suites: bullseye bookworm trixie trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
A=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$D/sources.d"
   -o Dir::State::Lists="$D/lists" -o Dir::Cache="$D/cache" -o Dir::State::status=/dev/null
   -o APT::Sandbox::User=root -o Debug::NoLocking=1)
# Refresh the lists once a day at most.
if [ -z "$(find "$D/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  apt-get "${A[@]}" update -qq >&2
fi

# newest PACKAGE-NAME-REGEX SUITE: the newest linux-image-REL-amd64 package name whose
# candidate comes from SUITE (apt-cache madison lists the suite of each version).
newest() {
  local re=$1 suite=$2
  apt-cache "${A[@]}" search --names-only "$re" 2>/dev/null | awk '{print $1}' |
    grep -vE -- '-(dbg|unsigned)$' | while read -r p; do
      if apt-cache "${A[@]}" madison "$p" 2>/dev/null | grep -qE "[[:space:]]$suite/main"; then echo "$p"; fi
    done | sort -V | tail -1
}

fetch() {   # fetch PKG: download PKG (and its linux-binary/linux-modules parts) and unpack
  local pkg=$1 rel=${1#linux-image-}
  rel=${rel%-unsigned}
  local dir=$cache/kernels/$rel
  if [ -f "$dir/.ok" ]; then echo "$rel"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$cache/debs" && apt-get "${A[@]}" download -qq "$pkg" >&2)
  # Newer suites split the image: linux-image-REL depends on linux-binary-REL
  # (vmlinuz) and linux-modules-REL; fetch whichever of those exists.
  local deps
  deps=$(apt-cache "${A[@]}" depends "$pkg" 2>/dev/null | awk '/Depends: linux-(binary|modules)-/{print $2}' | sort -u)
  for d in $deps; do (cd "$cache/debs" && apt-get "${A[@]}" download -qq "$d" >&2); done
  for deb in "$cache"/debs/linux-{image,binary,modules}-"$rel"_*.deb; do
    [ -f "$deb" ] && dpkg-deb -x "$deb" "$dir"
  done
  # Modules live in lib/modules or usr/lib/modules; vng wants them next to the image.
  local mods=$dir/lib/modules/$rel
  [ -d "$mods" ] || { [ -d "$dir/usr/lib/modules/$rel" ] && mkdir -p "$dir/lib/modules" && ln -sfn "../../usr/lib/modules/$rel" "$mods"; }
  # The split packages put the image next to the modules (usr/lib/modules/REL/vmlinuz).
  if [ ! -f "$dir/boot/vmlinuz-$rel" ] && [ -f "$mods/vmlinuz" ]; then
    mkdir -p "$dir/boot"; ln -sfn "../lib/modules/$rel/vmlinuz" "$dir/boot/vmlinuz-$rel"
  fi
  [ -f "$dir/boot/vmlinuz-$rel" ] || { echo "fetch-kernels: no vmlinuz in $pkg" >&2; return 1; }
  depmod -b "$dir" "$rel"
  touch "$dir/.ok"
  echo "$rel"
}

for spec in 'linux-image-5\.10\.0-[0-9]+-amd64$:bullseye' \
            'linux-image-6\.1\.0-[0-9]+-amd64$:bookworm' \
            'linux-image-6\.12\.[0-9.]+\+deb13-amd64$:trixie' \
            'linux-image-[0-9.]+(-[0-9]+)?(\+deb13|\+bpo)?-amd64$:trixie-backports'; do
  pkg=$(newest "${spec%:*}" "${spec##*:}")
  [ -n "$pkg" ] || { echo "fetch-kernels: nothing matches ${spec%:*} in ${spec##*:}" >&2; continue; }
  fetch "$pkg"
done

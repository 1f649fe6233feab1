#!/bin/bash
# run-lab.sh  -- `make lab`: record the workloads on Debian's kernels and on this one.
#
# 1. installs what the lab needs (install-deps.sh) and builds the release binary;
# 2. downloads Debian's kernels into .build-lab/ (fetch-kernels.sh, private apt config);
# 3. boots each with virtme-ng (KVM when a KVM guest boots here, else software
#    emulation), runs guest.sh inside under a watchdog that kills a stalled guest and
#    boots it again (guest.sh skips what is done), up to LAB_TRIES times;
# 4. runs guest.sh on the host's own kernel;
# 5. ships the results (ship.sh): traces/kernels/RELEASE/.
# Environment: LAB_KERNELS="REL ..." limits the Debian kernels; LAB_SKIP_HOST=1 skips
# the host kernel; LAB_JOBS (kernels booted at once, 4); LAB_OFFLINE=1 skips the installs and downloads (kernels already in
# .build-lab/kernels); LAB_STEPS limits what each kernel records (guest.sh: workloads,
# eio-dm, eio-nullb, configs); LAB_NO_SHIP=1 leaves traces/kernels alone; LAB_STALL (seconds without a heartbeat or console output, 420: udev settles for up to 300 s at boot), LAB_TRIES (3).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
cache=$repo/.build-lab
mkdir -p "$cache/out"
stall=${LAB_STALL:-420}; tries=${LAB_TRIES:-3}

if [ -z "${LAB_OFFLINE:-}" ]; then
  Tools/lab/install-deps.sh
  swift build -c release --product wbreplay >&2
  mapfile -t kernels < <(Tools/lab/fetch-kernels.sh "$cache")
else
  mapfile -t kernels < <(ls "$cache/kernels")
fi
wb=$(swift build -c release --show-bin-path)/wbreplay
[ -n "${LAB_KERNELS:-}" ] && read -ra kernels <<< "$LAB_KERNELS"

# KVM: prefer it when a KVM guest actually boots (here /dev/kvm exists but a KVM
# guest hangs at boot); the answer is kept in .build-lab/kvm.
accel() {
  if [ ! -f "$cache/kvm" ]; then
    local ans=--disable-kvm probe=$cache/out/kvm-probe
    if [ -w /dev/kvm ]; then
      rm -rf "$probe"; mkdir -p "$probe"
      timeout -s KILL 90 vng -r "$cache/kernels/${kernels[0]}/boot/vmlinuz-${kernels[0]}" --cpus 1 --memory 1G \
        --rwdir "$probe" -- "echo ok > $probe/ok" </dev/null >"$probe/console.log" 2>&1 || true
      [ -f "$probe/ok" ] && ans=
    fi
    echo "$ans" > "$cache/kvm"
  fi
  cat "$cache/kvm"
}

# boot REL: guest.sh inside kernel REL until it finishes, at most $tries boots.
boot() {
  local rel=$1 out=$cache/out/$1 kdir=$cache/kernels/$1 try
  mkdir -p "$out"
  for try in $(seq 1 "$tries"); do
    [ -f "$out/finished" ] && return 0
    echo "lab: $rel: boot $try ($(accel | grep -q disable && echo software emulation || echo KVM))" >&2
    touch "$out/progress"
    # setsid: vng and its qemu in a process group of their own, killed together.
    setsid vng --verbose -r "$kdir/boot/vmlinuz-$rel" $(accel) --cpus 2 --memory 2G --rwdir "$out" \
      -- "LAB_STEPS='${LAB_STEPS:-}' bash $repo/Tools/lab/guest.sh $out $wb" </dev/null >"$out/console-$try.log" 2>&1 &
    local pid=$!
    # The watchdog: the guest's heartbeat (progress) or its console must move.
    while kill -0 $pid 2>/dev/null; do
      sleep 10
      local now last
      now=$(date +%s)
      last=$(stat -c %Y "$out/progress" "$out/console-$try.log" 2>/dev/null | sort -n | tail -1)
      if [ $((now - last)) -gt "$stall" ]; then
        echo "lab: $rel: no progress for ${stall}s, killing the guest" >&2
        kill -KILL -- -$pid 2>/dev/null || true
        break
      fi
    done
    wait $pid 2>/dev/null || true   # vng exits 255 even on success: the files tell
  done
  [ -f "$out/finished" ] || echo "lab: $rel: unfinished after $tries boots (see $out/guest.log)" >&2
}

start=$(date +%s)
# The kernels boot side by side, LAB_JOBS at a time (4: all of them): each guest
# is one qemu process per virtual CPU, and software emulation leaves them mostly
# waiting on each other's I/O.
jobs=${LAB_JOBS:-4}
for rel in "${kernels[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 5; done
  boot "$rel" &
done
wait
if [ -z "${LAB_SKIP_HOST:-}" ]; then
  host=$(uname -r)
  [ -f "$cache/out/$host/finished" ] || bash Tools/lab/guest.sh "$cache/out/$host" "$wb"
fi
echo "lab: recorded in $(( $(date +%s) - start )) s" >&2
[ -n "${LAB_NO_SHIP:-}" ] || Tools/lab/ship.sh "$cache/out" "$repo/traces/kernels"

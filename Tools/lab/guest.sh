#!/bin/bash
# guest.sh OUT WBREPLAY  -- runs inside a lab kernel (or on the host for its own kernel):
# records every workload of the matrix (matrix.sh) on a fresh loop-mounted ext4 with
# `WBREPLAY record`, then the device-mapper error recipe and a null_blk bad-block run,
# and saves the kernel's event formats. Results go to OUT (shared with the host: the
# --rwdir directory). Each finished piece leaves OUT/.../NAME.done, so a second run
# after a stalled guest does only what is missing. OUT/progress is touched before every
# step (the host's watchdog reads its age).
set -uo pipefail
out=$1; wb=$2
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
. "$here/matrix.sh"
mkdir -p "$out"
log() { echo "[$(date +%T)] $*" >> "$out/guest.log"; date +%s > "$out/progress"; }
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T
for m in loop ext4 dm-mod null_blk configfs; do modprobe $m 2>/dev/null; done
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config 2>/dev/null
export DM_DISABLE_UDEV=1
uname -r > "$out/release"
work=$(mktemp -d /tmp/lab.XXXXXX)

# Every event format of this kernel, plus header_page/header_event, in one file:
# "#### PATH SIZE\n" then SIZE bytes, per file
# (ship.sh compresses it on the host.)
save_formats() {
  [ -f "$out/formats" ] && return
  python3 "$here/save-formats.py" $T "$work/formats" && mv "$work/formats" "$out/formats"
}

# wbrecord ARGS...: `wbreplay record ARGS` with /proc/kallsyms trimmed
# (trim-kallsyms.awk) in a private mount namespace, under the step timeout.
wbrecord() {
  [ -f "$work/kallsyms" ] || cat /proc/kallsyms | sort | awk -f "$here/trim-kallsyms.awk" > "$work/kallsyms"
  timeout ${LAB_STEP_TIMEOUT:-900} unshare -m sh -c 'mount --bind "$0" /proc/kallsyms && exec "$@"' \
    "$work/kallsyms" "$wb" record "$@"
}

# fresh_fs MKFS_OPTS MOUNT_OPTS [stable]: a new ext4 on a loop device at $work/mnt.
fresh_fs() {
  rm -f "$work/fs.img"; mkdir -p "$work/mnt"
  truncate -s $LAB_FS_SIZE "$work/fs.img"
  mkfs.ext4 -q -F $1 "$work/fs.img" || return 1
  loopdev=$(losetup -f --show "$work/fs.img") || return 1
  [ "${3:-}" = stable ] && echo 1 > /sys/block/$(basename $loopdev)/queue/stable_writes
  mount ${2:+-o $2} $loopdev "$work/mnt"
}
drop_fs() {
  cd /; umount "$work/mnt" 2>/dev/null; losetup -d $loopdev 2>/dev/null; rm -f "$work/fs.img"
}

runner() {  # the command that runs workload FILE
  case $1 in *.py) echo python3;; *.sh) echo bash;; *.fio) echo fio;; esac
}

record_one() {  # record_one CONFIG MKFS MOUNT WORKLOAD
  local cfg=$1 mkfs=$2 mopts=$3 wl=$4 name=${4%.*}
  local dir=$out/$cfg; mkdir -p "$dir"
  [ -f "$dir/$name.done" ] && return
  log "record $cfg/$name"
  local stable=; [ "$name" = stable_mmap ] && stable=stable
  fresh_fs "$mkfs" "$mopts" $stable || { log "mkfs/mount failed for $cfg/$name"; drop_fs; return; }
  local t0=$(date +%s.%N) rc
  (cd "$work/mnt" && wbrecord --mount "$work/mnt" -o "$dir/$name.dat" -- $(runner $wl) "$repo/traces/workloads/$wl") \
    > "$dir/$name.log" 2>&1
  rc=$?
  drop_fs
  echo "rc=$rc seconds=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")" > "$dir/$name.done"
  log "done $cfg/$name rc=$rc"
}

# The device-mapper error recipe: a dm device over a loop device, linear at first;
# a file is fallocated and its data blocks found with filefrag; the table is then
# reloaded with the `error` target over exactly those blocks (journal and metadata
# stay on `linear` segments) and the write is recorded.
eio_dm() {
  local mode=$1 dir=$out/eio; mkdir -p "$dir"
  [ -f "$dir/dm-$mode.done" ] && return
  log "eio dm $mode"
  dmsetup version >/dev/null 2>&1 || { log "no device-mapper in this kernel: skipped"; echo "no device-mapper" > "$dir/dm-$mode.done"; return; }
  local ev=$dir/dm-$mode.evidence
  : > "$ev"
  rm -f "$work/dm.img"; truncate -s 64M "$work/dm.img"
  local lo; lo=$(losetup -f --show "$work/dm.img")
  # A name per mode: a device another mode left busy does not stop this one.
  local sectors=$(blockdev --getsz $lo) dm=labeio-$mode
  dmsetup create $dm --table "0 $sectors linear $lo 0" || { log "dmsetup create failed"; losetup -d $lo; return; }
  mkfs.ext4 -q -F -b 4096 /dev/mapper/$dm && mkdir -p "$work/mnt" && mount /dev/mapper/$dm "$work/mnt"
  (cd "$work/mnt" && fallocate -l 1M f && sync)
  # The first extent of f: physical start and length in 4 KiB blocks.
  local ext; ext=$(filefrag -v "$work/mnt/f" | awk '$1 ~ /^0:/ {gsub(/\.\./," "); print}')
  local pstart=$(echo "$ext" | awk '{print $4}') plen=$(echo "$ext" | awk '{print $6}' | tr -d :)
  { echo "# filefrag -v before the write (the data blocks the error target covers)"; filefrag -v "$work/mnt/f"; } >> "$ev"
  local s0=$((pstart * 8)) n=$((plen * 8))
  echo "# table: linear 0-$s0, error $s0+$n, linear after" >> "$ev"
  printf '0 %d linear %s 0\n%d %d error\n%d %d linear %s %d\n' $s0 $lo $s0 $n $((s0 + n)) $((sectors - s0 - n)) $lo $((s0 + n)) \
    | dmsetup load $dm && dmsetup suspend $dm && dmsetup resume $dm
  dmsetup table $dm >> "$ev"
  local saved_expire=$(cat /proc/sys/vm/dirty_expire_centisecs) saved_wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
  if [ "$mode" = flusher ]; then echo 100 > /proc/sys/vm/dirty_expire_centisecs; echo 100 > /proc/sys/vm/dirty_writeback_centisecs; fi
  (cd "$work/mnt" && wbrecord --mount "$work/mnt" -o "$dir/dm-$mode.dat" -- python3 "$here/eio_write.py" $mode "$ev") \
    > "$dir/dm-$mode.log" 2>&1
  echo "# wbreplay record exit $?" >> "$ev"
  echo $saved_expire > /proc/sys/vm/dirty_expire_centisecs; echo $saved_wb > /proc/sys/vm/dirty_writeback_centisecs
  { echo "# filefrag -v after the EIO (still on the failing table)"; filefrag -v "$work/mnt/f"; } >> "$ev"
  cd /; umount "$work/mnt"
  # Back to all-linear: what did the kernel leave in the extent tree on disk?
  dmsetup load $dm --table "0 $sectors linear $lo 0" && dmsetup suspend $dm && dmsetup resume $dm
  mount /dev/mapper/$dm "$work/mnt" && { echo "# filefrag -v after a remount on the healthy table"; filefrag -v "$work/mnt/f"; } >> "$ev"
  umount "$work/mnt"
  dmsetup remove --retry $dm; losetup -d $lo; rm -f "$work/dm.img"
  echo ok > "$dir/dm-$mode.done"
  log "done eio dm $mode"
}

# nullb_badblocks DIR SIGN FIRST LAST: add (+) or clear (-) null_blk's bad sectors
# FIRST..LAST in pieces of at most 512 sectors (BB_MAX_LEN), in ascending order.
# Before 6.7 `badblocks_set` inserts each piece of a longer range in front of the
# previous one: the table comes out in descending order and `badblocks_check`'s
# binary search misses it (5.10 and 6.1 completed every write).
nullb_badblocks() {
  local d=$1 sign=$2 s=$3 last=$4 e
  while [ "$s" -le "$last" ]; do
    e=$((s + 511)); [ $e -gt "$last" ] && e=$last
    echo "$sign$s-$e" > $d/badblocks || return 1
    s=$((e + 1))
  done
}

# A request-based device with injected errors: null_blk (configfs) with bad blocks
# over the file's data blocks; it completes with block_rq_complete and an error.
eio_nullb() {
  local dir=$out/eio; mkdir -p "$dir"
  [ -f "$dir/nullb-fsync.done" ] && return
  local nb=/sys/kernel/config/nullb
  [ -d $nb ] || { log "no null_blk configfs: skipped"; echo "no null_blk configfs" > "$dir/nullb-fsync.done"; return; }
  log "eio nullb"
  local ev=$dir/nullb-fsync.evidence; : > "$ev"
  local d=$nb/labeio; mkdir -p $d
  echo 64 > $d/size; echo 4096 > $d/blocksize; echo 1 > $d/memory_backed; echo 2 > $d/queue_mode 2>/dev/null
  local before; before=$(ls /sys/block)
  echo 1 > $d/power
  # The new disk (nullbN or, on newer kernels, the configfs name); devtmpfs makes its node.
  local name; name=$(ls /sys/block | grep -vxF "$before" | head -1)
  local dev=/dev/$name
  echo "# device: $dev" >> "$ev"
  [ -n "$name" ] && [ -b "$dev" ] || { log "null_blk made no block device"; echo 0 > $d/power; rmdir $d; echo "no device" > "$dir/nullb-fsync.done"; return; }
  mkfs.ext4 -q -F -b 4096 $dev && mkdir -p "$work/mnt" && mount $dev "$work/mnt"
  (cd "$work/mnt" && fallocate -l 1M f && sync)
  local ext; ext=$(filefrag -v "$work/mnt/f" | awk '$1 ~ /^0:/ {gsub(/\.\./," "); print}')
  local pstart=$(echo "$ext" | awk '{print $4}') plen=$(echo "$ext" | awk '{print $6}' | tr -d :)
  { echo "# filefrag -v before the write"; filefrag -v "$work/mnt/f"; } >> "$ev"
  nullb_badblocks $d + $((pstart * 8)) $(((pstart + plen) * 8 - 1)) && echo "# badblocks: $(cat $d/badblocks)" >> "$ev"
  (cd "$work/mnt" && wbrecord --mount "$work/mnt" -o "$dir/nullb-fsync.dat" -- python3 "$here/eio_write.py" fsync "$ev") \
    > "$dir/nullb-fsync.log" 2>&1
  echo "# wbreplay record exit $?" >> "$ev"
  { echo "# filefrag -v after the EIO"; filefrag -v "$work/mnt/f"; } >> "$ev"
  cd /; umount "$work/mnt"
  nullb_badblocks $d - $((pstart * 8)) $(((pstart + plen) * 8 - 1))
  mount $dev "$work/mnt" && { echo "# filefrag -v after a remount without bad blocks"; filefrag -v "$work/mnt/f"; } >> "$ev"
  umount "$work/mnt"
  echo 0 > $d/power; rmdir $d
  echo ok > "$dir/nullb-fsync.done"
  log "done eio nullb"
}

log "start $(uname -r)"
# A heartbeat for the host's watchdog: it stops when the guest stalls.
( while sleep 10; do date +%s > "$out/progress"; done ) &
heartbeat=$!
# LAB_STEPS="workloads eio-dm eio-nullb configs" (all when unset) limits the run to
# those steps, e.g. to re-record the null_blk run alone.
want() { [ -z "${LAB_STEPS:-}" ] || [[ " $LAB_STEPS " == *" $1 "* ]]; }
save_formats
default_wls=("${LAB_WORKLOADS[@]}")
if want workloads; then for wl in "${default_wls[@]:0:2}"; do record_one default "-b 4096" "" "$wl"; done; fi
if want eio-dm; then eio_dm fsync; fi
if want workloads; then for wl in "${default_wls[@]:2}"; do record_one default "-b 4096" "" "$wl"; done; fi
if want eio-dm; then for m in "${EIO_MODES[@]}"; do eio_dm $m; done; fi
if want eio-nullb; then eio_nullb; fi
for c in "${LAB_CONFIGS[@]}"; do
  want configs || break
  IFS='|' read -r cfg mkfs mopts <<< "$c"
  [ "$cfg" = default ] && continue
  for wl in "${SMALL_WORKLOADS[@]}"; do record_one "$cfg" "$mkfs" "$mopts" "$wl"; done
done
kill $heartbeat
rm -rf "$work"
log "finished"
echo finished > "$out/finished"

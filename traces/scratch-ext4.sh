# Sourced by the scripts that record on a throw-away file system
# (traces/record-lost-events.sh, Benchmarks/record-overhead.sh):
#   . traces/scratch-ext4.sh; scratch_ext4 SIZE
# makes a temporary directory $work, an ext4 image of SIZE in it, loop-mounted at
# $work/mnt ($mnt), and removes the mount, the loop device and the image on every
# way out (an EXIT trap). Needs root and mkfs.ext4.
scratch_ext4() {
  work=$(mktemp -d)
  mnt=$work/mnt
  trap scratch_ext4_cleanup EXIT
  mkdir -p "$mnt"
  truncate -s "$1" "$work/fs.img"
  mkfs.ext4 -q -F "$work/fs.img"
  mount -o loop "$work/fs.img" "$mnt"
}

scratch_ext4_cleanup() {
  mountpoint -q "$mnt" && umount "$mnt"
  for d in $(losetup -j "$work/fs.img" 2>/dev/null | cut -d: -f1); do losetup -d "$d"; done
  rm -rf "$work"
}

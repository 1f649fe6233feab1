# The lab's recording matrix, sourced by run-lab.sh (host) and guest.sh (inside each kernel).
#
# Configurations: NAME|MKFS_OPTS|MOUNT_OPTS. Every workload runs on "default";
# the other configurations run the workloads of SMALL_WORKLOADS only: under
# software emulation one recording takes one to a few minutes.
LAB_CONFIGS=(
  "default|-b 4096|"
  "b1k|-b 1024|"
  "journal|-b 4096|data=journal"
  "nodelalloc|-b 4096|nodelalloc"
)
# The workloads of traces/workloads/ recorded on every kernel. lost_events.fio is
# left out (it exists to overrun a deliberately tiny ring buffer), and so is
# fio_mixed.fio (8 s of three fio jobs: tens of MB of trace per kernel).
# In the order they are recorded (a guest that runs out of time has the first).
LAB_WORKLOADS=(fsync_unwritten.py write_fsync.py punch_hole.py dio_truncate.py
  rename_over_dirty.py reclaim_reread.sh punch_after_writeback.py
  mmap_during_writeback.py freeze_mmap.sh stable_mmap.sh)
SMALL_WORKLOADS=(fsync_unwritten.py write_fsync.py)
# The device-mapper error recipe: how the failed data is written back.
EIO_MODES=(fsync fdatasync flusher)
# Size of each scratch file system.
LAB_FS_SIZE=256M
# What ship.sh copies into traces/kernels/ (the tests read every shipped file):
# every recording of "default" and "eio", and of the other configurations these.
SHIP_OTHER_WORKLOADS=(write_fsync)

# trim-kallsyms.awk: /proc/kallsyms (sorted by address) cut down to what the lab's
# recordings resolve, so that each trace.dat carries ~150 KB of symbols instead of
# ~5 MB: every symbol of the modules on the I/O path, and the core kernel's
# functions of the file system, writeback, block and workqueue paths (by name).
# Each run of dropped symbols becomes one "kallsyms_trimmed" symbol at its first
# address, so that an address inside a dropped function resolves to that marker,
# never to the wrong function before it.
{
  keep = 0
  if (NF >= 4) keep = ($4 ~ /^\[(ext4|jbd2|mbcache|loop|dm_mod|null_blk)\]$/)
  else keep = ($3 ~ /^_*(ext4|jbd2|wb_|bdi_|writeback|wbc_|folio|filemap|mpage|iomap|bio_|blk_|submit_bio|dm_|loop_|lo_|block_|end_bio|end_page|end_buffer|mark_buffer|mark_inode|sync_|vfs_|do_fsync|generic_|kthread|worker_|process_one_work)/)
  if (keep) { print; marked = 0 }
  else if (!marked) { print $1, "t", "kallsyms_trimmed"; marked = 1 }
}

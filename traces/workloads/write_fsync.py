# issue 6 (diff): buffered writes into a new file, fsync every 512 KiB. With
# the default dioread_nolock, writeback allocates unwritten extents and the
# conversion worker converts them; with -o dioread_lock it allocates written
# blocks and there is no conversion. Recorded twice with the default options
# (diff_default_a / diff_default_b) and once with dioread_lock.
import os
fd = os.open("f", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
buf = os.urandom(64 << 10)
for i in range(64):                    # 4 MiB in 64 KiB writes
    os.write(fd, buf)
    if i % 8 == 7:
        os.fsync(fd)
os.close(fd)

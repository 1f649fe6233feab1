# seed 002: buffered write into an unwritten (fallocated) extent, writeback started
# with sync_file_range(WRITE) (no wait), then punch the range just written
import os, ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_long, ctypes.c_uint]
fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
os.posix_fallocate(fd, 0, 4 << 20)
os.fsync(fd)
os.pwrite(fd, os.urandom(1 << 20), 0)
if libc.sync_file_range(fd, 0, 1 << 20, 2) != 0:          # SYNC_FILE_RANGE_WRITE: start, no wait
    raise OSError(ctypes.get_errno(), "sync_file_range")
if libc.fallocate(fd, 0x03, 0, 1 << 20) != 0:             # PUNCH_HOLE | KEEP_SIZE
    raise OSError(ctypes.get_errno(), "punch")
os.close(fd)

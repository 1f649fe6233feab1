# eio_write.py MODE EVIDENCE: buffered writes into a fallocated (unwritten) file
# "f" whose data blocks sit on a failing device range, then MODE:
#   fsync      fsync(2) starts and waits for the writeback
#   fdatasync  fdatasync(2) does
#   flusher    no sync call: the flusher writes the pages back on its own
#              (dirty_expire_centisecs lowered by the caller), then fsync once
#              to collect the error the writeback left on the mapping.
# Appends "CALL rc=N errno=NAME" lines to EVIDENCE.
import errno, os, sys, time
mode, evidence = sys.argv[1], sys.argv[2]
log = open(evidence, "a")
def call(name, fn, *args):
    try:
        fn(*args)
        log.write(f"{name} rc=0\n")
    except OSError as e:
        log.write(f"{name} rc=-1 errno={errno.errorcode.get(e.errno, e.errno)}\n")
    log.flush()
fd = os.open("f", os.O_RDWR)
os.pwrite(fd, os.urandom(256 << 10), 0)
if mode == "fsync":
    call("fsync", os.fsync, fd)
    call("fsync-again", os.fsync, fd)
elif mode == "fdatasync":
    call("fdatasync", os.fdatasync, fd)
    call("fdatasync-again", os.fdatasync, fd)
else:
    time.sleep(4)
    call("fsync-after-flusher", os.fsync, fd)
os.close(fd)

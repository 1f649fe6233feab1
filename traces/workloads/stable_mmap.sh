# seed 003: mmap stores from a second process while msync writes the pages back,
# on a device that requires stable pages (stable_writes on)
# run with STABLE=1 capture.sh: the loop device requires stable pages from before the mount
python3 - <<'PY'
import os, mmap, time
fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
os.posix_fallocate(fd, 0, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
m[:] = b"x" * (1 << 20)
m.flush()
pid = os.fork()
if pid == 0:                      # a separate process: no GIL shared with msync
    end = time.time() + 0.2
    n = 0
    while time.time() < end:
        for i in range(0, 1 << 20, 4096 * 4):
            m[i:i+4] = n.to_bytes(4, "little")
        n += 1
    os._exit(0)
for _ in range(30):
    m.flush()
os.waitpid(pid, 0)
PY

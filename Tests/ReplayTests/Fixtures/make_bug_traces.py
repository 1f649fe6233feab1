#!/usr/bin/env python3
"""Derives the bug traces and their negative twins from the real traces in
traces/ (recorded on 6.18). Each bug trace is the real trace re-ordered the
way a buggy kernel would have ordered it; its twin is the same cut of the
real trace, unmodified. Moved lines get timestamps after the event they now
follow (2 ms later, 1 µs apart), so the text stays in time order.

Run from the repository root: python3 Tests/ReplayTests/Fixtures/make_bug_traces.py
"""
import re, sys, os

OUT = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r'^(.*?\[\d+\]\s+\S+\s+)(\d+\.\d+)(: )(.*)$')
# Events irrelevant to the rules: dropped from the cuts to keep fixtures small
# (as if they had not been enabled when recording).
NOISE = ('ext4_es_lookup_extent', 'ext4_mark_inode_dirty', 'writeback_dirty_inode', 'writeback_mark_inode_dirty',
         'jbd2_handle_stats', 'ext4_ext_show_extent', 'ext4_mballoc', 'ext4_request_blocks', 'ext4_allocate_blocks',
         'ext4_da_update_reserve_space', 'ext4_da_reserve_space', 'ext4_es_insert_delayed_extent', 'sys_read',
         'sys_write', 'ext4_es_cache_extent', 'ext4_es_find_extent_range', 'sys_newfstat', 'sys_lseek', 'sys_mmap',
         'sys_close', 'sys_openat', 'sys_brk', 'sys_munmap', 'sys_mprotect', 'sys_fstat', 'sys_getdents64',
         'sys_pread64', 'sys_rt_sig', 'sys_futex', 'sys_ioctl(fd: 2', 'sys_ioctl(fd: 0', 'sys_ioctl(fd: 1')

def read(name):
    with open(os.path.join('traces', name)) as f:
        lines = f.read().split('\n')
    header = [l for l in lines[:40] if l.startswith('#')]
    body = [l for l in lines if l and not l.startswith('#')]
    return header, body

def event(l):
    m = LINE.match(l)
    return (m.group(4), float(m.group(2)), m) if m else (None, 0.0, None)

def keep(l):
    return not any(n in l for n in NOISE)

def retime(l, t):
    m = LINE.match(l)
    return m.group(1) + '%.6f' % t + m.group(3) + m.group(4) if m else l

def pid_of(l):
    m = re.match(r'^\s*.{1,16}-(\d+)\s+\[', l)
    return m.group(1) if m else None

def write(name, header, body, how):
    with open(os.path.join(OUT, name), 'w') as f:
        f.write('\n'.join(header) + '\n' + '\n'.join(body) + '\n')
    print(name, len(body), 'events:', how)

def fsync_before_conversion():
    """seed 002, the 3.6/3.7 ordering (Dmitry's diagram): writeback ended at
    bio completion, so fdatasync found nothing to wait for and returned while
    the io_ends were queued but not converted; the conversion worker's runs
    (execute_start, CONVERT, es W, sb_clear_inode_writeback, execute_end)
    that the real kernel ran inside the fdatasync window land after
    ext4_sync_file_exit. Cut: the last fdatasync of fsync_unwritten."""
    header, body = read('fsync_unwritten.txt')
    enter = max(i for i, l in enumerate(body) if 'ext4_sync_file_enter' in l)
    exit_ = next(i for i in range(enter, len(body)) if 'ext4_sync_file_exit' in body[i])
    start = max(i for i in range(enter) if 'ext4_sync_file_exit' in body[i]) + 1
    cut = [l for l in body[start:] if keep(l)]
    write('fsync_conversion_twin.txt', header, cut, 'the real cut (last fdatasync of fsync_unwritten), unmodified')
    enter = next(i for i, l in enumerate(cut) if 'ext4_sync_file_enter' in l)
    exit_ = next(i for i, l in enumerate(cut) if 'ext4_sync_file_exit' in l)
    workers, moved, stay = set(), [], []
    for i, l in enumerate(cut):
        if 'workqueue_execute_start' in l and 'ext4_end_io_rsv_work' in l:
            workers.add(pid_of(l))
        is_conversion = pid_of(l) in workers and 'workqueue_queue_work' not in l and 'workqueue_activate_work' not in l
        if enter < i < exit_ and (is_conversion or 'sb_clear_inode_writeback' in l):
            moved.append(l)
        else:
            stay.append(l)
    exit_at = next(i for i, l in enumerate(stay) if 'ext4_sync_file_exit' in l)
    _, t0, _ = event(stay[exit_at])
    # The worker resumes 2 ms after fsync returned (it was preempted).
    later = [retime(l, t0 + 0.002 + 0.000001 * k) for k, l in enumerate(moved)]
    tail = stay[exit_at + 1:]
    tail = [retime(l, max(event(l)[1], t0 + 0.002 + 0.000001 * (len(moved) + k))) for k, l in enumerate(tail)]
    write('fsync_conversion_bug.txt', header, stay[:exit_at + 1] + later + tail,
          f'{len(moved)} conversion-worker lines moved after ext4_sync_file_exit')

if __name__ == '__main__':
    fsync_before_conversion()

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

# Work items and counters no rule reads: also left out of the newer cuts.
OTHER_WORK = re.compile(r'workqueue_\w+: work struct[= ]\w+:? function[= ](?!ext4_end_io|wb_workfn)')

def quiet(l):
    return keep(l) and not OTHER_WORK.search(l) and 'global_dirty_state' not in l

def cut_between(body, first, last):
    """The kept (non-noise) lines from the first line matching `first` to the
    first line matching `last` after it, inclusive."""
    a = next(i for i, l in enumerate(body) if first(l))
    b = next(i for i in range(a, len(body)) if last(body[i]))
    return [l for l in body[a:b + 1] if quiet(l)]

def splice(lines, after, moved, gap=0.000002, then=0.0):
    """Puts `moved` (already taken out of `lines`) right after lines[after],
    retimed from that line's time on, 1 µs apart; every later line keeps
    its spacing, shifted as much as needed to stay `then` seconds after the
    moved ones."""
    _, t0, _ = event(lines[after])
    placed = [retime(l, t0 + gap + 0.000001 * k) for k, l in enumerate(moved)]
    tail = lines[after + 1:]
    if tail and placed:
        last = t0 + gap + 0.000001 * (len(moved) - 1)
        shift = max(0.0, last + 0.000001 + then - event(tail[0])[1])
        tail = [retime(l, event(l)[1] + shift) for l in tail]
    return lines[:after + 1] + placed + tail

def as_task(l, task, cpu, flags):
    """The same event printed by another task (what an irq-context caller
    would show)."""
    m = LINE.match(l)
    return '%16s [%s] %s %s%s%s' % (task, cpu, flags, m.group(2), m.group(3), m.group(4))

def stale_read_before_conversion():
    """seed 000 (Kara: "what prevents mm from reclaiming the page (and
    possibly loading zeros from disk) before we finish the conversion?"),
    the <=3.10 ordering: end_page_writeback ran in ext4_end_bio, before the
    conversion, so nothing kept the written folios of an unwritten extent in
    the page cache. Cut: reclaim_reread from the sync's writeback of inode 12
    (one 2048-block unwritten io_end) to cmp's re-read of its first 16 KiB.
    Bug: drop_caches (bash's four large-folio deletions) and cmp's re-read
    move to right after the last data completion and its queue_work, before
    the conversion worker runs (the workload ran them concurrently with the
    sync). Writeback ended at completion, so sb_clear_inode_writeback moves
    into that irq (ksoftirqd) and sync's three folio_wait_writeback after the
    completions go (it found nothing to wait for); the read sees the blocks
    still unwritten and zero-fills the folios, so its RA bio goes too. The
    conversion runs 2 ms after the re-read, then sync's ext4_sync_fs(wait 1)
    (its flush_workqueue waits for that run). Twin: the real cut, where the
    conversion ran before drop_caches."""
    header, body = read('reclaim_reread.txt')
    cut = cut_between(body, lambda l: 'writeback_queue:' in l and 'reason=sync' in l,
                      lambda l: 'mm_filemap_get_pages' in l and 'ino=c ' in l)
    write('stale_read_twin.txt', header, cut, 'the real cut (sync writeback of ino 12 .. cmp re-read), unmodified')
    last_complete = max(i for i, l in enumerate(cut) if re.search(r'block_rq_complete: 7,0 W \(\) \d+ \+ [1-9]', l))
    queued = next(i for i in range(last_complete, len(cut)) if 'workqueue_activate_work' in cut[i] and 'ext4_end_io_rsv_work' in cut[i])
    first_delete = next(i for i, l in enumerate(cut) if 'ext4_release_folio' in l)
    reread = [l for l in cut[first_delete:] if pid_of(l) in (pid_of(cut[first_delete]), pid_of(cut[-1]))
              and 'block_' not in l and 'ino 1 ' not in l]
    irq = cut[last_complete]
    clear = [as_task(l, '     ksoftirqd/1-22', '001', 'd.s2.') for l in cut if 'sb_clear_inode_writeback' in l]
    dropped = set(reread) | {l for l in cut if 'sb_clear_inode_writeback' in l}
    dropped |= {l for l in cut[queued:] if 'folio_wait_writeback' in l}
    dropped |= {l for l in cut[first_delete:] if pid_of(l) == pid_of(cut[-1]) or 'block_rq_complete: 7,0 RA' in l}
    rest = [l for l in cut if l not in dropped]
    at = rest.index(cut[queued])
    # The worker, preempted, runs 2 ms after the re-read.
    bug = splice(rest, at, clear + reread, then=0.002)
    write('stale_read_bug.txt', header, bug,
          f'{len(reread)} drop_caches/re-read lines moved before the conversion worker')

def work_run(lines, work):
    """The lines of the kworker runs of one conversion work struct: from its
    execute_start to its execute_end, on that kworker."""
    out, pid = [], None
    for l in lines:
        if pid is None and 'workqueue_execute_start: work struct ' + work in l:
            pid = pid_of(l)
        if pid is not None and pid_of(l) == pid:
            out.append(l)
            if 'workqueue_execute_end: work struct ' + work in l:
                pid = None
    return out

def evict_with_pending_io():
    """seed 000 / f7ad6d2e9201a / CVE-2025-38580: an inode freed while its
    io_end still awaits conversion. Cut: rename_over_dirty from the
    allocation of inode 13 ("tmp" of the first round: one 14-byte write,
    written back by auto_da_alloc at the rename into a new unwritten block)
    to the free of inode 13 in the next round (as "target" it is renamed
    over and evicted). Bug: the kernel of seed 000's days, where writeback
    ended in ext4_end_bio before the conversion and evict did not wait for
    pending io_ends: the conversion worker, stalled, runs its queued works
    only after ext4_free_inode of inode 13 — the run for inode 13, then the
    one for inode 12 queued after it (the workqueue runs one work at a time,
    in order). sb_clear_inode_writeback of each moves into the completing
    irq (writeback ended there). Twin: the real cut, where the conversion ran
    50 µs after the completion, long before the evict."""
    header, body = read('rename_over_dirty.txt')
    cut = cut_between(body, lambda l: 'ext4_allocate_inode: dev 7,0 ino 13 ' in l,
                      lambda l: 'ext4_free_inode: dev 7,0 ino 13 ' in l)
    write('evict_pending_io_twin.txt', header, cut, 'the real cut (inode 13 allocated .. inode 13 freed), unmodified')
    works = []
    for l in cut:
        m = re.search(r'workqueue_queue_work: work struct=(\w+) function=ext4_end_io_rsv_work', l)
        if m and m.group(1) not in works:
            works.append(m.group(1))
    runs = [work_run(cut, w) for w in works]
    moved = [l for run in runs for l in run if 'sb_clear_inode_writeback' not in l]
    rest = [l for l in cut if not any(l in run for run in runs)]
    # Each inode's writeback ends in the irq that completed its bio.
    for run in runs:
        for l in run:
            if 'sb_clear_inode_writeback' in l:
                ino = re.search(r' ino (\d+) ', l).group(1)
                work = re.search(r'work struct (\w+)', run[0]).group(1)
                at = next(i for i, x in enumerate(rest) if 'workqueue_activate_work: work struct ' + work in x)
                rest = splice(rest, at, [as_task(l, '     ksoftirqd/0-14', '000', 'd.s2.')])
    freed = next(i for i, l in enumerate(rest) if 'ext4_free_inode: dev 7,0 ino 13 ' in l)
    # The stalled worker resumes 1 ms after the free.
    bug = splice(rest, freed, moved, gap=0.001)
    write('evict_pending_io_bug.txt', header, bug,
          f'{len(runs)} conversion runs ({len(moved)} lines) moved after ext4_free_inode of inode 13')

def write_while_frozen():
    """seed 001 (Okajima/Kara): after FIFREEZE returned, nothing may dirty a
    folio of the fs until FITHAW; page_mkwrite must block. Cut: freeze_mmap
    from the first msync (the mapped pages written "before!!") to the return
    of FITHAW. In the real trace the second round of stores ("frozen!!",
    one per 64 KiB: 64 write faults) and its msync ran while FIFREEZE was
    still inside freeze_super (before SB_FREEZE_PAGEFAULT): legal, the twin.
    Bug: the kernel before sb_start_pagefault, whose ext4_page_mkwrite did
    not wait for a freeze — the same stores and their msync (its writeback,
    completions and conversion) came 1 ms after FIFREEZE returned, as they
    would have had python been a little slower; freeze's own sync had found
    inode 12 clean either way."""
    header, body = read('freeze_mmap.txt')
    thaw = next(i for i, l in enumerate(body) if '0xc0045878' in l)
    thawed = next(i for i in range(thaw, len(body)) if 'sys_ioctl -> ' in body[i] and pid_of(body[i]) == pid_of(body[thaw]))
    start = next(i for i, l in enumerate(body) if 'sys_msync(' in l)
    cut = [l for l in body[start:thawed + 1] if quiet(l)]
    write('freeze_write_twin.txt', header, cut, 'the real cut (first msync .. FITHAW returned), unmodified')
    enter = next(i for i, l in enumerate(cut) if '0xc0045877' in l)
    writer = pid_of(cut[0])
    first = next(i for i in range(enter, len(cut)) if pid_of(cut[i]) == writer)
    last = next(i for i in range(first, len(cut)) if 'sys_msync -> ' in cut[i])
    moved = cut[first:last + 1]
    rest = cut[:first] + cut[last + 1:]
    frozen = next(i for i in range(first, len(rest)) if 'sys_ioctl -> ' in rest[i] and 'fsfreeze' in rest[i])
    bug = splice(rest, frozen, moved, gap=0.001)
    write('freeze_write_bug.txt', header, bug,
          f'{len(moved)} lines (stores, msync) moved 1 ms after FIFREEZE returned')

def conversion_after_io_error():
    """e856f93e0fb2 ("do not convert the unwritten extents if data writeback
    fails"): before it, an io_end whose write failed was converted all the
    same, exposing stale disk contents. Cut: reclaim_reread from the sync's
    writeback of inode 12 (one 2048-block unwritten io_end, its bio split in
    seven requests) to the end of the conversion worker's run. Both files
    carry the same injected failure: the first request completes with
    -EIO (block_rq_complete error -5), as a failing disk would report it.
    Bug: the worker converts as recorded (the kernels before e856f93e0fb2).
    Twin: the worker's run without its conversion lines (reserved handle,
    CONVERT map/handle events, es W): what 6.15+ do with a FAILED io_end —
    release it without converting."""
    header, body = read('reclaim_reread.txt')
    cut = cut_between(body, lambda l: 'writeback_queue:' in l and 'reason=sync' in l,
                      lambda l: 'workqueue_execute_end' in l and 'ext4_end_io_rsv_work' in l)
    first = next(i for i, l in enumerate(cut) if re.search(r'block_rq_complete: 7,0 W \(\) \d+ \+ [1-9]', l))
    failed = list(cut)
    failed[first] = re.sub(r'\[0\]$', '[-5]', cut[first])
    write('io_error_conversion_bug.txt', header, failed, 'the first data request fails with -5; the worker converts as recorded')
    worker = pid_of(next(l for l in cut if 'workqueue_execute_start' in l and 'ext4_end_io_rsv_work' in l))
    conversion = ('ext4_journal_start_reserved', 'CONVERT', 'status W', 'jbd2_handle_start', 'ext4_journal_stop')
    twin = [l for l in failed if not (pid_of(l) == worker and any(c in l for c in conversion)
                                      and event(l)[1] >= event(cut[first])[1])]
    write('io_error_conversion_twin.txt', header, twin,
          f'the same failure; {len(failed) - len(twin)} conversion lines of the worker left out (6.15+)')

def truncate_during_conversion():
    """seed 002 (Kara on Monakhov's V4 "completed_io locking cleanup"): the
    worker takes i_completed_io_list with list_replace_init, so a punch
    hole's ext4_flush_completed_IO finds the list empty and removes the
    blocks while their conversion is still pending. Cut: punch_after_writeback
    from sync_file_range(WRITE) (one 256-block unwritten io_end submitted, no
    wait) to the return of the punch of that range. Bug: the order of that
    kernel, where writeback ended in ext4_end_bio: the punch's folio wait
    ends with the completion (sb_clear_inode_writeback moves into that irq),
    the worker has started (its execute_start stays) but is preempted, and
    the rest of its run (reserved handle, CONVERT, es W, execute_end) comes
    1 ms after the punch returned. Twin: the real cut, where 6.18's punch
    waited in truncate_pagecache_range until the conversion released the
    folio, then removed the blocks."""
    header, body = read('punch_after_writeback.txt')
    a = next(i for i, l in enumerate(body) if 'sys_sync_file_range(' in l)
    punch = next(i for i in range(a, len(body)) if 'sys_fallocate(' in body[i] and 'mode: 3' in body[i])
    b = next(i for i in range(punch, len(body)) if 'sys_fallocate -> ' in body[i])
    cut = [l for l in body[a:b + 1] if quiet(l)]
    write('truncate_conversion_twin.txt', header, cut, 'the real cut (sync_file_range .. punch returned), unmodified')
    start = next(i for i, l in enumerate(cut) if 'workqueue_execute_start' in l and 'ext4_end_io_rsv_work' in l)
    worker = pid_of(cut[start])
    work = re.search(r'work struct (\w+)', cut[start]).group(1)
    run = work_run(cut, work)[1:]
    moved = [l for l in run if 'sb_clear_inode_writeback' not in l]
    clear = [as_task(l, '     ksoftirqd/1-22', '001', 'd.s2.') for l in run if 'sb_clear_inode_writeback' in l]
    rest = [l for l in cut if l not in run]
    queued = next(i for i, l in enumerate(rest) if 'workqueue_activate_work: work struct ' + work in l)
    rest = splice(rest, queued, clear)
    bug = splice(rest, len(rest) - 1, moved, gap=0.001)
    write('truncate_conversion_bug.txt', header, bug,
          f'{len(moved)} lines of the worker run moved 1 ms after the punch returned')

def unstable_page_write():
    """seed 003 (stable pages): on a device that needs stable writes, a
    write fault on a folio under writeback must wait (block_page_mkwrite:
    folio_mark_dirty, then folio_wait_stable) before the store lands. Cut:
    stable_mmap (recorded with STABLE=1: a second process stores into the
    mapped pages while msync writes them back) — the first msync whose
    writeback the storing process ran into, from the return of the msync
    before the storer's first store (its stores dirty the folios this
    msync writes) to that msync's return.
    Twin: that cut, unmodified (the storer waits in folio_wait_writeback on
    folio after folio). Bug: a kernel without stable pages (before 3.0)
    never waits: the storer's folio_wait_writeback lines go and from its
    first wait on it runs without stalling — each of its lines follows the
    previous one after its recorded gap, at most 2 µs — so its stores land
    while the msync's writeback of those folios is still in flight."""
    header, body = read('stable_mmap.txt')
    first_wait = None
    for i, l in enumerate(body):
        if 'folio_wait_writeback' in l and 'sys_msync' not in l:
            msync = max(j for j in range(i) if 'sys_msync(' in body[j])
            if pid_of(l) != pid_of(body[msync]):
                first_wait = i
                break
    msync = max(j for j in range(first_wait) if 'sys_msync(' in body[j])
    storer = pid_of(body[first_wait])
    # From the return of the msync before the storer's first event: the
    # stores that dirtied the folios this msync writes are in the cut.
    first_store = next(j for j, l in enumerate(body) if pid_of(l) == storer)
    a = max(j for j in range(first_store) if 'sys_msync -> ' in body[j])
    b = next(j for j in range(first_wait, len(body)) if 'sys_msync -> ' in body[j] and pid_of(body[j]) == pid_of(body[msync]))
    cut = [l for l in body[a:b + 1] if quiet(l)]
    write('unstable_write_twin.txt', header, cut, 'the real cut (the msync the storer waited on), unmodified')
    lines = [l for l in cut if not (pid_of(l) == storer and 'folio_wait_writeback' in l)]
    waited_at = event(body[first_wait])[1]
    timed, prev_old, prev_new = [], None, None
    for k, l in enumerate(lines):
        t = event(l)[1]
        if pid_of(l) == storer and t < waited_at:
            prev_old, prev_new = t, t
        elif pid_of(l) == storer and prev_old is not None:
            new = prev_new + min(t - prev_old, 0.000002)
            prev_old, prev_new = t, new
            t = new
        elif pid_of(l) == storer:
            prev_old, prev_new = t, t
        timed.append((t, k, retime(l, t) if pid_of(l) == storer else l))
    bug = [l for _, _, l in sorted(timed)]
    write('unstable_write_bug.txt', header, bug,
          f'the storer never waits: {len(cut) - len(lines)} folio_wait_writeback lines dropped, its lines without stalls')

RSV_WORK = re.compile(r'workqueue_(\w+): work struct[= ](\w+):? function[= ]ext4_end_io_rsv_work')

def one_run_per_work(moved):
    """The conversion runs a buggy kernel ran late, as it would have run them:
    the io_ends added while the work was pending wait on one list, so each
    work item runs once, on the first run's worker, converting them all
    (the real kernel, converting in time, ran once per completion)."""
    runs, order, other, current = {}, [], [], None
    for l in moved:
        m = RSV_WORK.search(l)
        if m and m.group(1) == 'execute_start':
            current = m.group(2)
            if current not in runs:
                runs[current] = [l]
                order.append(current)
        elif m and m.group(1) == 'execute_end':
            current = None
        elif current is not None:
            runs[current].append(LINE.match(runs[current][0]).group(1) + '%s: %s' % (event(l)[1], event(l)[0]))
        else:
            other.append(l)
    out = []
    for w in order:
        start = runs[w][0]
        out += runs[w] + [LINE.match(start).group(1) + '%s: workqueue_execute_end: work struct %s: function ext4_end_io_rsv_work' % (event(start)[1], w)]
    return out + other

def first_queue_per_work(stay, enter, exit_):
    """Between fsync's enter and exit a pending work item is not queued again:
    only its first queue_work (and activate_work) there stays."""
    seen, out = set(), []
    for i, l in enumerate(stay):
        m = RSV_WORK.search(l)
        if m and enter < i < exit_ and m.group(1) in ('queue_work', 'activate_work'):
            key = (m.group(1), m.group(2))
            if key in seen:
                continue
            seen.add(key)
        out.append(l)
    return out

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
    moved = one_run_per_work(moved)
    stay = first_queue_per_work(stay, enter, next(i for i, l in enumerate(stay) if 'ext4_sync_file_exit' in l))
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
    stale_read_before_conversion()
    evict_with_pending_io()
    write_while_frozen()
    conversion_after_io_error()
    truncate_during_conversion()
    unstable_page_write()

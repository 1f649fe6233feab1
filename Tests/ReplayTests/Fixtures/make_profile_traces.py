#!/usr/bin/env python3
"""Derives the traces `diff` tests use to tell kernel profiles apart.

writeback_end_at_completion.txt: traces/diff_default_a.txt (recorded on
6.18, traces/workloads/write_fsync.py) with the end of writeback moved the
way ext4 before 3.11 ordered it: ext4_end_bio ended page writeback in the
bio completion, before ext4_add_complete_io queued the io_end for
conversion (seed 002, Dmitry's diagram). Every sb_clear_inode_writeback that
the 6.18 conversion worker (ext4_end_io_rsv_work) emitted after converting
is moved to 1 µs after the block_rq_complete that queued that work, on the
completing CPU and task (the irq context). Nothing else changes, so the
trace still shows 6.18's work function names; the model's profiles tell
the two orders apart by where writeback ends, which is what moved.

Run from the repository root: python3 Tests/ReplayTests/Fixtures/make_profile_traces.py
"""
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bug_traces import read, keep, event, write, LINE

WORK = re.compile(r'work struct[= ]([0-9a-f]+)')

def writeback_end_at_completion():
    header, body = read('diff/diff_default_a.txt')
    body = [l for l in body if keep(l)]
    moved = {}      # index of the completion line -> sb_clear lines to put after it
    drop = set()
    run_of = {}     # kworker pid -> index of the completion that queued its work
    queued_by = {}  # work struct -> index of the completion before its queue_work
    last_complete = {}  # cpu -> index of the last block_rq_complete on it
    for i, l in enumerate(body):
        name, _, m = event(l)
        if not m:
            continue
        cpu = re.search(r'\[(\d+)\]', l).group(1)
        pid = re.match(r'^\s*.{1,16}-(\d+)\s+\[', l).group(1)
        if 'block_rq_complete' in name and '+ 0 ' not in name:
            last_complete[cpu] = i
        elif 'workqueue_queue_work' in name and 'ext4_end_io_rsv_work' in name and cpu in last_complete:
            queued_by[WORK.search(name).group(1)] = last_complete[cpu]
        elif 'workqueue_execute_start' in name and 'ext4_end_io_rsv_work' in name:
            run_of[pid] = queued_by.get(WORK.search(name).group(1))
        elif 'workqueue_execute_end' in name:
            run_of.pop(pid, None)
        elif 'sb_clear_inode_writeback' in name and run_of.get(pid) is not None:
            moved.setdefault(run_of[pid], []).append(i)
            drop.add(i)
    out = []
    for i, l in enumerate(body):
        if i in drop:
            continue
        out.append(l)
        for k, j in enumerate(moved.get(i, [])):
            done = LINE.match(l)
            clear = LINE.match(body[j])
            t = float(done.group(2)) + 0.000001 * (k + 1)
            out.append(done.group(1) + '%.6f' % t + ': ' + clear.group(4))
    write('writeback_end_at_completion.txt', header, out,
          f'{len(drop)} sb_clear_inode_writeback lines moved from the conversion worker to the bio completion')

if __name__ == '__main__':
    writeback_end_at_completion()

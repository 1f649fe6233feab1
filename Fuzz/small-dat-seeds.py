#!/usr/bin/env python3
"""Writes small trace.dat v7 seeds for FuzzDatReader from a real trace.

    Fuzz/small-dat-seeds.py TRACE.dat OUT_DIR

A real trace.dat carries every event format of the kernel (2 MB) and its
kallsyms (5 MB): libtracecmd parses all of it on every open, so a fuzz target
fed whole files runs about one input per second. The seeds keep what the
reader exercises and drop the bulk: the header formats, the formats of the
events that occur in the first pages of each CPU, a few kallsyms lines, the
command lines, and one or two ring-buffer pages per CPU, copied verbatim.
Each is written uncompressed and with zstd-compressed CPU chunks (through the
zstd command), in the top-level buffer and in an instance, so that both of
libtracecmd's data paths are seeds. The layout follows trace-cmd.dat.v7(5).

The "tiny" seeds (10-16 KB) keep one page per CPU but only the records of
the first three event ids met: every other record becomes a padding record
of the same length and time delta (as the kernel's rb_event_discard leaves a
discarded event), so only three formats, 2 KB of kallsyms and 2 KB of
command lines go in. libtracecmd
and libtraceevent parse every format on every open, so these run several
times faster than the others and let the fuzzer reach a million executions.
"""
import os
import re
import struct
import subprocess
import sys

KALLSYMS_KEEP = re.compile(rb" (ext4_end_io_rsv_work|ext4_\w+_work|loop_rootcg_workfn|wb_workfn|"
                           rb"wb_update_bandwidth_workfn|__ext4_new_inode|ext4_da_write_begin|"
                           rb"ext4_writepages|jbd2_journal_commit_transaction|blk_mq_requeue_work)\b")


def zstd(data, decompress):
    args = ["zstd", "-q", "-c"] + (["-d"] if decompress else ["-19"])
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


class Source:
    """The parts of a real v7 trace the seeds are made of."""

    def __init__(self, path):
        self.d = open(path, "rb").read()
        d = self.d
        o = d.index(b"\0", 10) + 1
        assert d[o] == 0, "little-endian traces only"
        self.page_size = struct.unpack_from("<I", d, o + 2)[0]
        o += 6
        name_end = d.index(b"\0", o)
        self.compression = d[o:name_end].decode()
        o = d.index(b"\0", name_end + 1) + 1
        self.sections = {}
        self.buffers = []
        self.clock = b"local"
        self.walk_options(struct.unpack_from("<Q", d, o)[0])

    def section(self, off):
        sid, flags, _, size = struct.unpack_from("<HHIQ", self.d, off)
        body = self.d[off + 16:off + 16 + size]
        if flags & 1:
            csize = struct.unpack_from("<I", body, 0)[0]
            body = zstd(body[8:8 + csize], decompress=True)
        return body

    def walk_options(self, off):
        while off:
            body = self.section(off)
            q, off = 0, 0
            while q + 6 <= len(body):
                oid, size = struct.unpack_from("<HI", body, q)
                data = body[q + 6:q + 6 + size]
                q += 6 + size
                if oid == 0:
                    off = struct.unpack_from("<Q", data)[0]
                    break
                if 16 <= oid <= 21:
                    self.sections[oid] = self.section(struct.unpack_from("<Q", data)[0])
                elif oid == 3:
                    r = data.index(b"\0", 8) + 1
                    clock_end = data.index(b"\0", r)
                    self.clock = data[r:clock_end]
                    r = clock_end + 1 + 4
                    count = struct.unpack_from("<I", data, r)[0]
                    cpus = [struct.unpack_from("<IQQ", data, r + 4 + 20 * i) for i in range(count)]
                    self.buffers.append(cpus)

    def cpu_pages(self, offset, size):
        """A CPU's uncompressed data."""
        if self.compression == "none":
            return self.d[offset:offset + size]
        count = struct.unpack_from("<I", self.d, offset)[0]
        p, out = offset + 4, b""
        for _ in range(count):
            csize, _ = struct.unpack_from("<II", self.d, p)
            out += zstd(self.d[p + 8:p + 8 + csize], decompress=True)
            p += 8 + csize
        return out

    def formats(self):
        """(system, format text, id) of every event format in the file."""
        body = self.sections[18]
        systems = struct.unpack_from("<I", body, 0)[0]
        p, result = 4, []
        for _ in range(systems):
            end = body.index(b"\0", p)
            system = body[p:end]
            p = end + 1
            count = struct.unpack_from("<I", body, p)[0]
            p += 4
            for _ in range(count):
                size = struct.unpack_from("<Q", body, p)[0]
                text = body[p + 8:p + 8 + size]
                p += 8 + size
                m = re.search(rb"\nID: (\d+)", text)
                result.append((system, text, int(m.group(1)) if m else -1))
        return result


def keep_only(page, keep, long_size=8):
    """`page` with every data record whose event id is not in `keep` turned into padding."""
    page = bytearray(page)
    commit = struct.unpack_from("<Q", page, 8)[0] & ((1 << 27) - 1)
    p, end = 8 + long_size, min(len(page), 8 + long_size + commit)
    while p + 4 <= end:
        header = struct.unpack_from("<I", page, p)[0]
        type_len = header & 31
        if type_len == 0:
            length = struct.unpack_from("<I", page, p + 4)[0]
            total = 8 + ((max(length, 4) - 4 + 3) & ~3)
            event = struct.unpack_from("<H", page, p + 8)[0] if p + 10 <= end else None
        elif type_len <= 28:
            total = 4 + 4 * type_len
            event = struct.unpack_from("<H", page, p + 4)[0]
        elif type_len == 29:
            if header >> 5 == 0:
                break
            p += 4 + struct.unpack_from("<I", page, p + 4)[0]
            continue
        else:
            p += 8
            continue
        if event is not None and event not in keep:
            struct.pack_into("<II", page, p, (header & ~31) | 29, total - 4)
        p += total
    return bytes(page)


def event_ids(page, long_size=8):
    """The event ids (common_type) of the records in one ring-buffer page."""
    commit = struct.unpack_from("<Q", page, 8)[0] & ((1 << 27) - 1)
    p, end, ids = 8 + long_size, min(len(page), 8 + long_size + commit), set()
    while p + 4 <= end:
        header = struct.unpack_from("<I", page, p)[0]
        type_len = header & 31
        if type_len == 0:
            length = struct.unpack_from("<I", page, p + 4)[0]
            if p + 10 <= end:
                ids.add(struct.unpack_from("<H", page, p + 8)[0])
            p += 4 + max(length, 4)
        elif type_len <= 28:
            ids.add(struct.unpack_from("<H", page, p + 4)[0])
            p += 4 + 4 * type_len
        elif type_len == 29:
            if header >> 5 == 0:
                break
            p += 4 + struct.unpack_from("<I", page, p + 4)[0]
        else:  # time extend, absolute time stamp
            p += 8
    return ids


class Buffer:
    def __init__(self):
        self.b = bytearray()

    def u16(self, v): self.b += struct.pack("<H", v)
    def u32(self, v): self.b += struct.pack("<I", v)
    def u64(self, v): self.b += struct.pack("<Q", v)
    def cstr(self, s): self.b += s + b"\0"

    def option(self, oid, data):
        self.u16(oid)
        self.u32(len(data))
        self.b += data


def write_seed(path, src, formats, kallsyms, cpu_data, instance, compress, cmdline_limit=None):
    header = Buffer()
    header.b += b"\x17\x08Dtracing"
    header.cstr(b"7")
    header.b += bytes([0, 8])
    header.u32(src.page_size)
    if compress:
        header.cstr(b"zstd"); header.cstr(b"1.5.4")
    else:
        header.cstr(b"none"); header.cstr(b"")
    options_field = len(header.b)
    header.u64(0)

    bodies = []
    info = Buffer(); info.b += src.sections[16]; bodies.append((16, info.b))
    ftrace = Buffer(); ftrace.u32(0); bodies.append((17, ftrace.b))
    events = Buffer()
    systems = {}
    for system, text, _ in formats:
        systems.setdefault(system, []).append(text)
    events.u32(len(systems))
    for system, texts in systems.items():
        events.cstr(system)
        events.u32(len(texts))
        for t in texts:
            events.u64(len(t)); events.b += t
    bodies.append((18, events.b))
    ks = Buffer(); ks.u32(len(kallsyms)); ks.b += kallsyms; bodies.append((19, ks.b))
    pk = Buffer(); pk.u32(0); bodies.append((20, pk.b))
    cmd = src.sections.get(21, b"\0" * 8)
    cmd_len = struct.unpack_from("<Q", cmd)[0]
    text = cmd[8:8 + cmd_len]
    if cmdline_limit is not None and len(text) > cmdline_limit:
        text = text[:text.rindex(b"\n", 0, cmdline_limit) + 1]
    cl = Buffer(); cl.u64(len(text)); cl.b += text; bodies.append((21, cl.b))

    out = Buffer()
    out.b += header.b
    strings = Buffer(); strings.cstr(b"section")
    offsets = {}
    for sid, body in bodies:
        offsets[sid] = len(out.b)
        out.u16(sid); out.u16(0); out.u32(0); out.u64(len(body)); out.b += body

    # CPU data (verbatim pages, or zstd chunks of them), then its section header.
    fly_at = len(out.b)
    placed = []
    data_blob = Buffer()
    data_start = (fly_at + 16 + src.page_size - 1) // src.page_size * src.page_size
    for cpu, pages in cpu_data:
        at = data_start + len(data_blob.b)
        if compress:
            # One chunk per page (trace-cmd packs ten): several chunks per CPU.
            page_chunks = [pages[i:i + src.page_size] for i in range(0, len(pages), src.page_size)]
            data_blob.u32(len(page_chunks))
            for page in page_chunks:
                chunk = zstd(page, decompress=False)
                data_blob.u32(len(chunk)); data_blob.u32(len(page)); data_blob.b += chunk
            size = len(data_blob.b) - (at - data_start) - 4
        else:
            data_blob.b += pages
            size = len(pages)
        placed.append((cpu, at, size))
    out.u16(3); out.u16(1 if compress else 0); out.u32(0); out.u64(data_start - fly_at - 16 + len(data_blob.b))
    out.b += b"\0" * (data_start - len(out.b))
    out.b += data_blob.b

    opts = Buffer()
    for sid in (16, 17, 18, 19, 20, 21):
        opts.option(sid, struct.pack("<Q", offsets[sid]))
    opts.option(4, src.clock + b"\0")
    opts.option(5, b"Linux fuzz 6.18.0 x86_64\0")
    opts.option(8, struct.pack("<I", len(cpu_data)))
    buf = Buffer()
    buf.u64(fly_at); buf.cstr(b"cap" if instance else b""); buf.cstr(src.clock)
    buf.u32(src.page_size); buf.u32(len(placed))
    for cpu, at, size in placed:
        buf.u32(cpu); buf.u64(at); buf.u64(size)
    opts.option(3, bytes(buf.b))
    opts.option(0, struct.pack("<Q", 0))
    options_at = len(out.b)
    out.u16(0); out.u16(0); out.u32(0); out.u64(len(opts.b)); out.b += opts.b
    out.u16(15); out.u16(0); out.u32(0); out.u64(len(strings.b)); out.b += strings.b
    out.b[options_field:options_field + 8] = struct.pack("<Q", options_at)
    with open(path, "wb") as f:
        f.write(out.b)


def write_tiny(out_dir, name, src, all_formats, kallsyms, cpu_data):
    """The tiny seeds: one page per CPU, the records of three event ids."""
    order = []
    for _, pages in cpu_data:
        for i in range(0, len(pages), src.page_size):
            for e in sorted(event_ids(pages[i:i + src.page_size])):
                if e not in order:
                    order.append(e)
    keep = set(order[:3])
    tiny = [(cpu, b"".join(keep_only(pages[i:i + src.page_size], keep)
                           for i in range(0, len(pages), src.page_size)))
            for cpu, pages in cpu_data]
    formats = [f for f in all_formats if f[2] in keep]
    for instance in (False, True):
        for compress in (False, True):
            seed = f"{name}-tiny{'-instance' if instance else ''}{'-zstd' if compress else ''}.dat"
            write_seed(os.path.join(out_dir, seed), src, formats, kallsyms[:2048], tiny, instance, compress,
                       cmdline_limit=2048)


def main():
    trace, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    src = Source(trace)
    name = os.path.basename(trace).rsplit(".", 1)[0]
    cpus = [c for b in src.buffers for c in b if c[2] > 0]
    all_formats = src.formats()
    kallsyms = b"".join(l + b"\n" for l in src.sections[19][4:].split(b"\n") if KALLSYMS_KEEP.search(l))[:8192]
    for pages_per_cpu in (1, 2):
        cpu_data, ids = [], set()
        for cpu, offset, size in cpus:
            data = src.cpu_pages(offset, size)
            # Pages from the middle of the stream: past the start-up events.
            start = (len(data) // src.page_size // 2) * src.page_size
            pages = data[start:start + pages_per_cpu * src.page_size]
            for i in range(0, len(pages), src.page_size):
                ids |= event_ids(pages[i:i + src.page_size])
            cpu_data.append((cpu, pages))
        formats = [f for f in all_formats if f[2] in ids]
        if pages_per_cpu == 1:
            write_tiny(out_dir, name, src, all_formats, kallsyms, cpu_data)
        for instance in (False, True):
            for compress in (False, True):
                seed = f"{name}-{pages_per_cpu}p{'-instance' if instance else ''}{'-zstd' if compress else ''}.dat"
                write_seed(os.path.join(out_dir, seed), src, formats, kallsyms, cpu_data, instance, compress)


if __name__ == "__main__":
    main()

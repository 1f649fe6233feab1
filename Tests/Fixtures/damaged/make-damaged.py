#!/usr/bin/env python3
"""Makes the damaged trace.dat fixtures of DatDamageTests from small.dat.

    Tests/Fixtures/damaged/make-damaged.py        (run in this folder's parent's parent)

small.dat is an uncompressed v7 file made by Fuzz/small-dat-seeds.py from
traces/punch_hole.dat (two ring-buffer pages per CPU, the formats of the events
in them). Each fixture changes one thing, found by walking the file as
trace-cmd.dat.v7(5) describes it:
  unknown-event-id.dat   the first record of CPU 0 carries event id 65000 (no format)
  bad-format.dat         one event format's print fmt and field lines are garbage
  huge-field.dat         one event format declares a 1 GB char array
  huge-record-length.dat the first long record of CPU 0 claims 4 GB of payload
  unaligned-cpu-data.dat, oversized-first-page.dat, timestamp-4-bytes.dat: refused (see the end)
"""
import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))
base = bytearray(open(os.path.join(here, "small.dat"), "rb").read())


def options(d):
    o = d.index(b"\0", 10) + 1 + 6
    o = d.index(b"\0", o) + 1
    o = d.index(b"\0", o) + 1
    off = struct.unpack_from("<Q", d, o)[0]
    found = {}
    while off:
        size = struct.unpack_from("<Q", d, off + 8)[0]
        body, q, off = d[off + 16:off + 16 + size], 0, 0
        while q + 6 <= len(body):
            oid, osz = struct.unpack_from("<HI", body, q)
            data = body[q + 6:q + 6 + osz]
            q += 6 + osz
            if oid == 0:
                off = struct.unpack_from("<Q", data)[0]
                break
            found.setdefault(oid, []).append(bytes(data))
    return found


def cpu_offsets(d):
    data = options(d)[3][0]
    r = data.index(b"\0", 8) + 1
    r = data.index(b"\0", r) + 1 + 4
    n = struct.unpack_from("<I", data, r)[0]
    return [struct.unpack_from("<IQQ", data, r + 4 + 20 * i) for i in range(n)]


def records(d, page_at):
    """(offset of the 4-byte header, type_len) of each data record of a page."""
    commit = struct.unpack_from("<Q", d, page_at + 8)[0] & ((1 << 27) - 1)
    p, end = page_at + 16, page_at + 16 + commit
    while p + 4 <= end:
        header = struct.unpack_from("<I", d, p)[0]
        t = header & 31
        if t == 0:
            yield p, t
            p += 4 + struct.unpack_from("<I", d, p + 4)[0]
        elif t <= 28:
            yield p, t
            p += 4 + 4 * t
        elif t == 29:
            if header >> 5 == 0:
                break
            p += 4 + struct.unpack_from("<I", d, p + 4)[0]
        else:
            p += 8


def write(name, d):
    with open(os.path.join(here, name), "wb") as f:
        f.write(d)


page0 = cpu_offsets(base)[0][1]

d = bytearray(base)
p, t = next(records(d, page0))
payload = p + (8 if t == 0 else 4)
struct.pack_into("<H", d, payload, 65000)
write("unknown-event-id.dat", d)

# Same length, so no offset in the file moves.
d = bytearray(base)
m = re.search(rb"print fmt: [^\n]*\n", d)
d[m.start():m.end()] = (b"print fmt: ((((( \"%s\" REC->" + b")" * 40)[:m.end() - m.start() - 1].ljust(m.end() - m.start() - 1, b"(") + b"\n"
# And the first field line after the common ones no longer says what it is.
f = d.index(b"\n\n\tfield:", d.rindex(b"format:", 0, m.start()))
d[f + 3:f + 9] = b"fi?ld:"
write("bad-format.dat", d)

d = bytearray(base)
m = re.search(rb"field:char comm\[16\];\toffset:(\d+);\tsize:16;", d) or re.search(rb"field:char (\w+)\[(\d+)\];\toffset:(\d+);\tsize:(\d+);", d)
text = m.group(0)
new = re.sub(rb"size:\d+;", b"size:1000000000;", re.sub(rb"\[\d+\]", b"[1000000000]", text))
# Keep the length: drop characters from the field name's end if needed.
assert len(new) >= len(text)
extra = len(new) - len(text)
d[m.start():m.end()] = new
# Take the extra bytes out of the padding of the next format line's whitespace-free end:
# simpler: shorten the format by removing the same number of bytes from its print fmt.
pf = d.index(b"print fmt:", m.end())
eol = d.index(b"\n", pf)
del d[eol - extra:eol]
write("huge-field.dat", d)

# The ring buffer writes short records with the length in the header's type_len;
# type_len 0 means "the length is in the next 4 bytes": claim 4 GB there.
d = bytearray(base)
records_of_page = list(records(d, page0))
p, t = records_of_page[len(records_of_page) // 2]
header = struct.unpack_from("<I", d, p)[0]
struct.pack_into("<I", d, p, header & ~31)
struct.pack_into("<I", d, p + 4, 0xFFFFFFF0)
write("huge-record-length.dat", d)

# What libtracecmd needs to set up a buffer's CPUs (see DatV7Chunks): each is refused
# with one error before libtracecmd sees it.
cpus = cpu_offsets(base)
d = bytearray(base)
entry = d.find(struct.pack("<IQQ", *cpus[1]))
struct.pack_into("<Q", d, entry + 4, cpus[1][1] + 8)
write("unaligned-cpu-data.dat", d)

d = bytearray(base)
struct.pack_into("<Q", d, cpus[0][1] + 8, 0x3000)
write("oversized-first-page.dat", d)

d = bytearray(base)
m = re.search(rb" timestamp;\toffset:0;\tsize:8;", d)
d[m.end() - 2:m.end() - 1] = b"4"
write("timestamp-4-bytes.dat", d)

#!/usr/bin/env python3
"""Generates Sources/TraceIO/Generated/*.swift: the text-reader specs of the
tracepoints wbreplay decodes, from kernels' tracefs format files.

Usage: Tools/gen-event-specs.py [SOURCE ...] [--out DIR]

A SOURCE is a tracefs events directory (/sys/kernel/tracing/events) or a
formats.zst of the kernel lab (traces/kernels/RELEASE/formats.zst: every
events/SYSTEM/EVENT/format of one kernel). Without SOURCE: every
traces/kernels/*/formats.zst. Each event gets one spec per distinct print
format among the sources, newest kernel first (the text reader tries them in
that order): 5.10's block_rq_issue without the ioprio column, 6.18's with it;
events only older kernels have (writeback_dirty_page, ext4_da_write_pages)
come from those kernels.

Each event's `print fmt` becomes a pattern string: the literal text of the
format with one `{field:conv}` placeholder per conversion. `field<<N` /
`field>>N` say how the printed part maps back to the stored field (the print
fmt printed `field >> N` or `field << N`); `_` skips a conversion whose
argument is an expression that cannot be inverted (ternaries, jiffies
arithmetic). The fields line gives each field's stored type (u4 = unsigned
4 bytes, s8 = signed 8 bytes, str, dev = dev_t, sym = pointer printed as a
symbol), so that values come out exactly as libtraceevent decodes them from
trace.dat. The output is data about the kernel ABI; no kernel source is copied.
"""
import glob
import os
import re
import subprocess
import sys

SYSTEMS = ["ext4", "writeback", "block", "workqueue", "filemap", "jbd2", "iomap"]

# Values of macros the print fmts name but do not expand (include/linux/fs.h
# and include/uapi/linux/ioprio.h of 6.18). libtraceevent cannot resolve them
# either, which is why such tables are marked `resolvable: false`.
MACROS = {
    "I_NEW": 1 << 0, "I_SYNC": 1 << 1, "I_LRU_ISOLATING": 1 << 2,
    "I_DIRTY_SYNC": 1 << 4, "I_DIRTY_DATASYNC": 1 << 5, "I_DIRTY_PAGES": 1 << 6,
    "I_WILL_FREE": 1 << 7, "I_FREEING": 1 << 8, "I_CLEAR": 1 << 9,
    "I_REFERENCED": 1 << 10, "I_LINKABLE": 1 << 11, "I_DIRTY_TIME": 1 << 12,
    "I_WB_SWITCH": 1 << 13, "I_OVL_INUSE": 1 << 14, "I_CREATING": 1 << 15,
    "I_DONTCACHE": 1 << 16, "I_SYNC_QUEUED": 1 << 17, "I_PINNING_NETFS_WB": 1 << 18,
    "IOPRIO_CLASS_NONE": 0, "IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2,
    "IOPRIO_CLASS_IDLE": 3, "IOPRIO_CLASS_INVALID": 7,
}


def split_top(s, sep=","):
    parts, depth, cur, quote = [], 0, [], False
    i = 0
    while i < len(s):
        c = s[i]
        if quote:
            cur.append(c)
            if c == "\\":
                cur.append(s[i + 1]); i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True; cur.append(c)
        elif c in "([{":
            depth += 1; cur.append(c)
        elif c in ")]}":
            depth -= 1; cur.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(cur).strip()); cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def parse_format(text):
    fields, fmt, args = [], None, []
    for line in text.splitlines():
        m = re.match(r"\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);", line)
        if m:
            decl, size, signed = m.group(1), int(m.group(3)), m.group(4) == "1"
            name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$", decl).group(1)
            if name.startswith("common_"):
                continue
            fields.append((decl, name, size, signed))
    if "\nprint fmt:" in text:
        # A print fmt may span lines (ext4_fc_stats prints a newline).
        body = text.split("\nprint fmt:", 1)[1].strip()
        end = 1
        while True:
            end = body.index('"', end)
            if body[end - 1] != "\\":
                break
            end += 1
        fmt = body[1:end]
        args = split_top(body[end + 1:].lstrip(", ").replace("\n", " "))
    return fields, fmt, args


def field_type(decl, size, signed):
    if "__data_loc" in decl or re.search(r"char\s+\w+\s*\[", decl):
        return "str"
    if "[" in decl:
        return "array"  # arrays of numbers print through helpers the reader does not invert
    if re.match(r"(const\s+)?dev_t\b", decl):
        return "dev"
    return ("s" if signed else "u") + str(size)


CAST = re.compile(r"\(\s*(?:unsigned|signed|long|int|short|char|void|const|u8|u16|u32|u64|"
                  r"s8|s16|s32|s64|__u8|__u16|__u32|__u64|__s32|__s64|loff_t|size_t|umode_t|"
                  r"ext4_lblk_t|ext4_fsblk_t|sector_t|ino_t|dev_t|tid_t|\s|\*)+\)")


def strip_parens(e):
    e = e.strip()
    while e.startswith("(") and e.endswith(")"):
        depth = 0
        for i, c in enumerate(e):
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and i < len(e) - 1:
                return e
        e = e[1:-1].strip()
    return e


def numeric_target(expr):
    """(field, shift) when expr is REC->f, optionally shifted and masked."""
    e = CAST.sub("", expr)
    # `REC->found ? REC->pblk : 0` prints the field, or 0 when the
    # condition field is 0: the field (the decoder zeroes it likewise).
    m = re.match(r"^\(?\s*REC->\w+\s*\?\s*REC->(\w+)\s*:\s*0\s*\)?$", strip_parens(re.sub(r"\s+", " ", e)))
    if m:
        return m.group(1), 0
    if "?" in e or e.count("REC->") != 1 or "jiffies" in e:
        return None
    e = re.sub(r"\s+", " ", e)
    e = strip_parens(e)
    # Drop a trailing mask: `X & (...)`.
    m = re.match(r"^(.*?)\s*&\s*(\(.*\)|[0-9xXa-fA-FUL]+)$", e)
    if m and "REC->" in m.group(1):
        e = strip_parens(m.group(1))
    m = re.match(r"^\(?\s*REC->(\w+)\s*\)?$", e)
    if m:
        return m.group(1), 0
    m = re.match(r"^\(?\s*REC->(\w+)\s*\)?\s*>>\s*(\d+)$", e)
    if m:
        return m.group(1), int(m.group(2))
    m = re.match(r"^\(?\s*REC->(\w+)\s*\)?\s*<<\s*(\d+)$", e)
    if m:
        return m.group(1), -int(m.group(2))
    return None


def eval_value(expr):
    e = re.sub(r"(\d)(?:ULL|UL|LL|U|L)\b", r"\1", expr.strip())
    for k, v in MACROS.items():
        e = re.sub(r"\b%s\b" % k, str(v), e)
    if not re.fullmatch(r"[0-9xXa-fA-F()<>|&+\- ]*", e):
        return None
    try:
        return int(eval(e, {"__builtins__": {}}))
    except Exception:
        return None


def resolvable(expr):
    return not re.search(r"[A-Za-z_]{3,}", re.sub(r"0x[0-9a-fA-F]+|\d+(ULL|UL|U|L)?", "", expr))


class Tables:
    def __init__(self):
        self.tables = {}  # key -> name

    def add(self, kind, entries, delim, hint):
        """Names a table after the first event field that prints it; another
        kernel's different table for the same field gets a suffix (`#2`)."""
        key = (kind, tuple(entries), delim)
        if key not in self.tables:
            name, n = hint, 1
            while name in self.tables.values():
                n += 1
                name = "%s#%d" % (hint, n)
            self.tables[key] = name
        return self.tables[key]


def parse_table(args, kind, tables):
    entries, ok = [], True
    for a in args:
        m = re.match(r'^\{\s*(.*?)\s*,\s*"(.*)"\s*\}$', a, re.S)
        if not m:
            continue
        value = eval_value(m.group(1))
        if value is None:
            ok = False
            continue
        entries.append((value, m.group(2), resolvable(m.group(1))))
    return entries, ok


CONV = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?(hh|h|ll|l|z|j|t|L)?([diouxXcsp%])([sSfFB])?")


def build(event, fields, fmt, args, tables):
    def hint(t):
        return "%s.%s" % (event, t[0] if t else "value")

    types = {n: field_type(d, s, sg) for d, n, s, sg in fields}
    pattern, pos, ai = [], 0, 0
    used_sym = set()
    for m in CONV.finditer(fmt):
        lit = fmt[pos:m.start()]
        pattern.append(lit.replace("{", "{{").replace("}", "}}"))
        pos = m.end()
        conv, pext = m.group(5), m.group(6)
        if conv == "%":
            pattern.append("%")
            continue
        arg = args[ai] if ai < len(args) else ""
        ai += 1
        target, kind = None, None
        if conv == "p":
            if pext in ("s", "S", "f", "F", "B"):
                kind = "S"
                t = numeric_target(arg)
                if t and t[1] == 0:
                    target = t[0]
                    used_sym.add(target)
            else:
                kind = "p"
                t = numeric_target(arg)
                target = t[0] if t and t[1] == 0 else None
                if pext:  # %pU, %pI4 …: not a plain pointer
                    pattern.append("{_:s}")
                    pattern.append(pext)
                    continue
        elif conv == "s":
            a = arg.strip()
            fm = re.match(r"^__print_(flags|symbolic)\((.*)\)$", a, re.S)
            gm = re.match(r"^__get_str\((\w+)\)$", a)
            if fm:
                inner = split_top(fm.group(2))
                t = numeric_target(inner[0])
                if fm.group(1) == "flags":
                    delim = eval(inner[1]) if inner[1].startswith('"') else "|"
                    entries, _ = parse_table(inner[2:], "F", tables)
                    tname = tables.add("flags", entries, delim, hint(t))
                    kind = "F:" + tname
                else:
                    entries, _ = parse_table(inner[1:], "Y", tables)
                    tname = tables.add("symbols", entries, "", hint(t))
                    kind = "Y:" + tname
                if t:
                    target = t[0] + ("<<%d" % t[1] if t[1] > 0 else (">>%d" % -t[1] if t[1] < 0 else ""))
            elif gm:
                kind, target = "s", gm.group(1)
            else:
                t = re.match(r"^\(?\s*REC->(\w+)\s*\)?$", CAST.sub("", a))
                kind = "s"
                if t and types.get(t.group(1)) == "str":
                    target = t.group(1)
        elif conv == "c":
            kind = "c"
        else:
            kind = {"d": "d", "i": "d", "u": "u", "x": "x", "X": "x", "o": "o"}[conv]
            t = numeric_target(arg)
            if t:
                target = t[0] + ("<<%d" % t[1] if t[1] > 0 else (">>%d" % -t[1] if t[1] < 0 else ""))
        if target is not None and target.split("<")[0].split(">")[0] not in types:
            target = None
        pattern.append("{%s:%s}" % (target or "_", kind))
    pattern.append(fmt[pos:].replace("{", "{{").replace("}", "}}"))
    decl = []
    for d, n, s, sg in fields:
        t = "sym" if n in used_sym else types[n]
        decl.append("%s:%s" % (n, t))
    return "".join(pattern), " ".join(decl)


def swift_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def version_key(release):
    return [int(x) for x in re.findall(r"\d+", release)[:3]]


def read_source(source):
    """(release, {system: {event: format text}}) of a SOURCE."""
    formats = {}
    if os.path.isdir(source):
        release = os.uname().release
        for system in SYSTEMS:
            for path in glob.glob(os.path.join(source, system, "*", "format")):
                formats.setdefault(system, {})[path.split(os.sep)[-2]] = open(path).read()
        return release, formats
    release = os.path.basename(os.path.dirname(os.path.abspath(source)))
    data = subprocess.run(["zstd", "-dc", source], check=True, capture_output=True).stdout
    p = 0
    while p < len(data):
        nl = data.index(b"\n", p)
        _, path, size = data[p:nl].decode().split(" ")
        text = data[nl + 1:nl + 1 + int(size)].decode("utf-8", "replace")
        p = nl + 1 + int(size)
        parts = path.split("/")
        if len(parts) == 4 and parts[0] == "events" and parts[1] in SYSTEMS and parts[3] == "format":
            formats.setdefault(parts[1], {})[parts[2]] = text
    return release, formats


def main():
    args = sys.argv[1:]
    out = "Sources/TraceIO/Generated"
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i:i + 2]
    sources = args or glob.glob("traces/kernels/*/formats.zst")
    kernels = sorted((read_source(s) for s in sources), key=lambda k: version_key(k[0]), reverse=True)
    releases = ", ".join(r for r, _ in kernels)
    os.makedirs(out, exist_ok=True)
    tables = Tables()
    for system in SYSTEMS:
        lines = []
        events = sorted(set(e for _, f in kernels for e in f.get(system, {})))
        for event in events:
            variants = {}  # (pattern, decl) -> mask of the kernels (bit i: kernels[i]) printing it
            for i, (_, formats) in enumerate(kernels):
                if event not in formats.get(system, {}):
                    continue
                fields, fmt, args_ = parse_format(formats[system][event])
                if fmt is None:
                    continue
                key = build(event, fields, fmt, args_, tables)
                variants[key] = variants.get(key, 0) | (1 << i)
            for (pattern, decl), mask in variants.items():
                lines.append("        EventSpecSource(%s, %s,\n                        %s, kernels: 0b%s),"
                             % (swift_string(event), swift_string(decl), swift_string(pattern), format(mask, "b")))
        name = system.capitalize()
        with open(os.path.join(out, "EventSpecs+%s.swift" % name), "w") as f:
            f.write("// Generated by Tools/gen-event-specs.py from the %s/*/format files of\n" % system)
            f.write("// kernels %s (newest first: an event's\n// specs are tried in that order; `kernels` bit i: the i-th of them). Do not edit: regenerate.\n\n" % releases)
            f.write("extension EventSpecCatalog {\n")
            f.write("    static let %s: [EventSpecSource] = [\n" % system)
            f.write("\n".join(lines) + "\n    ]\n}\n")
    with open(os.path.join(out, "FlagTables.swift"), "w") as f:
        f.write("// Generated by Tools/gen-event-specs.py from the __print_flags and\n")
        f.write("// __print_symbolic tables of the format files of kernels\n// %s.\n" % releases)
        f.write("// Symbolic values (I_DIRTY_SYNC, IOPRIO_CLASS_BE …) come from the\n")
        f.write("// generator's macro list; `resolvable: false` marks tables that\n")
        f.write("// libtraceevent cannot evaluate either. Do not edit: regenerate.\n\n")
        f.write("extension FlagTable {\n")
        f.write("    static let generated: [String: FlagTable] = [\n")
        for (kind, entries, delim), name in sorted(tables.tables.items(), key=lambda kv: kv[1]):
            res = all(r for _, _, r in entries)
            ents = ", ".join("(%d, %s)" % (v, swift_string(n)) for v, n, _ in entries)
            f.write("        %s: FlagTable(isFlags: %s, delimiter: %s, resolvable: %s, entries: [%s]),\n"
                    % (swift_string(name), "true" if kind == "flags" else "false",
                       swift_string(delim), "true" if res else "false", ents))
        f.write("    ]\n}\n")


main()

# save-formats.py TRACEFS OUT: every event format of the running kernel, with
# header_page and header_event, in one file: "#### PATH SIZE\n" then SIZE bytes,
# per file (PATH relative to TRACEFS), in path order.
import glob, os, sys
root, out = sys.argv[1], sys.argv[2]
paths = [os.path.join(root, "events", p) for p in ("header_page", "header_event")]
paths += sorted(glob.glob(os.path.join(root, "events", "*", "*", "format")))
with open(out, "wb") as f:
    for path in paths:
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        f.write(b"#### %s %d\n" % (os.path.relpath(path, root).encode(), len(data)))
        f.write(data)

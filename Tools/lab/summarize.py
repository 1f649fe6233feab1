#!/usr/bin/env python3
"""summarize.py WBREPLAY OUT: what `wbreplay check` and `wbreplay stats` say about
every lab recording (OUT/RELEASE/CONFIG/WORKLOAD.dat, as guest.sh leaves them), as a
Markdown table: the profile chosen, violated / inconclusive findings, divergences
and the first distinct divergence reasons, the graph's unlinked counts."""
import glob, json, os, re, subprocess, sys

wb, out = sys.argv[1], sys.argv[2]


def run(*args):
    p = subprocess.run([wb, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr.strip()


def version_key(path):
    return [int(x) for x in re.findall(r"\d+", os.path.basename(path))[:3]]


print("| kernel | config | workload | events | profile | violated | inconclusive | divergences | first divergence reasons | unlinked (stats) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for kdir in sorted(glob.glob(os.path.join(out, "*/")), key=lambda p: version_key(p.rstrip("/"))):
    release = open(os.path.join(kdir, "release")).read().strip() if os.path.exists(os.path.join(kdir, "release")) else os.path.basename(kdir.rstrip("/"))
    # The I/O-error runs and the default configuration first.
    order = {"eio": 0, "default": 1}
    dats = sorted(glob.glob(os.path.join(kdir, "*", "*.dat")),
                  key=lambda p: (order.get(p.split(os.sep)[-2], 2), p))
    for dat in dats:
        cfg, name = dat.split(os.sep)[-2], os.path.basename(dat)[:-4]
        code, text, err = run("check", dat, "--format", "json")
        if code == 2 or not text.strip():
            print(f"| {release} | {cfg} | {name} | | error | | | | {err[:120]} | |")
            continue
        j = json.loads(text)
        _, ctext, _ = run("check", dat)
        reasons = []
        for line in ctext.splitlines():
            m = re.match(r"\s+event \d+: (.*)$", line)
            if m:
                # The reason without the object's identity, so that repeats collapse.
                r = re.sub(r" on .*?: ", ": ", m.group(1))
                r = re.sub(r"\b\d+\b", "N", r)
                if r not in reasons:
                    reasons.append(r)
        _, stats, _ = run("stats", dat)
        unlinked = next((l.split(":", 1)[1].strip() for l in stats.splitlines() if l.startswith("unlinked:")), "")
        s = j.get("summary", {})
        print(f"| {release} | {cfg} | {name} | {j.get('events')} | {j.get('profile')} | {s.get('violated')} | "
              f"{s.get('inconclusive')} | {j.get('divergences')} | {'; '.join(reasons[:3]).replace('|', '/')} | {unlinked} |",
              flush=True)

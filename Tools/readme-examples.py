#!/usr/bin/env python3
"""Runs every command of README.md's console blocks as a user would.

Usage: Tools/readme-examples.py [--bin DIR]

`$ ` lines run as any user, `# ` lines need root and tracefs (a block with
one is skipped, saying why, where those are missing). Commands run with
bash in a scratch directory that holds the repository's traces/ and
Tests/ReplayTests/Fixtures/ (the README's relative paths), with DIR (the
installed bin/, default: wbreplay as found on PATH) first on PATH; `cd`
carries over within a block. A command passes when it exits 0 or 1 (1:
findings) and prints every output line the README shows under it (a line
with … matches the text before the …; blank lines and lines that are
only … are skipped). A `record` into FILE with --mount PATH must leave a
trace whose devices include PATH's and whose inodes include some of it.
Prints "N passed, N failed, N skipped" and exits 1 on any failure.
"""
import json, os, re, shutil, subprocess, sys, tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def blocks(text):
    """[(lines)] of each ```console block."""
    out, current = [], None
    for line in text.splitlines():
        if current is None and line.strip() == "```console":
            current = []
        elif current is not None and line.strip() == "```":
            out.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return out


def commands(block):
    """[(prompt, command, [expected output lines])]."""
    out = []
    lines = iter(block)
    for line in lines:
        if line.startswith(("$ ", "# ")):
            cmd = line[2:]
            while cmd.endswith("\\"):
                cmd = cmd[:-1] + " " + next(lines).strip()
            out.append((line[0], cmd, []))
        elif out:
            out[-1][2].append(line)
    return out


def norm(s):
    return " ".join(s.split())


def shows(expected, actual):
    got = [norm(l) for l in actual.splitlines()]
    missing = []
    for line in expected:
        want = norm(line)
        if not want or want == "…":
            continue
        if "…" in want:
            want = want.split("…")[0].strip()
            if not want:
                continue
            ok = any(g.startswith(want) or want in g for g in got)
        else:
            ok = any(g == want or want in g for g in got)
        if not ok:
            missing.append(line)
    return missing


def root_reason():
    if os.geteuid() != 0:
        return "not root"
    if not os.path.isdir("/sys/kernel/tracing/events") and not os.path.isdir("/sys/kernel/debug/tracing/events"):
        return "tracefs is not mounted"
    for tool in ("mkfs.ext4", "mount", "losetup"):
        if not shutil.which(tool):
            return f"{tool} is missing"
    return None


def main():
    args = sys.argv[1:]
    bindir = args[args.index("--bin") + 1] if "--bin" in args else None
    env = dict(os.environ)
    if bindir:
        env["PATH"] = os.path.abspath(bindir) + os.pathsep + env["PATH"]
    env.pop("NO_COLOR", None)
    if not shutil.which("wbreplay", path=env["PATH"]):
        print("readme-examples: no wbreplay on PATH (make install, or --bin DIR)", file=sys.stderr)
        return 2
    scratch = tempfile.mkdtemp(prefix="wbreplay-readme-")
    shutil.copytree(os.path.join(REPO, "traces"), os.path.join(scratch, "traces"))
    shutil.copytree(os.path.join(REPO, "Tests/ReplayTests/Fixtures"), os.path.join(scratch, "Tests/ReplayTests/Fixtures"))
    passed = failed = skipped = 0
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    mounts = []
    try:
        for block in blocks(text):
            cmds = commands(block)
            if not cmds:
                continue
            if any(p == "#" for p, _, _ in cmds):
                why = root_reason()
                if why:
                    print(f"SKIP  root block ({len(cmds)} commands): {why}")
                    skipped += len(cmds)
                    continue
            cwd = scratch
            for prompt, cmd, expected in cmds:
                device = None
                rec = re.search(r"wbreplay record .*--mount (\S+).* -o (\S+)", cmd)
                if rec:
                    mounts.append(rec.group(1))
                    device = subprocess.run(["findmnt", "-no", "MAJ:MIN", rec.group(1)], capture_output=True, text=True).stdout.strip()
                script = f'cd "{cwd}" && {{ {cmd}\n}}; s=$?; pwd > "{scratch}/.cwd"; exit $s'
                r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600)
                try:
                    cwd = open(os.path.join(scratch, ".cwd")).read().strip() or cwd
                except OSError:
                    pass
                problems = []
                if r.returncode not in (0, 1):
                    problems.append(f"exit status {r.returncode}: {r.stderr.strip()[-400:]}")
                missing = shows(expected, r.stdout + r.stderr)
                if missing:
                    problems.append("output lacks: " + " | ".join(m.strip() for m in missing[:3]))
                if rec and not problems:
                    problems += check_recording(rec.group(2), device, env, cwd)
                if problems:
                    failed += 1
                    print(f"FAIL  {prompt} {cmd}\n      " + "\n      ".join(problems))
                else:
                    passed += 1
                    print(f"ok    {prompt} {cmd}")
    finally:
        for m in mounts:
            if subprocess.run(["mountpoint", "-q", m]).returncode == 0:
                subprocess.run(["umount", m])
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def check_recording(path, device, env, cwd):
    """The trace of a --mount recording has that file system's device and inodes."""
    if not device:
        return ["could not tell the mount's device (findmnt)"]
    r = subprocess.run(["wbreplay", "stats", "--no-graph", "--format", "json", path], env=env, cwd=cwd,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return [f"stats on the recording failed: {r.stderr.strip()}"]
    stats = json.loads(r.stdout)
    problems = []
    if device not in stats["devices"]:
        problems.append(f"the recording has no event of the mount's device {device} (devices: {stats['devices']})")
    if not any(i.startswith(device + ":") for i in stats["inodes"]):
        problems.append(f"the recording has no inode of {device}")
    return problems


if __name__ == "__main__":
    sys.exit(main())

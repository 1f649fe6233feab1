#!/bin/bash
# Runs xfstests tests one at a time on loop-device ext4, each under
# `wbreplay record`, and checks every trace with `wbreplay check`.
#
#   Tools/fstests/run.sh [TEST[@MODE] ...]     (default: Tools/fstests/tests.list)
#
# MODE says which file system the trace keeps (see tests.list): test, scratch or
# loop (SCRATCH_DEV is a loop device over a file on the traced TEST_DEV file
# system). Without @MODE a test named on the command line takes the mode
# tests.list gives it, else `scratch` if it calls _require_scratch, else `test`.
#
# For each test OUT_DIR gets NAME.dat (the trace), NAME.check.json
# (`wbreplay check --format json`), NAME.log (check's and the recorder's
# output, the test's .out.bad and .full when it failed) and one line in
# summary.tsv: name, mode, the test's result (pass, fail, notrun), events,
# lost events, trace bytes, violated, inconclusive, divergences, seconds.
#
# Environment:
#   XFSTESTS_DIR  a built xfstests checkout (default .build-fstests/xfstests of this checkout)
#   WBREPLAY      the wbreplay binary (default .build/release/wbreplay of this checkout)
#   OUT_DIR       where traces and results go (default fstests-out)
#   WORK_DIR      images, mount points, xfstests results (default /var/tmp/wbreplay-fstests)
#   TEST_SIZE, SCRATCH_SIZE   image sizes (default 4G and 2G; sparse files)
#   LOOP_SCRATCH_SIZE         the loop mode's scratch file on TEST_DEV (default 1G)
#   TIME_FACTOR, LOAD_FACTOR  passed to xfstests (default 1)
#   NICE          nice level of the tests and the checks (default 10)
# Needs root, tracefs, losetup, mkfs.ext4. Everything it sets up (mounts, loop
# devices, the recorder's tracefs instance) is torn down on exit, failure or ^C.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
XFSTESTS_DIR=${XFSTESTS_DIR:-$repo/.build-fstests/xfstests}
WBREPLAY=${WBREPLAY:-$repo/.build/release/wbreplay}
OUT_DIR=${OUT_DIR:-fstests-out}
WORK_DIR=${WORK_DIR:-/var/tmp/wbreplay-fstests}
TEST_SIZE=${TEST_SIZE:-4G}
SCRATCH_SIZE=${SCRATCH_SIZE:-2G}
LOOP_SCRATCH_SIZE=${LOOP_SCRATCH_SIZE:-1G}
NICE=${NICE:-10}
export TIME_FACTOR=${TIME_FACTOR:-1} LOAD_FACTOR=${LOAD_FACTOR:-1}
TRACING=/sys/kernel/tracing

die() { echo "fstests: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (loop devices, mounts, tracefs)"
if [ ! -x "$XFSTESTS_DIR/check" ] || [ ! -x "$XFSTESTS_DIR/ltp/fsstress" ] || [ ! -x "$XFSTESTS_DIR/src/feature" ]; then
    die "no built xfstests at XFSTESTS_DIR=$XFSTESTS_DIR. Clone xfstests there, install the
build dependencies its README lists for Debian (xfslibs-dev uuid-dev libtool-bin automake
libacl1-dev libaio-dev libattr1-dev libgdbm-dev libcap-dev liburing-dev xfsprogs e2fsprogs
attr acl quota fio bc psmisc dbench …) and run 'make' in it, or point XFSTESTS_DIR at a build."
fi
[ -x "$WBREPLAY" ] || die "no wbreplay at $WBREPLAY: run 'swift build -c release' (or set WBREPLAY)"
[ -d "$TRACING/instances" ] || mount -t tracefs nodev "$TRACING" 2>/dev/null
[ -d "$TRACING/instances" ] || die "tracefs is not available at $TRACING"
for tool in losetup mkfs.ext4 mount umount; do command -v $tool >/dev/null || die "$tool is missing"; done

# The list: arguments, or tests.list.
declare -a names modes
mode_in_list() { awk -v t="$1" '$1 == t { print $2; exit }' "$here/tests.list"; }
if [ $# -gt 0 ]; then
    for arg in "$@"; do
        t=${arg%@*}; m=""
        [ "$arg" != "$t" ] && m=${arg#*@}
        [ -f "$XFSTESTS_DIR/tests/$t" ] || die "no test $t in $XFSTESTS_DIR/tests"
        [ -n "$m" ] || m=$(mode_in_list "$t")
        if [ -z "$m" ]; then
            if grep -q '_require_scratch' "$XFSTESTS_DIR/tests/$t"; then m=scratch; else m=test; fi
        fi
        case $m in test|scratch|loop) ;; *) die "$arg: mode must be test, scratch or loop" ;; esac
        names+=("$t"); modes+=("$m")
    done
else
    while read -r t m _; do
        case $t in ''|'#'*) continue ;; esac
        names+=("$t"); modes+=("$m")
    done < "$here/tests.list"
fi

mkdir -p "$OUT_DIR" "$WORK_DIR" || die "cannot create $OUT_DIR or $WORK_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
TEST_IMG=$WORK_DIR/test.img
SCRATCH_IMG=$WORK_DIR/scratch.img
TEST_MNT=$WORK_DIR/test
SCRATCH_MNT=$WORK_DIR/scratch
CONFIG=$WORK_DIR/local.config
mkdir -p "$TEST_MNT" "$SCRATCH_MNT" "$WORK_DIR/results"

# Teardown state: whatever exists is undone in reverse.
test_loop=""; scratch_loop=""; loop_scratch=""; recorder_pid=""
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$recorder_pid" ] && kill -0 "$recorder_pid" 2>/dev/null; then
        kill -INT "$recorder_pid" 2>/dev/null
        wait "$recorder_pid" 2>/dev/null
    fi
    if [ -n "$recorder_pid" ] && [ -d "$TRACING/instances/wbreplay-$recorder_pid" ]; then
        echo 0 > "$TRACING/instances/wbreplay-$recorder_pid/tracing_on" 2>/dev/null
        echo 0 > "$TRACING/instances/wbreplay-$recorder_pid/events/enable" 2>/dev/null
        rmdir "$TRACING/instances/wbreplay-$recorder_pid" 2>/dev/null
    fi
    recorder_pid=""
    umount_all
    [ -n "$test_loop" ] && losetup -d "$test_loop" 2>/dev/null
    test_loop=""
}
# Unmounts the scratch mount, then the loop-mode scratch device over a file on
# TEST_DEV, then TEST_DEV (a test may leave a file system frozen or shut down).
umount_all() {
    local m
    for m in "$SCRATCH_MNT" "$TEST_MNT"; do
        if mountpoint -q "$m"; then
            [ "$m" = "$TEST_MNT" ] && detach_scratch
            fsfreeze -u "$m" 2>/dev/null
            umount "$m" 2>/dev/null || umount -l "$m"
        fi
    done
    detach_scratch
}
detach_scratch() {
    [ -n "$scratch_loop" ] && losetup -d "$scratch_loop" 2>/dev/null
    scratch_loop=""
    [ -n "$loop_scratch" ] && rm -f "$loop_scratch"
    loop_scratch=""
}
trap cleanup EXIT
trap 'echo "fstests: interrupted" >&2; exit 130' INT TERM HUP

devnum() { printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"; }

# TEST_DEV: one ext4 for the whole run, as xfstests expects.
truncate -s "$TEST_SIZE" "$TEST_IMG" && truncate -s "$SCRATCH_SIZE" "$SCRATCH_IMG" || die "cannot create images in $WORK_DIR"
test_loop=$(losetup -f --show "$TEST_IMG") || die "losetup $TEST_IMG failed"
mkfs.ext4 -F -q "$test_loop" || die "mkfs.ext4 $test_loop failed"

write_config() { # SCRATCH_DEV
    cat > "$CONFIG" <<EOF
export FSTYP=ext4
export TEST_DEV=$test_loop
export TEST_DIR=$TEST_MNT
export SCRATCH_DEV=$1
export SCRATCH_MNT=$SCRATCH_MNT
export RESULT_BASE=$WORK_DIR/results
EOF
}

summary=$OUT_DIR/summary.tsv
[ -f "$summary" ] || printf 'name\tmode\tresult\tevents\tlost\tbytes\tviolated\tinconclusive\tdivergences\tseconds\n' > "$summary"

for i in "${!names[@]}"; do
    t=${names[$i]}; m=${modes[$i]}
    name=$(echo "$t" | tr / -); [ "$m" = loop ] && name=$name-loop
    log=$OUT_DIR/$name.log; dat=$OUT_DIR/$name.dat; json=$OUT_DIR/$name.check.json
    rm -f "$dat" "$json"
    echo "== $t ($m)"

    mountpoint -q "$TEST_MNT" || mount "$test_loop" "$TEST_MNT" || die "cannot mount $test_loop"
    if [ "$m" = loop ]; then
        loop_scratch=$TEST_MNT/wbreplay-scratch.img
        truncate -s "$LOOP_SCRATCH_SIZE" "$loop_scratch" || die "cannot create $loop_scratch"
        scratch_loop=$(losetup -f --show "$loop_scratch") || die "losetup $loop_scratch failed"
        traced=$(devnum "$test_loop")
    else
        scratch_loop=$(losetup -f --show "$SCRATCH_IMG") || die "losetup $SCRATCH_IMG failed"
        if [ "$m" = scratch ]; then traced=$(devnum "$scratch_loop"); else traced=$(devnum "$test_loop"); fi
    fi
    write_config "$scratch_loop"

    start=$(date +%s)
    ( cd "$XFSTESTS_DIR" && HOST_OPTIONS=$CONFIG exec nice -n "$NICE" \
        "$WBREPLAY" record --dev "$traced" -o "$dat" -- ./check "$t" ) > "$log" 2>&1 &
    recorder_pid=$!
    wait "$recorder_pid"
    recorder_pid=""
    seconds=$(( $(date +%s) - start ))

    if grep -q "^Not run: *$t" "$log" || grep -q "^$t.*\[not run\]" "$log"; then result=notrun
    elif grep -q "^Passed all 1 tests" "$log"; then result=pass
    else result=fail; fi
    if [ "$result" = fail ]; then
        for f in "$WORK_DIR/results/$t.out.bad" "$WORK_DIR/results/$t.full"; do
            [ -f "$f" ] && { echo "---- $(basename "$f")"; tail -n 200 "$f"; } >> "$log"
        done
    fi
    # A loop-mode scratch device's backing file lives on TEST_DEV: drop it
    # before the next test (check leaves TEST_DEV mounted when it is busy).
    if [ "$m" = loop ]; then umount_all; else detach_scratch; fi
    mountpoint -q "$SCRATCH_MNT" && umount "$SCRATCH_MNT"

    events=-; lost=-; bytes=-; violated=-; inconclusive=-; divergences=-
    summary_line=$(grep -a '^wbreplay: [0-9]* events' "$log" | tail -n 1)
    if [ -n "$summary_line" ]; then
        events=$(echo "$summary_line" | awk '{print $2}')
        lost=$(echo "$summary_line" | awk '{print $4}')
    fi
    if [ -s "$dat" ]; then
        bytes=$(stat -c %s "$dat")
        nice -n "$NICE" "$WBREPLAY" check "$dat" --format json > "$json" 2>> "$log"
        if [ -s "$json" ]; then
            read -r violated inconclusive divergences < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["summary"]["violated"], d["summary"]["inconclusive"], d["divergences"])' "$json")
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$m" "$result" "$events" "$lost" \
        "$bytes" "$violated" "$inconclusive" "$divergences" "$seconds" >> "$summary"
    echo "   $result, $events events, $lost lost, violated $violated, inconclusive $inconclusive, divergences $divergences, ${seconds}s"
done
echo "summary: $summary"

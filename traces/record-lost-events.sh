#!/usr/bin/env bash
# Records traces/lost-events/lost_events.{dat,txt}: the fio job workloads/lost_events.fio on a fresh
# loop-mounted ext4, through `wbreplay record` with a deliberately small per-CPU ring
# buffer (BUFFER_KB, default 512) so that it overruns and the trace.dat keeps
# missed-events marks; it is stored zstd-compressed (`trace-cmd convert`) and the .txt is
# `trace-cmd report` of it.
#   traces/record-lost-events.sh [WBREPLAY_BINARY]     (root, fio, mkfs.ext4, trace-cmd)
# The mount, the loop device and the image are removed on every way out; the recorder
# removes its own tracefs instance.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../.build/debug/wbreplay}")
name=${NAME:-lost_events}
out=$here/lost-events
mkdir -p "$out"
. "$here/scratch-ext4.sh"
scratch_ext4 256M
(cd "$mnt" && "$bin" record --mount "$mnt" --buffer-kb "${BUFFER_KB:-512}" -o "$work/t.dat" -- \
    fio --output=/dev/null "$here/workloads/lost_events.fio")
trace-cmd convert -i "$work/t.dat" -o "$out/$name.dat" --compression zstd >/dev/null
trace-cmd report -i "$out/$name.dat" > "$out/$name.txt" 2>/dev/null
echo "$name: $(stat -c %s "$out/$name.dat") bytes dat, $(wc -l < "$out/$name.txt") report lines"

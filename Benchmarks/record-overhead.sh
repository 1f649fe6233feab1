#!/usr/bin/env bash
# Issue 3, point 3: what recording costs a write-heavy workload.
# Runs the fio job traces/workloads/fio_mixed.fio on a fresh loop-mounted ext4
# without recording, then under `wbreplay record --mount` (writeback preset,
# default clock and buffer), and prints throughput, the overhead, the event
# rate and the events lost at that rate. Needs root, fio, mkfs.ext4.
#   Benchmarks/record-overhead.sh [WBREPLAY_BINARY]     (ROUNDS=N to repeat, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${WBREPLAY:-.build/release/wbreplay}}
[ -x "$bin" ] || bin=.build/debug/wbreplay
rounds=${ROUNDS:-2}
job=$PWD/traces/workloads/fio_mixed.fio
if [ "$(id -u)" != 0 ]; then echo "record-overhead: SKIPPED (needs root)"; exit 0; fi
for t in fio mkfs.ext4 python3; do command -v $t >/dev/null || { echo "record-overhead: SKIPPED ($t missing)"; exit 0; }; done
[ -x "$bin" ] || { echo "record-overhead: build wbreplay first (make release)" >&2; exit 2; }
bin=$(realpath "$bin")

. traces/scratch-ext4.sh
scratch_ext4 2G

# Sum of all jobs' write bandwidth (MiB/s) and IOPS from fio's JSON.
fio_summary() {
  python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
bw=sum(x["write"]["bw_bytes"] for x in j["jobs"])/2**20
iops=sum(x["write"]["iops"] for x in j["jobs"])
print(f"{bw:.1f} {iops:.0f}")' "$1"
}

printf '%-10s %10s %10s %12s %10s %8s %10s\n' run MiB/s IOPS events events/s lost trace
for round in $(seq "$rounds"); do
  rm -rf "${mnt:?}"/*
  (cd "$mnt" && fio --output-format=json --output="$work/base.json" "$job" >/dev/null)
  read -r bw0 iops0 < <(fio_summary "$work/base.json")
  printf '%-10s %10s %10s %12s %10s %8s %10s\n' "plain-$round" "$bw0" "$iops0" - - - -

  rm -rf "${mnt:?}"/*
  start=$(date +%s.%N)
  (cd "$mnt" && "$bin" record --mount "$mnt" -o "$work/t.dat" -- \
      fio --output-format=json --output="$work/rec.json" "$job") 2> "$work/rec.err" >/dev/null \
      || { echo "record failed: $(cat "$work/rec.err")" >&2; exit 2; }
  secs=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
  read -r bw1 iops1 < <(fio_summary "$work/rec.json")
  # wbreplay's summary: "wbreplay: N events, M lost, SIZE in FILE"
  summary=$(grep '^wbreplay:' "$work/rec.err" | tail -1)
  events=$(sed -E 's/^wbreplay: ([0-9]+) events.*/\1/' <<<"$summary")
  lost=$(sed -E 's/.* ([0-9]+) lost.*/\1/' <<<"$summary")
  size=$(du -h "$work/t.dat" | cut -f1)
  rate=$(python3 -c "import sys; print(f'{int(sys.argv[1])/float(sys.argv[2]):.0f}')" "$events" "$secs")
  printf '%-10s %10s %10s %12s %10s %8s %10s\n' "record-$round" "$bw1" "$iops1" "$events" "$rate" "$lost" "$size"
  python3 -c "import sys; b,r=float(sys.argv[1]),float(sys.argv[2]); print(f'           overhead: {100*(b-r)/b:.1f}% of write throughput')" "$bw0" "$bw1"
  rm -f "$work/t.dat"
done
kb=$("$bin" record --help | grep -e '--buffer-kb' | grep -o 'default: [0-9]*' | cut -d' ' -f2)
echo "default buffer ${kb} KB per CPU, $(nproc) CPUs, kernel $(uname -r), job $(basename "$job")"

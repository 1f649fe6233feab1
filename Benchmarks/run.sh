#!/usr/bin/env bash
# make bench: wbreplay against `trace-cmd report` on the same large traces, in the same run.
# Records the traces on first use (root, tracefs, loop devices, fio) into $BENCH_DIR.
# Prints wall time, peak RSS and the ratios the README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-.build-bench-traces}
WBR=${WBR:-$PWD/.build/release/wbreplay}
mkdir -p "$BENCH_DIR"

record() { # NAME RUNTIME_SECONDS
  local name=$1 runtime=$2
  [ -s "$BENCH_DIR/$name.dat" ] && [ -s "$BENCH_DIR/$name.txt" ] && return 0
  sed "s/^runtime=.*/runtime=$runtime/" traces/workloads/fio_mixed.fio > "$BENCH_DIR/$name.fio"
  echo "recording $name ($runtime s of fio_mixed) …" >&2
  OUT=$PWD/$BENCH_DIR FS_SIZE=2G BUF_KB=${BUF_KB:-400000} \
    bash traces/capture.sh "$name" fio --output=/dev/null "$PWD/$BENCH_DIR/$name.fio" >&2
}

measure() { # CMD... ; prints "seconds peak_kib"
  local t; t=$(mktemp)
  /usr/bin/time -o "$t" -f "%e %M" "$@" >/dev/null 2>&1 || true
  tail -1 "$t"; rm -f "$t"
}

# explore: states/s of the exhaustive search (no recording needed). The seed-002
# fsync race (fsync-vs-conversion under ext4-3.6) must be found well under 1 s.
explore_bench() { # SCENARIO PROFILE
  { "$WBR" explore --scenario "$1" --profile "$2" --format json 2>/dev/null || true; } | python3 -c '
import json, sys
d = json.load(sys.stdin)
found = ",".join("%s (found after %.3f s)" % (v["rule"], v["found_after_seconds"]) for v in d["violations"]) or "none"
print("%-28s %-12s %8d %9.3f %10.0f  %s" % (d["scenario"], d["profile"], d["states"], d["seconds"], d["states_per_second"], found))'
}
printf "%-28s %-12s %8s %9s %10s  %s\n" "explore scenario" "profile" "states" "seconds" "states/s" "violations"
explore_bench fsync-vs-conversion ext4-3.6
explore_bench fsync-vs-conversion ext4-6.x
explore_bench freeze-vs-mmap ext4-2.6.39
explore_bench freeze-vs-mmap ext4-6.x
[ "${BENCH:-all}" = explore ] && exit 0

# BENCH_TRACES: which traces to record and time; "small large huge" adds a
# 40 s recording (about 8 M events) for the memory-stays-flat figures.
BENCH_TRACES=${BENCH_TRACES:-small large}
for name in $BENCH_TRACES; do
  case $name in small) record small 2 ;; large) record large 8 ;; big) record big 30 ;; huge) record huge 40 ;;
    *) echo "unknown trace $name (small, large, big, huge)" >&2; exit 2 ;; esac
done

printf "%-44s %10s %10s %12s\n" "command" "events" "seconds" "peak RSS MiB"
for name in $BENCH_TRACES; do
  dat=$BENCH_DIR/$name.dat txt=$BENCH_DIR/$name.txt
  events=$("$WBR" stats --format json "$dat" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  read -r tc_s tc_k <<<"$(measure trace-cmd report "$dat")"
  read -r st_s st_k <<<"$(measure "$WBR" stats --no-graph "$dat")"
  read -r sg_s sg_k <<<"$(measure "$WBR" stats "$dat")"
  read -r tx_s tx_k <<<"$(measure "$WBR" stats --no-graph "$txt")"
  read -r ev_s ev_k <<<"$(measure "$WBR" events --format jsonl "$dat")"
  read -r ck_s ck_k <<<"$(measure "$WBR" check "$dat")"
  read -r df_s df_k <<<"$(measure "$WBR" diff --all-profiles "$dat")"
  mid=$((events / 2))
  read -r wy_s wy_k <<<"$(measure "$WBR" why --event "$mid" "$dat")"
  read -r ga_s ga_k <<<"$(measure "$WBR" graph --around "$mid" "$dat")"
  txt_mb=$(( $(stat -L -c %s "$txt") / 1000000 ))
  printf "%-44s %10s %10s %12s\n" "trace-cmd report $name.dat" "$events" "$tc_s" "$((tc_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay stats --no-graph $name.dat" "$events" "$st_s" "$((st_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay stats $name.dat (with graph)" "$events" "$sg_s" "$((sg_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay stats --no-graph $name.txt (${txt_mb} MB)" "$events" "$tx_s" "$((tx_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay events --format jsonl $name.dat" "$events" "$ev_s" "$((ev_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay check $name.dat" "$events" "$ck_s" "$((ck_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay diff --all-profiles $name.dat" "$events" "$df_s" "$((df_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay why --event $mid $name.dat" "$events" "$wy_s" "$((wy_k / 1024))"
  printf "%-44s %10s %10s %12s\n" "wbreplay graph --around $mid $name.dat" "$events" "$ga_s" "$((ga_k / 1024))"
  python3 - "$tc_s" "$st_s" "$sg_s" "$tx_s" "$txt_mb" "$events" "$ck_s" "$df_s" "$wy_s" "$ga_s" <<'PY'
import sys
tc, st, sg, tx, mb, n, ck, df, wy, ga = map(float, sys.argv[1:])
print(f"  check replays {n/max(ck,1e-3)/1e6:.2f} M events/s, {tc/max(ck,1e-3):.1f}x faster than trace-cmd report")
print(f"  diff --all-profiles takes {df/max(ck,1e-3):.2f}x the time of check ({ck/max(tc,1e-3):.2f} and {df/max(tc,1e-3):.2f} of trace-cmd report)")
print(f"  counting stats is {tc/max(st,1e-3):.1f}x faster than trace-cmd report on trace.dat "
      f"({n/max(st,1e-3)/1e6:.2f} M events/s); with the graph {tc/max(sg,1e-3):.1f}x "
      f"({n/max(sg,1e-3)/1e6:.2f} M events/s); text ingest {mb/max(tx,1e-3):.0f} MB/s")
print(f"  against trace-cmd report: stats with the graph {sg/max(tc,1e-3):.2f}, why {wy/max(tc,1e-3):.2f}, "
      f"graph --around {ga/max(tc,1e-3):.2f}")
PY
done

if [ -z "${SKIP_RECORD_BENCH:-}" ]; then
  bash Benchmarks/record-overhead.sh
fi

#!/bin/bash
# ship.sh OUT DEST  -- copies the lab's results (OUT/RELEASE/..., from guest.sh) into
# DEST/RELEASE/: the recordings matrix.sh names (SHIP_OTHER_WORKLOADS), each
# rewritten as trace.dat v7 with zstd-compressed buffers (`trace-cmd convert`: the
# same events, a fraction of the size); the kernel's event formats (formats.zst);
# the I/O-error evidence (eio/*.evidence); recordings.tsv (every recording made:
# configuration, workload, exit status, seconds). The text twin of a recording is
# `trace-cmd report -t` of its .dat: the tests make it (the text is 10x the size).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/matrix.sh"
out=$1; dest=$2
for kdir in "$out"/*/; do
  [ -f "$kdir/release" ] || continue
  rel=$(cat "$kdir/release"); d=$dest/$rel
  mkdir -p "$d"
  [ -f "$kdir/formats" ] && zstd -q -19 -f "$kdir/formats" -o "$d/formats.zst"
  : > "$d/recordings.tsv.new"
  for done in "$kdir"/*/*.done; do
    [ -f "$done" ] || continue
    sub=$(basename "$(dirname "$done")"); name=$(basename "$done" .done)
    printf '%s\t%s\t%s\n' "$sub" "$name" "$(cat "$done")" >> "$d/recordings.tsv.new"
    dat=${done%.done}.dat
    [ -f "$dat" ] || continue
    case $sub in
      default|eio) ;;
      *) [[ " ${SHIP_OTHER_WORKLOADS[*]} " == *" $name "* ]] || continue;;
    esac
    mkdir -p "$d/$sub"
    [ -f "$d/$sub/$name.dat" ] && [ "$d/$sub/$name.dat" -nt "$dat" ] && continue
    trace-cmd convert --compression zstd -i "$dat" -o "$d/$sub/$name.dat" >/dev/null 2>&1 ||
      { echo "ship: trace-cmd convert failed for $dat" >&2; rm -f "$d/$sub/$name.dat"; continue; }
    [ -f "${dat%.dat}.evidence" ] && cp "${dat%.dat}.evidence" "$d/$sub/$name.evidence"
  done
  # A run of some steps (LAB_STEPS) replaces their lines and keeps the others'.
  if [ -f "$d/recordings.tsv" ]; then
    awk -F'\t' 'NR == FNR { seen[$1 FS $2] = 1; print; next } !(($1 FS $2) in seen)' \
      "$d/recordings.tsv.new" "$d/recordings.tsv" > "$d/recordings.tsv.merged"
    mv "$d/recordings.tsv.merged" "$d/recordings.tsv.new"
  fi
  sort "$d/recordings.tsv.new" > "$d/recordings.tsv"; rm -f "$d/recordings.tsv.new"
  echo "ship: $rel: $(find "$d" -name '*.dat' | wc -l) recordings, $(du -sh "$d" | cut -f1)" >&2
done

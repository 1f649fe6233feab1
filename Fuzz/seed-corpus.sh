#!/usr/bin/env bash
# Builds the seed corpora for the fuzz targets from the real traces in traces/.
#   Fuzz/seed-corpus.sh OUT_DIR      -> OUT_DIR/text, OUT_DIR/dat
# Text seeds: small slices (header, first lines, slices from the middle) of every
# .txt, each prefixed with the dialect byte the text target reads first (0: tracefs
# `trace` file, 1: `trace-cmd report`). Dat seeds: small trace.dat files made from
# each .dat by Fuzz/small-dat-seeds.py (the formats of the events present, one or
# two pages per CPU, plain and zstd-compressed, top level and instance: 30-60 KB,
# so that libtracecmd opens hundreds per second instead of one), and every .dat's
# first 64 KiB (the headers of a real file, cut).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
traces="$here/../traces"
out=${1:?usage: seed-corpus.sh OUT_DIR}
mkdir -p "$out/text" "$out/dat"
for f in "$traces"/*.txt; do
    name=$(basename "$f" .txt)
    lines=$(wc -l < "$f")
    { printf '\0'; head -n 40 "$f"; } > "$out/text/$name-head"
    { printf '\1'; head -n 40 "$f"; } > "$out/text/$name-head-report"
    for part in 4 2; do
        start=$((lines / part))
        { printf '\0'; head -n 11 "$f"; sed -n "${start},$((start + 30))p" "$f"; } > "$out/text/$name-mid$part"
        { printf '\1'; sed -n "${start},$((start + 30))p" "$f"; } > "$out/text/$name-mid$part-report"
    done
done
for f in "$traces"/*.dat; do
    name=$(basename "$f" .dat)
    # Real `trace-cmd report` output, when trace-cmd is installed.
    if command -v trace-cmd >/dev/null; then
        { printf '\1'; (trace-cmd report -i "$f" 2>/dev/null || true) | head -n 40 || true; } > "$out/text/$name-trace-cmd-report"
    fi
    python3 "$here/small-dat-seeds.py" "$f" "$out/dat"
    head -c 65536 "$f" > "$out/dat/$name-64k"
done

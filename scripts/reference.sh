#!/usr/bin/env bash
# Regenerates the committed reference results, results/reference/<name>/, for
# every scenario listed in results/reference/STUDIES: runs it (a fixed seed,
# so the CSV files come out byte-identical), drops the per-function tables
# (functions.csv, large for trace workloads and not used by the report), and
# writes its report (report.md, report.html, plots/).
#
#   bash scripts/reference.sh            # all studies
#   bash scripts/reference.sh NAME...    # only these (scenario file stems)
#
# tests/reference.rs reruns each study and compares its sweep.csv with the
# committed one, number by number.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/coldsim"
grep -v -e '^#' -e '^[[:space:]]*$' results/reference/STUDIES | while read -r scenario; do
    name="$(basename "$scenario" .toml)"
    if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
        continue
    fi
    out="results/reference/$name"
    echo "== $name ($scenario)"
    "$bin" run "$scenario" --out "$out" --force --quiet
    find "$out" -name functions.csv -delete
    "$bin" report "$out" --force --quiet
    du -sh "$out"
done

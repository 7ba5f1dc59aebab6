#!/usr/bin/env bash
# Proves that a change moves no result: runs every shipped scenario
# (scenarios/*.toml, notebooks/scenarios/*.toml, which include every
# results/reference study) and the capacity plan of the notebooks with two
# builds of coldsim, the working tree's and an earlier commit's, and compares
# every CSV file they write byte for byte.
#
#   bash scripts/same-results.sh REV          # REV: the commit to compare with
#   bash scripts/same-results.sh REV NAME...  # only these scenario stems
#
# Both builds run the working tree's scenario files, so REV must accept the
# same keys. Exit 0 when every CSV file is identical, 1 otherwise (the
# differing files are listed). The earlier build is kept in
# target/same-results/REV between calls.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 REV [NAME...]" >&2; exit 2; }
rev=$(git rev-parse --verify "$1^{commit}")
shift
target="${CARGO_TARGET_DIR:-target}"
old_tree="$target/same-results/$rev"
if [ ! -x "$old_tree/bin/coldsim" ]; then
    rm -rf "$old_tree/src"
    mkdir -p "$old_tree"
    git worktree add --detach -f "$old_tree/src" "$rev" >/dev/null
    (cd "$old_tree/src" && CARGO_TARGET_DIR="$PWD/../target" cargo build --release --quiet)
    mkdir -p "$old_tree/bin"
    cp "$old_tree/target/release/coldsim" "$old_tree/bin/coldsim"
    git worktree remove --force "$old_tree/src"
fi
cargo build --release --quiet
new="$target/release/coldsim"
old="$old_tree/bin/coldsim"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

scenarios=(scenarios/*.toml notebooks/scenarios/*.toml)
ran=0
for side in old new; do
    bin=${!side}
    for s in "${scenarios[@]}"; do
        name=$(basename "$s" .toml)
        if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
            continue
        fi
        "$bin" run "$s" --out "$work/$side/$name" --quiet >/dev/null
        [ "$side" = new ] && ran=$((ran + 1))
    done
    if [ $# -eq 0 ]; then
        "$bin" plan notebooks/scenarios/capacity.toml --slo "rejected_fraction < 1%" \
            --vary hosts.count --min 1 --max 12 --out "$work/$side/plan" --quiet >/dev/null
    fi
done

status=0
files=0
while IFS= read -r f; do
    files=$((files + 1))
    if ! cmp -s "$work/old/$f" "$work/new/$f"; then
        echo "DIFFERS: $f"
        status=1
    fi
done < <(cd "$work/old" && find . -name '*.csv' | sort)
new_files=$(cd "$work/new" && find . -name '*.csv' | wc -l)
if [ "$new_files" -ne "$files" ]; then
    echo "DIFFERS: $files CSV files from $rev, $new_files from the working tree"
    status=1
fi
if [ $status -eq 0 ]; then
    plan=""
    [ $# -eq 0 ] && plan=" and a plan"
    echo "identical: $files CSV files from $ran scenarios$plan ($rev vs working tree)"
fi
exit $status

#!/usr/bin/env bash
# Runs the Jupyter notebooks in notebooks/ headless on fresh, small results.
#
# 1. Makes a Python venv (default /tmp/coldsim-nb-venv; NB_VENV to change)
#    with the pinned notebooks/requirements.txt from PyPI (Python 3.11:
#    PYTHON to change; an existing venv is reused, pip only checks it).
# 2. Builds coldsim (release) and writes small results into a temporary
#    folder: the keep-alive sweep notebooks/scenarios/policy-small.toml, a
#    `coldsim plan` of notebooks/scenarios/capacity.toml (known answer:
#    5 hosts), and a sweep of the same scenario over hosts.count 1..8.
# 3. Executes both notebooks with `jupyter nbconvert --to notebook
#    --execute` into that folder, pointing them at the results through
#    their environment variables. Any cell that raises fails the script.
#
# The committed notebooks keep their outputs cleared; the executed copies
# go to the temporary folder (KEEP=1 keeps it, and prints where).
#
# Usage: bash scripts/ci/notebooks.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
t0=$SECONDS
say() { echo "notebooks: $*"; }

venv=${NB_VENV:-/tmp/coldsim-nb-venv}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || { say "no $python; set PYTHON to a Python 3.11"; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
    say "creating the venv $venv with $($python --version)"
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
say "requirements ready in $((SECONDS - t0)) s"

t1=$SECONDS
cargo build --release --quiet --bin coldsim
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
coldsim=$target/release/coldsim
[ -x "$coldsim" ] || { say "no binary at $coldsim"; exit 1; }
say "coldsim built in $((SECONDS - t1)) s"

t2=$SECONDS
work=$(mktemp -d /tmp/coldsim-notebooks.XXXXXX)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
"$coldsim" run notebooks/scenarios/policy-small.toml --out "$work/policy" --quiet
"$coldsim" plan notebooks/scenarios/capacity.toml --slo "rejected_fraction < 1%" \
    --vary hosts.count --min 1 --max 12 --out "$work/plan" --quiet
{
    cat notebooks/scenarios/capacity.toml
    printf '\n[sweep]\nreplicates = 5\n"hosts.count" = [1, 2, 3, 4, 5, 6, 7, 8]\n'
} >"$work/capacity-sweep.toml"
"$coldsim" run "$work/capacity-sweep.toml" --out "$work/hosts-sweep" --quiet
grep -q '"answer": 5' "$work/plan/manifest.json" || { say "coldsim plan did not find 5 hosts"; exit 1; }
say "results written in $((SECONDS - t2)) s"

t3=$SECONDS
export COLDSIM_SWEEP=$work/policy COLDSIM_PLAN=$work/plan COLDSIM_HOSTS_SWEEP=$work/hosts-sweep
export MPLBACKEND=Agg
(
    cd notebooks
    "$venv/bin/jupyter" nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=python3 \
        --output-dir "$work/executed" policy-comparison.ipynb capacity-planning.ipynb
)
say "notebooks executed in $((SECONDS - t3)) s"
say "ok in $((SECONDS - t0)) s (requirements, build, results, notebooks)"

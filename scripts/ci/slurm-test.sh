#!/usr/bin/env bash
# Tests scripts/slurm/sweep.sbatch on a real one-node Slurm cluster.
#
# Installs Debian's Slurm and MUNGE packages if they are missing, writes a
# single-node slurm.conf in a temporary folder, starts munged, slurmctld and
# slurmd (as root, without systemd and without cgroups: proctrack/linuxproc,
# task/none), submits the sbatch script as an array of N tasks with
# `sbatch --wait`, merges the shard folders with `coldsim merge` and checks
# that the merge equals one `coldsim run` of the same sweep byte for byte
# (every file but manifest.json and the .coldsim marker, which names the
# command that wrote the folder). The daemons it started are stopped at the
# end.
#
# If Slurm cannot be set up or run here, it says exactly why and falls back
# to running the same sbatch script as N local processes that set
# SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT themselves, then merges and
# compares in the same way. Set SLURM_TEST_REQUIRE=1 to fail instead, or
# SLURM_TEST_LOCAL=1 to skip Slurm and test only the local fallback.
#
# Usage: bash scripts/ci/slurm-test.sh        (as root; N=3 shards by default)
#        N=4 KEEP=1 bash scripts/ci/slurm-test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
n=${N:-3}
t_start=$SECONDS

say() { echo "slurm-test: $*"; }

say "building coldsim (release; already built by the examples step)"
cargo build --release --quiet --bin coldsim
say "built in $((SECONDS - t_start)) s"
t_build=$SECONDS
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
coldsim=$target/release/coldsim
[ -x "$coldsim" ] || { say "no binary at $coldsim"; exit 1; }

work=$(mktemp -d /tmp/coldsim-slurm-test.XXXXXX)
started_pids=()
cleanup() {
    local rc=$? pid i
    # Stop the daemons this script started (slurmd first), and wait for
    # them to exit before removing their state folders.
    for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
        kill "${started_pids[i]}" 2>/dev/null || true
    done
    for pid in "${started_pids[@]}"; do
        for i in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
    done
    if [ -n "${KEEP:-}" ]; then
        say "kept $work"
    else
        rm -rf "$work" || true
    fi
    exit "$rc"
}
trap cleanup EXIT

# A small sweep: 3 points x 2 replicates = 6 runs of 10 simulated minutes.
cat >"$work/sweep.toml" <<'TOML'
# slurm-test: a small sweep for scripts/ci/slurm-test.sh
name = "slurm-test"
seed = 3
duration = "10m"

[hosts]
count = 2
memory_mb = 2048

[[functions]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "500ms" }
exec = { dist = "exponential", mean = "60ms" }
arrivals = { kind = "poisson", rate = "8/s" }

[[functions]]
name = "batch"
exec = { dist = "uniform", min = "1s", max = "3s" }
arrivals = { kind = "poisson", rate = "10/min" }

[sweep]
replicates = 2
"keepalive" = [{ kind = "fixed", ttl = "5s" }, { kind = "none" }, { kind = "fixed", ttl = "2m" }]
TOML

say "single run"
"$coldsim" run "$work/sweep.toml" --out "$work/single" --quiet

# --- Slurm -----------------------------------------------------------------
reason=""

pidfile_pid() { [ -s "$1" ] && cat "$1"; }

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        say "munged already running"
        return 0
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    if ! runuser -u munge -- /usr/sbin/munged 2>"$work/munged.err"; then
        reason="munged did not start: $(tr '\n' ' ' <"$work/munged.err")"
        return 1
    fi
    local pid
    pid=$(pidfile_pid /run/munge/munged.pid) && started_pids+=("$pid")
    munge -n </dev/null | unmunge >/dev/null 2>&1 || {
        reason="munged started but munge | unmunge fails"
        return 1
    }
}

write_conf() {
    mkdir -p "$work/slurm/state" "$work/slurm/spool"
    cat >"$work/slurm/slurm.conf" <<CONF
# One node, no systemd, no cgroups, no accounting: for CI only.
ClusterName=coldsim-ci
SlurmctldHost=localhost
SlurmctldPort=17817
SlurmdPort=17818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/slurmctld.log
SlurmdLogFile=$work/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$work/slurm/slurm.conf
}

try_slurm() {
    if [ -n "${SLURM_TEST_LOCAL:-}" ]; then
        reason="SLURM_TEST_LOCAL is set"
        return 1
    fi
    if [ "$(id -u)" != 0 ]; then
        reason="not root: cannot install packages or start munged, slurmctld and slurmd"
        return 1
    fi
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
        ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
        local t=$SECONDS
        say "installing slurmctld slurmd slurm-client munge (apt-get)"
        if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends slurmctld slurmd slurm-client munge; } \
            >"$work/apt.log" 2>&1; then
            reason="apt-get install failed: $(tail -n 3 "$work/apt.log" | tr '\n' ' ')"
            return 1
        fi
        say "installed in $((SECONDS - t)) s"
    fi
    start_munge || return 1
    write_conf
    if ! slurmctld -c 2>"$work/slurmctld.err"; then
        reason="slurmctld did not start: $(tr '\n' ' ' <"$work/slurmctld.err")"
        return 1
    fi
    local pid i
    sleep 1
    pid=$(pidfile_pid "$work/slurm/slurmctld.pid") && started_pids+=("$pid")
    if ! slurmd -N localhost 2>"$work/slurmd.err"; then
        reason="slurmd did not start: $(tr '\n' ' ' <"$work/slurmd.err")"
        return 1
    fi
    sleep 1
    pid=$(pidfile_pid "$work/slurm/slurmd.pid") && started_pids+=("$pid")
    for i in $(seq 60); do
        if [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; then
            break
        fi
        if [ "$i" = 60 ]; then
            reason="the node did not become idle in 60 s: sinfo says '$(sinfo -h -o %t 2>&1)'; slurmd.log: $(tail -n 3 "$work/slurm/slurmd.log" 2>/dev/null | tr '\n' ' ')"
            return 1
        fi
        sleep 1
    done
    say "slurm is up ($(sinfo -h -o '%P %D %t %c CPUs'))"
    local t=$SECONDS
    say "sbatch --wait --array=0-$((n - 1)) scripts/slurm/sweep.sbatch"
    if ! timeout 900 sbatch --wait --array="0-$((n - 1))" --chdir="$work" \
        --output="$work/task-%a.out" --export=ALL,COLDSIM="$coldsim" \
        "$root/scripts/slurm/sweep.sbatch" "$work/sweep.toml" "$work/shards"; then
        reason="the array job failed: $(cat "$work"/task-*.out 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    say "array job of $n tasks done in $((SECONDS - t)) s (sbatch --wait polls about every 10 s)"
    cat "$work"/task-*.out
}

mode=slurm
if ! try_slurm; then
    mode=local
    say "SLURM NOT USED: $reason"
    if [ -n "${SLURM_TEST_REQUIRE:-}" ]; then
        exit 1
    fi
    say "falling back to $n local processes running the same sbatch script"
    rm -rf "$work/shards"
    pids=()
    for ((k = 0; k < n; k++)); do
        SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=$n COLDSIM=$coldsim \
            bash "$root/scripts/slurm/sweep.sbatch" "$work/sweep.toml" "$work/shards" \
            >"$work/task-$k.out" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || { cat "$work"/task-*.out; say "a local shard failed"; exit 1; }
    done
    cat "$work"/task-*.out
fi

# --- merge and compare -------------------------------------------------------
say "merge"
"$coldsim" merge --out "$work/merged" "$work"/shards/shard-*
cmp "$work/single/sweep.csv" "$work/merged/sweep.csv"
diff -r -x manifest.json -x .coldsim "$work/single" "$work/merged"
shards=$(grep -c '"folder"' "$work/merged/manifest.json")
[ "$shards" = "$n" ] || { say "merged manifest lists $shards shards, expected $n"; exit 1; }
say "OK ($mode): merge of $n shards equals the single run ($(($(wc -l <"$work/single/sweep.csv") - 1)) rows of sweep.csv, every run file); $((SECONDS - t_build)) s after the build"

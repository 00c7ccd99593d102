#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for the sharded-sweep integration test.
# Usage: cluster.sh NITROSIM SCENARIO WORKDIR SHARDS [nitrosim sweep arguments...]
# Starts munged, slurmctld and slurmd in the foreground (backgrounded by this script, stopped by
# PID on exit), submits a job array of SHARDS tasks each running one shard of the sweep, waits for
# it, and merges the shards into WORKDIR/merged. Everything lives under WORKDIR.
set -euo pipefail
nitrosim=$1; scenario=$2; work=$3; shards=$4; shift 4
mkdir -p "$work"/{state,spool,munge}
work=$(cd "$work" && pwd)

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# munge: a private key and socket, so nothing system-wide is touched.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
chmod 700 "$work/munge"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" \
    >"$work/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/munge/munge.sock" ] && break; sleep 0.1; done

cpus=$(nproc)
cat > "$work/slurm.conf" <<CONF
ClusterName=nitrosim
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=($!)

state=""
for _ in $(seq 300); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
    case "$state" in
        idle*) break ;;
        down*|drain*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
    esac
    sleep 0.1
done
if [[ "$state" != idle* ]]; then
    echo "slurm node never became idle (state: '$state')" >&2
    tail -n 20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
    exit 1
fi

last=$((shards - 1))
quoted=$(printf ' %q' "$@")
cat > "$work/shard.sbatch" <<JOB
#!/usr/bin/env bash
set -euo pipefail
"$nitrosim" sweep "$scenario" --quiet --jobs 1 --shard "\$SLURM_ARRAY_TASK_ID/$shards" --out "$work/shard-\$SLURM_ARRAY_TASK_ID"$quoted
JOB
if ! sbatch --wait --array="0-$last" --output="$work/job-%a.out" --error="$work/job-%a.err" "$work/shard.sbatch"; then
    echo "the job array failed:" >&2
    cat "$work"/job-*.err >&2 || true
    exit 1
fi
args=()
for k in $(seq 0 "$last"); do args+=("$work/shard-$k"); done
"$nitrosim" merge --out "$work/merged" "${args[@]}"

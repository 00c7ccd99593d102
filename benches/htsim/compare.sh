#!/usr/bin/env bash
# Side by side with htsim: the matched workload of issue #17, timed in interleaved rounds so both
# simulators see the same machine (this VM's speed varies by a third from minute to minute).
#
#   benches/htsim/compare.sh            # 3 rounds: htsim NDP, nitrosim SRD 1 flow/host, nitrosim TCP 20 flows/host
#   ROUNDS=5 EQDS=1 benches/htsim/compare.sh
#   HOSTS=128 benches/htsim/compare.sh  # also 2048: how the cost per crossing grows with the fabric
#   WARMUP=1 benches/htsim/compare.sh   # each measured run right after an unmeasured one of itself
#   SRD4=1 benches/htsim/compare.sh     # also nitrosim SRD with 4 flows per host (issue 17's 90 Gbps row)
#   NITROSIM=/tmp/nitrosim benches/htsim/compare.sh   # time this binary rather than building target/release/nitrosim
#   CPU=0 benches/htsim/compare.sh      # the core both simulators are pinned to with taskset (default 1)
#
# Gbps/host: the load each simulator put on a host's link to its ToR, on the wire (htsim: the
# bytes its host -> ToR Pipes carried, its packets' full size, over all hosts; nitrosim:
# `host_uplink_gbps_mean`, IP bytes plus Ethernet framing, over the links that carried anything;
# in a permutation every host sends). Crossings per second count packets whatever the load.
#
# Workload: 1024 hosts (HOSTS: 128, 1024 or 2048), leaf-spine of ToRs with 32 hosts and 32 spines,
# 100 Gbps links, 1 us per link, a permutation of long flows, 1 ms simulated, one core each.
# (htsim's switches take at most 96 ports, so its leaf-spine stops short of nitrosim's 8192 hosts.) Both count a link crossing as
# one packet leaving one physical link (host <-> ToR, ToR <-> spine): nitrosim's `link crossings`
# (ports with Ethernet framing, see the README), htsim's departures from the topology's Pipes (one
# Pipe per directional link; bench-counters.patch adds the counters and prints them at the end).
# Events: every event each simulator's queue dispatched (htsim's triggers, none here, apart).
#
# htsim is Broadcom/csg-htsim at a fixed commit, cloned and built under target/htsim (network
# needed once; HTSIM_SIM=/path/to/csg-htsim/sim uses a copy you have). Inputs: leaf_spine_N.topo
# (written for this comparison: htsim's built-in fat-tree has no such leaf-spine) and
# perm_N_long.cm (htsim's own `gen_permutation.py perm_N_long.cm N N 2000000000 0 1`:
# every host sends one 2 GB flow, none finishes within 1 ms). NDP runs with its defaults (9000 B
# packets, 15-packet window and queues) and `-strat perm` (spraying over the 32 spines).
#
# WARMUP=1 gives every run the same memory state. This VM's host takes back the memory a process
# frees, and a run's first touch of memory its host no longer backs waits for it
# (benches/scale_curve.sh says more). Without WARMUP a run's state depends on the run before it:
# bigger (warm) or smaller (mostly cold); with it, every measured run starts warm, for both
# simulators alike, and a round takes twice as long.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/benches/htsim
COMMIT=841d9e7be46bb968eece766aa4b6c044c7799f67
WORK=$ROOT/target/htsim
ROUNDS=${ROUNDS:-3}
HOSTS=${HOSTS:-1024}
case $HOSTS in
  128|1024|2048) ;;
  *) echo "HOSTS must be 128, 1024 or 2048 (the inputs under benches/htsim): $HOSTS" >&2; exit 2 ;;
esac
FABRIC=(--set "fabric.racks=$((HOSTS / 32))" --set fabric.hosts_per_rack=32 --set fabric.spines=32
        --set "instances.h.count=$HOSTS")
CPU=${CPU:-1}
WARMUP=${WARMUP:-0}
[[ $WARMUP =~ ^[01]$ ]] || { echo "WARMUP: 0 or 1, not $WARMUP" >&2; exit 2; }
if [ -z "${NITROSIM:-}" ]; then
  cargo build --release --quiet   # nothing to do when up to date; never time a stale binary
  NITROSIM=$ROOT/target/release/nitrosim
fi

# The build is kept with the commit and patch it was made from; either changing rebuilds it.
STAMP="$COMMIT $(cksum < "$HERE/bench-counters.patch")"
if [ ! -x "$WORK/build/datacenter/htsim_ndp" ] || [ "$(cat "$WORK/build/STAMP" 2>/dev/null)" != "$STAMP" ]; then
  mkdir -p "$WORK"
  if [ -z "${HTSIM_SIM:-}" ]; then
    [ -d "$WORK/csg-htsim" ] || git clone --quiet https://github.com/Broadcom/csg-htsim "$WORK/csg-htsim"
    git -C "$WORK/csg-htsim" checkout --quiet "$COMMIT"
    HTSIM_SIM=$WORK/csg-htsim/sim
  fi
  rm -rf "$WORK/build"
  cp -a "$HTSIM_SIM" "$WORK/build"
  (cd "$WORK/build" && patch -p1 --forward --quiet < "$HERE/bench-counters.patch")
  if ! { (cd "$WORK/build" && make -j2 libhtsim.a) && (cd "$WORK/build/datacenter" && make -j2 htsim_ndp htsim_eqds); } \
      > "$WORK/build.log" 2>&1; then
    echo "building htsim failed; see $WORK/build.log" >&2
    exit 1
  fi
  echo "$STAMP" > "$WORK/build/STAMP"
fi

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# One htsim run: prints "name wall_s events crossings rss_mib gbps_per_host_link".
htsim() {
  local variant=$1 run=$SCRATCH/htsim bin args
  rm -rf "$run" && mkdir "$run"
  case $variant in
    ndp) bin=$WORK/build/datacenter/htsim_ndp; args=(-nodes "$HOSTS" -strat perm) ;;
    eqds) bin=$WORK/build/datacenter/htsim_eqds; args=(-mtu 9000) ;;
  esac
  if ! (cd "$run" && /usr/bin/time -f '%e %M' -o time.txt taskset -c "$CPU" "$bin" \
     -topo "$HERE/leaf_spine_$HOSTS.topo" -tm "$HERE/perm_${HOSTS}_long.cm" -end 1000 "${args[@]}" \
     -o "$run/logout.dat" > out.txt 2>&1); then
    echo "htsim-$variant failed:" >&2; tail -5 "$run/out.txt" >&2; return 1
  fi
  local bench wall rss
  bench=$(grep -o 'BENCH .*' "$run/out.txt") || { echo "htsim-$variant printed no BENCH line" >&2; return 1; }
  read -r wall rss < "$run/time.txt"
  echo "$bench" | awk -v n="htsim-$variant" -v w="$wall" -v r="$rss" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s %s %d %d %.1f %.1f\n", n, w, v["events"], v["crossings"], r / 1024, v["host_up_bytes"] * 8 / 1e6 / v["hosts"] }'
}

# One nitrosim run: the same line. Wall time is the whole process, as for htsim.
nitrosim() {
  local name=$1; shift
  local wall rss
  if ! /usr/bin/time -f '%e %M' -o "$SCRATCH/time.txt" taskset -c "$CPU" "$NITROSIM" bench \
       benches/permutation-1024.ron --set 'variants=[]' --set duration=1ms "${FABRIC[@]}" "$@" \
       > "$SCRATCH/out.txt" 2> "$SCRATCH/err.txt"; then
    echo "$name failed:" >&2; cat "$SCRATCH/err.txt" >&2; return 1
  fi
  read -r wall rss < "$SCRATCH/time.txt"
  awk -v n="$name" -v w="$wall" -v r="$rss" 'NR == 2 { printf "%s %s %d %d %.1f %s\n", n, w, $2, $3, r / 1024, ($14 == "" ? "n/a" : $14) }' \
    "$SCRATCH/out.txt"
}

# One measured run (htsim or nitrosim and its arguments); with WARMUP=1 an unmeasured one first.
measure() {
  [ "$WARMUP" = 0 ] || "$@" > /dev/null
  "$@"
}

# The machine both ran on, and its memory's speed just before (nitrosim's own probe, as
# benches/scale_curve.sh prints it): rates from two machines, or two spells of one, differ.
. "$ROOT/benches/probe_format.sh"
if probe=$("$NITROSIM" memory-probe 2> /dev/null); then
  machine=$(echo "$probe" | probe_machine)
  [ -z "$machine" ] || echo "machine: $machine"
  echo "memory probe before the rounds (ns per random dependent load by buffer size; a line per 4 KiB page; random lines asked for ahead):$(echo "$probe" | probe_sizes)"
else
  echo "no memory probe ($NITROSIM predates \`nitrosim memory-probe\`)"
fi
printf '%-22s %8s %14s %14s %9s %14s %9s %10s\n' run "wall s" events crossings ev/cross "crossings/s" "RSS MiB" "Gbps/host"
for round in $(seq "$ROUNDS"); do
  {
    measure htsim ndp
    [ -z "${EQDS:-}" ] || measure htsim eqds
    measure nitrosim nitrosim-srd-1-flow
    [ -z "${SRD4:-}" ] || measure nitrosim nitrosim-srd-4-flows --set workloads.perm.flows_per_instance=4
    measure nitrosim nitrosim-tcp-20-flows --set instances.h.enis.eth0.ena_srd_enabled=false \
      --set workloads.perm.flows_per_instance=20
  } | awk -v round="$round" '{ printf "%-22s %8.2f %14d %14d %9.2f %12.3f M %9.1f %10s\n", $1, $2, $3, $4, $3 / $4, $4 / $2 / 1e6, $5, $6 }'
done

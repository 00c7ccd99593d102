#!/usr/bin/env bash
# The scale curve of issue #17: the permutation workload of benches/permutation-1024.ron on
# leaf-spine fabrics from 128 to 8192 hosts, each variant in its own process (so the peak RSS is
# that run's), one core, and a table of what a link crossing costs as the fabric grows.
#
#   benches/scale_curve.sh                      # 128 .. 8192 hosts, SRD 1 flow/host and TCP 20 flows/host
#   HOSTS="128 1024" DURATION=50us benches/scale_curve.sh
#   RUNS=3 benches/scale_curve.sh              # minimum wall time of 3 runs per point
#
# Columns: hosts, run, simulated us, wall s per simulated ms, link crossings per wall second (one
# packet over one physical link: NIC <-> ToR, ToR <-> spine), events per crossing, wall ns per
# crossing, peak RSS (MiB). Fabrics are non-blocking: 32 hosts per ToR and 32 spines up to 1024
# hosts, 64 and 64 above (as benches/scale-8192.ron).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/nitrosim}
HOSTS=${HOSTS:-"128 256 512 1024 2048 4096 8192"}
DURATION=${DURATION:-100us}
RUNS=${RUNS:-1}
[ -x "$BIN" ] || cargo build --release --quiet
printf '%-6s %-14s %8s %14s %16s %9s %12s %9s\n' hosts run duration "wall s/sim ms" "crossings/s" ev/cross "ns/crossing" "RSS MiB"
for n in $HOSTS; do
  if [ "$n" -le 1024 ]; then per=32; else per=64; fi
  racks=$(( n / per ))
  [ $(( racks * per )) -eq "$n" ] || { echo "hosts must be a multiple of $per: $n" >&2; exit 2; }
  fabric=(--set "fabric.racks=$racks" --set "fabric.hosts_per_rack=$per" --set "fabric.spines=$per"
          --set "instances.h.count=$n" --set "duration=$DURATION" --set "variants=[]")
  for run in srd-1-flow tcp-20-flows; do
    case $run in
      srd-1-flow) extra=() ;;
      tcp-20-flows) extra=(--set "instances.h.enis.eth0.ena_srd_enabled=false"
                           --set "workloads.perm.flows_per_instance=20") ;;
    esac
    best=""
    for _ in $(seq "$RUNS"); do
      out=$("$BIN" bench benches/permutation-1024.ron "${fabric[@]}" "${extra[@]}")
      row=$(echo "$out" | awk 'NR==2')
      rss=$(echo "$out" | awk '/peak RSS/ {print $3}')
      # variant events crossings ev/cross stages events/s "M" crossings/s "M" wall-s-per-sim-ms
      wall=$(echo "$row" | awk '{print $10}')
      if [ -z "$best" ] || awk -v a="$wall" -v b="$(echo "$best" | awk '{print $10}')" 'BEGIN{exit !(a<b)}'; then
        best="$row"; best_rss="$rss"
      fi
    done
    echo "$best" | awk -v n="$n" -v run="$run" -v rss="$best_rss" -v d="$DURATION" '{
      crossings=$3; evx=$4; wall_per_ms=$10; cps=$8;
      sim_us=d;
      ns=(cps>0)?1000/cps:0;
      printf "%-6s %-14s %8s %14.3f %14.3f M %9.2f %12.1f %9.1f\n", n, run, sim_us, wall_per_ms, cps, evx, ns, rss }'
  done
done

#!/usr/bin/env bash
# The scale curve of issue #17: the permutation workload of benches/permutation-1024.ron on
# leaf-spine fabrics from 128 to 8192 hosts, each variant in its own process (so the peak RSS is
# that run's), one core, and a table of what a link crossing costs as the fabric grows.
#
#   benches/scale_curve.sh                      # 128 .. 8192 hosts, SRD 1 flow/host and TCP 20 flows/host
#   HOSTS="128 1024" DURATION=50us benches/scale_curve.sh
#   RUNS=3 benches/scale_curve.sh              # 3 rounds: best and median of 3 per point
#   WARMUP=1 benches/scale_curve.sh            # each measured run right after an unmeasured one of the same size
#   PROBE_BIN=target/release/nitrosim BIN=old/nitrosim benches/scale_curve.sh   # BIN has no memory probe
#
# Rounds are interleaved: each round runs every size once, smallest first in odd rounds and
# largest first in even ones, so a drift in the machine's speed (this VM's is typically 10-15%
# from one minute to the next, at times a third) reaches all sizes rather than only those
# measured in a slow spell, and drift within a round evens out over pairs of rounds. The growth
# from the smallest size is given best against best and round by round (each round's largest
# against its own smallest). Each measurement is also printed to stderr as it is taken.
#
# WARMUP=1: this VM's host takes back the memory a process frees (runs after 15 s of idle were
# mostly cold). A run that comes right after a run of its own size finds the memory it
# touches first still backed; one after a smaller run, or after a pause, waits for the host on
# each new page: on 2026-12-01 the 1024-host TCP run took 7.0-7.9 s cold and 5.3-6.0 s warm
# (docs/performance.md). Without WARMUP a point's rounds mix both (the run after the largest
# size is warm); with it every measured run starts warm, and the script takes twice as long.
# Runs longer than the host's delay (8192 hosts: tens of seconds) grow into memory it has taken
# back by then, warm-up or not. The kernel column shows how much a run paid.
#
# Columns: hosts, run, simulated time, the link load per host (Gbps on the wire over each busy
# NIC -> ToR link, a count: the same every round), then from the best round: wall s per simulated
# ms, link crossings per wall second (one packet over one physical link: NIC <-> ToR, ToR <->
# spine), events per crossing, wall ns per crossing, peak RSS (MiB); then the median ns per
# crossing over the rounds; last the best round's kernel CPU s per simulated ms (first touches of
# new memory, mostly). Fabrics: benches/permutation_args.sh. Last, the memory probe of each round: ns per
# random load by buffer size (`nitrosim memory-probe`), which says how much cache the machine
# gave that round and how slow its memory was, and over a line per 4 KiB page of each buffer,
# what reaching a page costs apart from the cache; the runs are read against it. The probe touches
# up to 256 MiB by default (PROBE_MIB allows up to 4096) and frees it before the round: with
# WARMUP=0 the first run after it may find less of its memory warm (WARMUP=1 is unaffected).
set -euo pipefail
# A BIN given is taken from where the script was called; it then runs from the repository's root.
if [ -n "${BIN:-}" ]; then BIN=$(realpath "$BIN"); fi
if [ -n "${PROBE_BIN:-}" ]; then PROBE_BIN=$(realpath "$PROBE_BIN"); fi
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/nitrosim}
DURATION=${DURATION:-100us}
RUNS=${RUNS:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS: a whole number from 1, not $RUNS" >&2; exit 2; }
WARMUP=${WARMUP:-0}
[[ $WARMUP =~ ^[01]$ ]] || { echo "WARMUP: 0 or 1, not $WARMUP" >&2; exit 2; }
read -r -a sizes <<< "$(echo ${HOSTS:-128 256 512 1024 2048 4096 8192} | tr ' ' '\n' | sort -n -u | tr '\n' ' ')"
[ "${#sizes[@]}" -gt 0 ] || { echo "HOSTS: no fabric size given" >&2; exit 2; }
. benches/permutation_args.sh
. benches/probe_format.sh
for n in "${sizes[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "HOSTS: whole numbers of hosts, not $n" >&2; exit 2; }
  permutation_args "$n" "$DURATION" srd-1-flow || exit 2
done
[ -x "$BIN" ] || cargo build --release --quiet
# The simulated time in ms, to turn wall s per simulated ms into ns per crossing with the exact
# crossing count rather than the crossings/s column's two decimals.
sim_ms=$(echo "$DURATION" | awk '/^[0-9.]+(ps|ns|us|ms|s)$/ {
  v = $0 + 0; u = $0; sub(/^[0-9.]+/, "", u)
  print v * (u == "ps" ? 1e-9 : u == "ns" ? 1e-6 : u == "us" ? 1e-3 : u == "ms" ? 1 : 1e3); ok = 1 } END { exit !ok }') ||
  { echo "DURATION: a number and ps, ns, us, ms or s, not $DURATION" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# One line per measurement: round hosts run crossings ev/cross ns-per-crossing wall-s-per-sim-ms rss
# kernel-s-per-sim-ms gbps-per-host-link
# The machine each round ran on: ns per random load by buffer size (`nitrosim memory-probe`),
# taken before the round. PROBE_BIN: a nitrosim that has the probe, when BIN is older.
# PROBE_MIB: the buffer sizes (MiB) to probe, default the probe's own (1 to 256).
PROBE_BIN=${PROBE_BIN:-$BIN}
probe_args=()
for mib in ${PROBE_MIB:-}; do
  [[ $mib =~ ^[1-9][0-9]*$ ]] && [ "$mib" -le 4096 ] || { echo "PROBE_MIB: whole numbers of MiB from 1 to 4096, not $mib" >&2; exit 2; }
  probe_args+=(--mib "$mib")
done
# Each size as "N MiB ns (huge H)": the time per load and the share of the buffer in huge pages.
probe_round() {
  local probe
  if probe=$("$PROBE_BIN" memory-probe ${probe_args[@]+"${probe_args[@]}"} 2> "$scratch/probe.err"); then
    # The machine once; then each size's time on the round's line.
    [ -s "$scratch/machine" ] || echo "$probe" | probe_machine > "$scratch/machine"
    echo "round $1:$(echo "$probe" | probe_sizes)" >> "$scratch/probe"
    tail -1 "$scratch/probe" | sed 's/^/memory probe, ns per random load: /' >&2
  else
    echo "round $1: no memory probe ($PROBE_BIN memory-probe: $(tail -1 "$scratch/probe.err"); PROBE_BIN names a nitrosim that has it)" >> "$scratch/probe"
  fi
}
for round in $(seq "$RUNS"); do
  if [ $(( round % 2 )) -eq 1 ]; then order=("${sizes[@]}"); else order=($(printf '%s\n' "${sizes[@]}" | sort -rn)); fi
  probe_round "$round"
  for n in "${order[@]}"; do
    for run in srd-1-flow tcp-20-flows; do
      permutation_args "$n" "$DURATION" "$run"
      [ "$WARMUP" = 0 ] || "$BIN" bench benches/permutation-1024.ron "${args[@]}" > /dev/null
      out=$("$BIN" bench benches/permutation-1024.ron "${args[@]}")
      # bench's second line: variant events crossings ev/cross stages events/s M crossings/s M wall
      # cpu kernel faults gbps-per-host-link (the last two absent from older builds)
      line=$(echo "$out" | awk -v r="$round" -v n="$n" -v run="$run" -v ms="$sim_ms" \
        -v rss="$(echo "$out" | awk '/peak RSS/ { print $3 }')" '
        NR == 2 && $3 > 0 { print r, n, run, $3, $4, $10 * ms * 1e9 / $3, $10, (rss == "" ? "n/a" : rss), ($12 == "" ? "n/a" : $12), ($14 == "" ? "n/a" : $14) }')
      [ -n "$line" ] || { echo "no link crossings to count in round $round, $n hosts, $run:" >&2; echo "$out" >&2; exit 1; }
      echo "$line" >> "$scratch/runs"
      echo "round $round/$RUNS: $line" >&2
    done
  done
done
printf '%-6s %-14s %8s %10s %14s %16s %9s %12s %9s %13s %16s\n' hosts run duration "Gbps/host" "wall s/sim ms" "crossings/s" ev/cross "ns/crossing" "RSS MiB" "median ns" "kernel s/sim ms"
for n in "${sizes[@]}"; do
  for run in srd-1-flow tcp-20-flows; do
    # Best round first (least wall time, so least ns: every round crosses as many links).
    awk -v n="$n" -v run="$run" '$2 == n && $3 == run' "$scratch/runs" | sort -g -k7 > "$scratch/point"
    median=$(awk '{ print $6 }' "$scratch/point" | sort -g |
             awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    head -1 "$scratch/point" | awk -v d="$DURATION" -v med="$median" '{
      printf "%-6s %-14s %8s %10s %14.3f %14.3f M %9.2f %12.1f %9s %13.1f %16s\n", $2, $3, d, $10, $7, 1000 / $6, $5, $6, $8, med, $9 }'
  done
done
first=${sizes[0]}
last=${sizes[${#sizes[@]} - 1]}
if [ "$first" != "$last" ]; then
  for run in srd-1-flow tcp-20-flows; do
    awk -v a="$first" -v b="$last" -v run="$run" '
      $3 != run { next }
      $2 == a { small[$1] = $6; if (!best_small || $6 < best_small) best_small = $6 }
      $2 == b { large[$1] = $6; if (!best_large || $6 < best_large) best_large = $6 }
      END {
        lo = ""; hi = ""
        for (r in small) if (r in large) {
          g = large[r] / small[r]
          if (lo == "" || g < lo) lo = g
          if (hi == "" || g > hi) hi = g
        }
        printf "growth %s -> %s hosts, %s: %.2fx best against best; %.2f-%.2fx round by round\n", a, b, run, best_large / best_small, lo, hi
      }' "$scratch/runs"
  done
fi
[ ! -s "$scratch/machine" ] || echo "machine: $(cat "$scratch/machine")"
echo "memory probe (nitrosim memory-probe: ns per random dependent load, by buffer size, before each round):"
cat "$scratch/probe"

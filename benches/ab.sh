#!/usr/bin/env bash
# Is binary B faster than binary A? Paired runs: in each round both run the same bench at the
# same time on the two cores (so on an otherwise idle machine), so whatever the machine does that
# minute (this VM's speed typically moves 10-15% from one minute to the next, at times a third)
# happens to both, and the round's ratio B/A keeps little of it. Against itself, at 8192 hosts,
# one series of rounds gave 0.98-1.02 and another 1.03-1.06 (a series can lean one way: run A
# against A beside it); at 1024 hosts 0.92-1.03. So trust a difference beyond about 5%, seen in
# every round. Pinning each run to a core made it worse (0.89-1.10). Not for small fabrics: at
# 128 hosts one run's working set nearly fills the 32 MiB L3 cache and two runs evict each other
# (0.88-1.12 against itself).
#
#   benches/ab.sh A B                         # 5 rounds: 8192 hosts, SRD 1 flow/host, 200 us
#   ROUNDS=8 HOSTS=1024 DURATION=1ms benches/ab.sh A B
#   RUN=tcp-20-flows benches/ab.sh A B        # plain TCP, 20 flows per host
#   benches/ab.sh A A                         # the method's own noise: the ratio should be 1
#
# Prints each round's wall s per simulated ms for A and B and the ratio B/A (below 1: B is
# faster), then the mean, median, min and max of the ratios, how many rounds B won, and from six
# rounds on an interval for the median ratio that assumes nothing of the machine's noise
# (benches/ratio_summary.sh): a difference it does not exclude 1 from, these rounds do not show.
# Relative figures only: two runs share the L3 cache and memory bandwidth, so absolute times are
# not what either would take alone. Results must not differ between A and B unless the change
# was meant to alter them; the link crossings of both are printed so a difference shows.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: benches/ab.sh BINARY_A BINARY_B  (env: ROUNDS HOSTS DURATION RUN)" >&2; exit 2; }
for bin in "$1" "$2"; do
  [ -f "$bin" ] && [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
done
# Paths as given, from where the script was called; it then runs from the repository's root.
A=$(realpath "$1")
B=$(realpath "$2")
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS: a whole number from 1, not $ROUNDS" >&2; exit 2; }
HOSTS=${HOSTS:-8192}
DURATION=${DURATION:-200us}
RUN=${RUN:-srd-1-flow}
. benches/permutation_args.sh
permutation_args "$HOSTS" "$DURATION" "$RUN" || exit 2
scratch=$(mktemp -d)
pid_a=
pid_b=
# Stopped early (a failed run, Ctrl-C): the other bench must not run on unattended.
trap 'kill $pid_a $pid_b 2>/dev/null || true; rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

# Wait for one side's bench; print its errors and stop if it failed. Reads its table's first row
# (variant events crossings ev/cross stages events/s M crossings/s M wall cpu) into `row`.
finish() {
  local pid=$1 side=$2
  if ! wait "$pid"; then
    echo "$side's bench failed:" >&2
    cat "$scratch/$side.out" "$scratch/$side.err" >&2
    exit 1
  fi
  read -r -a row < <(sed -n 2p "$scratch/$side.out") || true
  if [ "${#row[@]}" -lt 10 ] || ! [[ ${row[2]} =~ ^[0-9]+$ && ${row[9]} =~ ^[0-9.]+$ ]]; then
    echo "$side's bench printed no table row this script can read:" >&2
    cat "$scratch/$side.out" >&2
    exit 1
  fi
}

start() {
  local side=$1 bin=$2
  "$bin" bench benches/permutation-1024.ron "${args[@]}" > "$scratch/$side.out" 2> "$scratch/$side.err" &
  if [ "$side" = A ]; then pid_a=$!; else pid_b=$!; fi
}

echo "$HOSTS hosts, $RUN, $DURATION simulated, $ROUNDS paired rounds"
printf '%-6s %16s %16s %8s %14s %14s\n' round "A s/sim ms" "B s/sim ms" "B/A" "A crossings" "B crossings"
for round in $(seq "$ROUNDS"); do
  # Whichever starts first gets a head start on the shared caches: alternate.
  if [ $(( round % 2 )) -eq 1 ]; then start A "$A"; start B "$B"; else start B "$B"; start A "$A"; fi
  finish "$pid_a" A
  xa=${row[2]} wa=${row[9]}
  finish "$pid_b" B
  xb=${row[2]} wb=${row[9]}
  pid_a= pid_b=
  printf '%-6s %16s %16s %8.3f %14s %14s\n' "$round" "$wa" "$wb" "$(awk -v a="$wa" -v b="$wb" 'BEGIN { print b / a }')" "$xa" "$xb"
  echo "$wa $wb" >> "$scratch/rounds"
done
. benches/ratio_summary.sh
awk '{ print $2 / $1 }' "$scratch/rounds" | ratio_summary

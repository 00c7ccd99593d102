#!/usr/bin/env bash
# Which lines of an endpoint slot each visit touches (docs/performance.md, "2026-12-06, late
# evening"): builds this commit with visit-marks.patch applied (markers around each endpoint
# visit), runs the permutation bench under Valgrind's lackey, which traces every load and store,
# and counts with visit_lines.c the slot's lines and bytes each visit touched, by kind (a data
# segment, a segment without payload, a timer). Slow: a release build of its own (target/lackey,
# kept between runs), then lackey at some 50x (32 hosts, 200 us: about 4 minutes).
#
#   benches/lackey/visit_lines.sh                          # 32 hosts, 200 us, TCP 20 flows/host
#   HOSTS=32 DURATION=1ms RUN=srd-1-flow benches/lackey/visit_lines.sh
#   SET="fabric.buffer=16KiB tcp.timer_hz=0 tcp.rto_min=100us tcp.delayed_ack_timeout=20us" \
#     DURATION=300us benches/lackey/visit_lines.sh   # more --sets: losses and short timers, so
#     that timer visits come (RTOs, delayed ACKs; Linux's defaults are milliseconds: none come)
#
# Huge pages are left off (GLIBC_TUNABLES=glibc.malloc.hugetlb=0: the command line would start
# itself again, and lackey would trace the parent). tests/bench_scripts.rs checks that the patch
# still applies and what the filter counts on a made-up trace; it does not run this script.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
HOSTS=${HOSTS:-32}
DURATION=${DURATION:-200us}
RUN=${RUN:-tcp-20-flows}
for tool in valgrind cc git cargo; do
  command -v "$tool" > /dev/null || { echo "visit_lines.sh needs $tool" >&2; exit 2; }
done
source benches/permutation_args.sh
permutation_args "$HOSTS" "$DURATION" "$RUN"
read -r -a sets <<< "${SET:-}"  # split on blanks, no glob expansion
for kv in "${sets[@]}"; do args+=(--set "$kv"); done
scratch=$(mktemp -d)
trap 'git worktree remove --force "$scratch/tree" > /dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git worktree add --quiet --detach "$scratch/tree" HEAD
git -C "$scratch/tree" apply "$root/benches/lackey/visit-marks.patch"
CARGO_TARGET_DIR="$root/target/lackey" cargo build --release --quiet --manifest-path "$scratch/tree/Cargo.toml"
bin="$root/target/lackey/release/nitrosim"
cc -O2 -o "$scratch/visit_lines" benches/lackey/visit_lines.c
export GLIBC_TUNABLES=glibc.malloc.hugetlb=0
# Where the markers are: the patched build prints it at its first visit (lackey loads the
# program at the same address every time). A short run of the same fabric finds one.
short=("${args[@]}" --set "duration=10us")
valgrind --tool=lackey "$bin" bench benches/permutation-1024.ron "${short[@]}" > /dev/null 2> "$scratch/marks.err"
read -r marks slot < <(awk '/^LACKEY marks/ { print substr($3, 3), $5; exit }' "$scratch/marks.err") || true
[ -n "${marks:-}" ] || { echo "no visit in 10 us to find the markers by:" >&2; tail -5 "$scratch/marks.err" >&2; exit 1; }
echo "$HOSTS hosts, $RUN, $DURATION${SET:+, $SET}; endpoint slot $slot bytes; lines counted from the slot's first"
valgrind --tool=lackey --trace-mem=yes --log-fd=9 "$bin" bench benches/permutation-1024.ron "${args[@]}" \
  9>&1 > /dev/null 2> "$scratch/run.err" | "$scratch/visit_lines" "$marks" "$slot"

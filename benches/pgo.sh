#!/usr/bin/env bash
# A profile-guided build of the simulator, for long experiments on issue 17's benches: the `fast`
# profile (fat LTO) compiled a second time with the branch and call counts of a training run, so
# that LLVM lays the hot path out straight and inlines where the calls are, not where it guesses.
#
#   benches/pgo.sh                      # trains on the default job: target/pgo/nitrosim-default
#   TRAIN=permutation benches/pgo.sh    # on issue 17's benches at 128 hosts: ...-permutation
#   LLVM_PROFDATA=/path/to/llvm-profdata benches/pgo.sh   # one of rustc's own LLVM, not rustup's
#
# TRAIN=default (the default) runs `nitrosim run`, the embedded default scenario (RPC and bulk
# transfers, plain ENA against ENA Express on a small fabric): a training set that is not the
# permutation benches the binary is then measured on, so a speed-up there is not the profile
# learning its own test. TRAIN=permutation runs the two permutation benches at 128 hosts, 100 us
# each: closer to what is measured, to compare with. Code the training never ran (other
# scenarios' EFA, NAT, PMTUD or failover paths) is compiled as cold, for size: only the
# permutation benches were timed, and other scenarios may run slower than in the `fast` build.
#
# Two builds of the simulator (build scripts and procedural macros are built once, without the
# profile flags: the builds name their target), 4-5 minutes each on 2 cores, in target/pgo-train
# and target/pgo; each run starts both afresh, since cargo does not see a profile change. Needs
# llvm-profdata of rustc's own LLVM: `rustup component add llvm-tools`, or LLVM_PROFDATA. Your
# RUSTFLAGS are kept and the profile flags added to them.
#
# Results are the same bits as any other build's (the simulation is integer arithmetic, and
# tests/scenarios.rs holds every bundled scenario to its golden summary); only the time differs.
# The script checks it before naming the binary: the default job must write byte-identical
# files, and both permutation benches at 128 hosts (20 us) must count the same events and link
# crossings, with the instrumented build and the optimised one. Otherwise it fails, and no
# target/pgo/nitrosim-TRAIN is left (an older one is removed first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TRAIN=${TRAIN:-default}
case $TRAIN in
  default|permutation) ;;
  *) echo "TRAIN is default or permutation, not $TRAIN" >&2; exit 2 ;;
esac
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=${LLVM_PROFDATA:-"$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"}
[ -x "$profdata" ] || { echo "llvm-profdata not found at $profdata (rustup component add llvm-tools, or set LLVM_PROFDATA)" >&2; exit 2; }
. benches/permutation_args.sh

named="target/pgo/nitrosim-$TRAIN"
rm -f "$named"
# The target's artifacts only: the build scripts and macros under target/pgo*/<profile> stay.
rm -rf "target/pgo-train/$host" "target/pgo/$host"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Absolute: the training runs anywhere. Only the simulator and its libraries write profiles here.
raw="$ROOT/target/pgo-train/profraw"
rm -rf "$raw"
mkdir -p "$raw"
build() {  # build TARGET_DIR FLAG: the simulator with FLAG added to RUSTFLAGS
  RUSTFLAGS="${RUSTFLAGS:-} $2" cargo build --quiet --profile fast --target "$host" --target-dir "$1"
}

# Both permutation benches at 128 hosts: their events and link crossings, one line each.
benches_128() {  # benches_128 BINARY DURATION
  for run in srd-1-flow tcp-20-flows; do
    permutation_args 128 "$2" "$run"
    "$1" bench benches/permutation-1024.ron "${args[@]}" | awk -v r="$run" '$1 == "base" {print r, $2, $3}'
  done
}
# What must not change between the two builds: the default job's files (into DIR) and the
# benches' counts (printed).
results() {  # results BINARY DIR
  "$1" run --quiet --out "$2"
  benches_128 "$1" 20us
}

echo "building the instrumented binary (target/pgo-train)" >&2
build target/pgo-train "-Cprofile-generate=$raw"
trained="target/pgo-train/$host/fast/nitrosim"

echo "training: $TRAIN" >&2
case $TRAIN in
  default) "$trained" run --quiet --out "$scratch/training" ;;
  permutation) benches_128 "$trained" 100us > /dev/null ;;
esac
ls "$raw"/*.profraw > /dev/null 2>&1 || { echo "the training run wrote no profile into $raw" >&2; exit 1; }
"$profdata" merge -o "$scratch/merged.profdata" "$raw"
# The reference for the check, after the merge: it adds nothing to the profile.
results "$trained" "$scratch/instrumented" > "$scratch/instrumented.counts"

echo "building the optimised binary (target/pgo)" >&2
build target/pgo "-Cprofile-use=$scratch/merged.profdata"
optimised="target/pgo/$host/fast/nitrosim"
results "$optimised" "$scratch/optimised" > "$scratch/optimised.counts"
if ! diff -r "$scratch/instrumented" "$scratch/optimised" >&2 \
   || ! diff "$scratch/instrumented.counts" "$scratch/optimised.counts" >&2; then
  rm -f "$optimised"
  echo "the optimised build's results differ from the instrumented build's (above): no binary kept" >&2
  exit 1
fi
cp "$optimised" "$named"
echo "$named"

#!/usr/bin/env bash
# A profile-guided build of the simulator, for long experiments: the `fast` profile (fat LTO)
# compiled a second time with the branch and call counts of a training run, so that LLVM lays the
# hot path out straight and inlines where the calls are, not where it guesses they are.
#
#   benches/pgo.sh                      # trains on the default job: target/pgo/nitrosim-default
#   TRAIN=permutation benches/pgo.sh    # on issue 17's benches at 128 hosts: ...-permutation
#
# TRAIN=default (the default) runs `nitrosim run`, the embedded default scenario (RPC and bulk
# transfers, plain ENA against ENA Express on a small fabric): a training set that is not the
# permutation benches the binary is then measured on, so a speed-up there is not the profile
# learning its own test. TRAIN=permutation runs the two permutation benches at 128 hosts, 100 us
# each: closer to what is measured, to compare with.
#
# Two builds, each in its own target directory (target/pgo-train, target/pgo) so that neither
# rebuilds the usual ones: some 4 minutes each on 2 cores. Needs llvm-profdata of rustc's own LLVM:
# `rustup component add llvm-tools`. Results are the same bits as any other build's (the
# simulation is integer arithmetic; tests/determinism.rs); only the time differs.
set -euo pipefail
cd "$(dirname "$0")/.."
TRAIN=${TRAIN:-default}
case $TRAIN in
  default|permutation) ;;
  *) echo "TRAIN is default or permutation, not $TRAIN" >&2; exit 2 ;;
esac
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
[ -x "$profdata" ] || { echo "llvm-profdata not found at $profdata (rustup component add llvm-tools)" >&2; exit 2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The profile's directory must be absolute: the training runs start elsewhere.
raw="$scratch/raw"
mkdir -p "$raw"

echo "building the instrumented binary (target/pgo-train)" >&2
RUSTFLAGS="-Cprofile-generate=$raw" cargo build --quiet --profile fast --target-dir target/pgo-train
trained=target/pgo-train/fast/nitrosim

echo "training: $TRAIN" >&2
case $TRAIN in
  default) "$trained" run --quiet --out "$scratch/out" ;;
  permutation)
    . benches/permutation_args.sh
    for run in srd-1-flow tcp-20-flows; do
      permutation_args 128 100us "$run"
      "$trained" bench benches/permutation-1024.ron "${args[@]}" > /dev/null
    done ;;
esac
ls "$raw"/*.profraw > /dev/null 2>&1 || { echo "the training run wrote no profile into $raw" >&2; exit 1; }
"$profdata" merge -o "$scratch/merged.profdata" "$raw"

echo "building the optimised binary (target/pgo)" >&2
# A function the training never ran is optimised as in any build, without counts.
RUSTFLAGS="-Cprofile-use=$scratch/merged.profdata" cargo build --quiet --profile fast --target-dir target/pgo
# Named after its training, so that both can be kept and compared.
cp target/pgo/fast/nitrosim "target/pgo/nitrosim-$TRAIN"
echo "target/pgo/nitrosim-$TRAIN"

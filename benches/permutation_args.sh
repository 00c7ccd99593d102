# Sourced by scale_curve.sh, ab.sh, instructions.sh and pgo.sh: the `--set`s that put
# benches/permutation-1024.ron on a fabric of HOSTS hosts for one of the two runs of issue #17.
# Non-blocking leaf-spine: 32 hosts per ToR and 32 spines up to 1024 hosts, 64 and 64 above (as
# benches/scale-8192.ron).
#
#   permutation_args HOSTS DURATION RUN     # fills the array `args`; RUN: srd-1-flow | tcp-20-flows
permutation_args() {
  local hosts=$1 duration=$2 run=$3 per
  if [ "$hosts" -le 1024 ]; then per=32; else per=64; fi
  [ $(( hosts / per * per )) -eq "$hosts" ] || { echo "hosts must be a multiple of $per: $hosts" >&2; return 2; }
  args=(--set "fabric.racks=$(( hosts / per ))" --set "fabric.hosts_per_rack=$per" --set "fabric.spines=$per"
        --set "instances.h.count=$hosts" --set "duration=$duration" --set "variants=[]")
  case $run in
    srd-1-flow) ;;
    tcp-20-flows) args+=(--set "instances.h.enis.eth0.ena_srd_enabled=false"
                         --set "workloads.perm.flows_per_instance=20") ;;
    *) echo "the run is srd-1-flow or tcp-20-flows, not $run" >&2; return 2 ;;
  esac
}

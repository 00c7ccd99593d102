#!/usr/bin/env bash
# Instructions per link crossing: what a change to the packet path costs in work, counted
# exactly, whatever this VM's speed does that hour (wall time moves 10-15% from one minute to
# the next; this figure does not move at all: same binary, same count). Valgrind counts the
# instructions of two runs of one of issue 17's benches that differ only in length; the
# difference divided by the difference in link crossings leaves out building the model and the
# flows' start, so what remains is the steady state's cost. Not a speed: at scale a crossing's
# time is mostly memory latency, which this does not see (benches/ab.sh measures time).
#
#   benches/instructions.sh                     # 128 hosts, SRD 1 flow/host, 300 us against 600 us
#   RUN=tcp-20-flows benches/instructions.sh    # plain TCP, 20 flows per host
#   HOSTS=1024 SHORT=100us LONG=200us BIN=path/to/nitrosim benches/instructions.sh
#
# PAGES=yes also counts page walks per crossing as a run on small pages takes them (as these
# counting runs are: see below): Valgrind's cache simulator, given lines of 4 KiB, stands for the
# TLBs of the Xeon it runs on (Golden Cove's sizes: a first level of 96 entries, a second of
# 2 048; 6 and 16 ways our choice), so each miss of its last level is a page to walk. The default
# runs are not on small pages: glibc gives them huge pages (96% of an 8192-host run's memory), and
# their walks cost less (on small pages the 8192-host SRD run took 1.03-1.19 times as long), though
# on the Xeon VM of 2026-12-06 the TLB still kept 4 KiB translations of huge pages
# (docs/performance.md, "2026-12-06, day" and "late morning"). What the count shows is how many
# pages a crossing reaches that it has not reached lately. A model of the TLB, not a count of this
# CPU's (it has no counters in this VM): replacement is LRU, prefetches are not seen, code and
# data share the second level. Exact all the same (as exact as the instructions).
#
#   PAGES=yes HOSTS=8192 SHORT=100us LONG=200us benches/instructions.sh
#
# LINES=N counts instead the cache lines a crossing fetches from beyond a cache of N MiB (64-byte
# lines, 16 ways, behind an L1d of 48 KiB, 12 ways: this Xeon's): LINES=2 for this Xeon's L2, a
# larger N for the share of the L3 a run gets (a dense chase of `nitrosim memory-probe` reads at
# the L3's speed up to about 8 MiB on this VM). The 8192-host growth tracked them there, though
# lines taken away saved less than lines added cost (docs/performance.md, "2026-12-06, late
# morning"). Also about four times as slow, and also a model: LRU, no prefetches, no other tenant.
#
#   LINES=2 HOSTS=8192 SHORT=100us LONG=200us benches/instructions.sh
#
# BY_CODE=N (with LINES) then lists where those lines go: the N pieces of code that fetch the
# most of them per crossing, reads and writes of data, as Valgrind names them (the source file
# of the code, which may be inlined, and the function it ran in), from the difference of the two
# runs (cg_diff). A data line is charged to the first code that misses it, not to whatever filled
# it: a line asked for ahead and then missed is charged to the code that finally reads it. The
# shares are of the lines the pieces that fetched more in the longer run fetched (a piece may
# fetch fewer: the two runs' start-ups differ), which the last line gives with the net total.
#
#   LINES=8 BY_CODE=15 HOSTS=8192 SHORT=100us LONG=200us RUN=tcp-20-flows benches/instructions.sh
#
# Prints the instructions, events and link crossings of both runs (and the misses counted), then
# instructions per crossing and per event (and misses per crossing). Runs without huge pages
# (GLIBC_TUNABLES=glibc.malloc.hugetlb=0): the restart that asks for them would leave Valgrind
# behind, and they change no instruction. Needs valgrind.
set -euo pipefail
# BIN as given, from where the script was called; it then runs from the repository's root.
BIN=$(realpath -m "${BIN:-$(dirname "$0")/../target/release/nitrosim}")
cd "$(dirname "$0")/.."
[ -f "$BIN" ] && [ -x "$BIN" ] || { echo "not an executable: $BIN (cargo build --release, or set BIN)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
HOSTS=${HOSTS:-128}
RUN=${RUN:-srd-1-flow}
SHORT=${SHORT:-300us}
LONG=${LONG:-600us}
PAGES=${PAGES:-no}
LINES=${LINES:-}
BY_CODE=${BY_CODE:-}
case $PAGES in
  yes) sim=(--cache-sim=yes --I1=32768,8,64 --D1=393216,6,4096 --LL=8388608,16,4096)
       label='page walks' per='page walks per link crossing %.3f (a TLB of 96 + 2048 entries of 4 KiB, simulated)' ;;
  no) sim=(--cache-sim=no) label= ;;
  *) echo "PAGES is yes or no, not $PAGES" >&2; exit 2 ;;
esac
if [ -n "$LINES" ]; then
  [[ $LINES =~ ^[1-9][0-9]{0,3}$ ]] || { echo "LINES is a cache's size in MiB (1 to 9999), not $LINES" >&2; exit 2; }
  [ "$PAGES" = no ] || { echo "PAGES=yes and LINES count different things: one at a time" >&2; exit 2; }
  sim=(--cache-sim=yes --I1=32768,8,64 --D1=49152,12,64 --LL=$(( LINES << 20 )),16,64)
  label="lines beyond $LINES MiB"
  per="lines from beyond $LINES MiB per link crossing %.3f (a cache of $LINES MiB behind an L1d of 48 KiB, simulated)"
fi
if [ -n "$BY_CODE" ]; then
  [[ $BY_CODE =~ ^[1-9][0-9]{0,2}$ ]] || { echo "BY_CODE is how many pieces of code to list (1 to 999), not $BY_CODE" >&2; exit 2; }
  [ -n "$LINES" ] || { echo "BY_CODE lists where the lines of LINES=N go: set LINES too" >&2; exit 2; }
  command -v cg_diff >/dev/null && command -v cg_annotate >/dev/null \
    || { echo "cg_diff and cg_annotate (Valgrind's) are not on PATH" >&2; exit 2; }
fi
. benches/permutation_args.sh
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Prints "instructions events crossings misses" for one run of DURATION (misses of the simulated
# last level: pages walked or lines fetched; 0 when not counted). Usage: count DURATION NAME, NAME
# naming Valgrind's output for BY_CODE.
count() {
  permutation_args "$HOSTS" "$1" "$RUN" || exit 2
  GLIBC_TUNABLES=glibc.malloc.hugetlb=0 valgrind --tool=cachegrind "${sim[@]}" \
    --cachegrind-out-file="$scratch/cachegrind-$2" "$BIN" bench benches/permutation-1024.ron "${args[@]}" \
    > "$scratch/out" 2> "$scratch/err" || { cat "$scratch/err" >&2; exit 1; }
  local refs row misses=0
  refs=$(grep -E '^==[0-9]+== I +refs:' "$scratch/err" | awk '{print $NF}' | tr -d , || true)
  row=$(awk '$1 == "base" {print $2, $3}' "$scratch/out" || true)
  if [ -n "$label" ]; then
    # "LL misses: total (rd + wr)": code and data.
    misses=$(grep -E '^==[0-9]+== LL misses:' "$scratch/err" | awk '{print $4}' | tr -d , || true)
  fi
  [[ $refs =~ ^[0-9]+$ && $row =~ ^[0-9]+\ [0-9]+$ && $misses =~ ^[0-9]+$ ]] \
    || { echo "cannot read the counts of the $1 run:" >&2; cat "$scratch/out" "$scratch/err" >&2; exit 1; }
  echo "$refs $row $misses"
}

echo "$HOSTS hosts, $RUN; $BIN" >&2
# A failed count exits its command substitution only: pass its status on.
counts=$(count "$SHORT" short) || exit $?
read -r i_short e_short c_short m_short <<< "$counts"
counts=$(count "$LONG" long) || exit $?
read -r i_long e_long c_long m_long <<< "$counts"
# The misses' column, only when counted.
misses_column() { if [ -n "$label" ]; then printf ' %12s' "$1"; fi; }
row='%-8s %16s %12s %16s%s\n'
printf "$row" run instructions events "link crossings" "$(misses_column "$label")"
printf "$row" "$SHORT" "$i_short" "$e_short" "$c_short" "$(misses_column "$m_short")"
printf "$row" "$LONG" "$i_long" "$e_long" "$c_long" "$(misses_column "$m_long")"
(( c_long > c_short && e_long > e_short )) \
  || { echo "the $LONG run crossed no more links than the $SHORT one: lengthen LONG" >&2; exit 1; }
awk -v di=$(( i_long - i_short )) -v dc=$(( c_long - c_short )) -v de=$(( e_long - e_short )) \
  'BEGIN { printf "instructions per link crossing %.0f, per event %.0f\n", di / dc, di / de }'
if [ -n "$label" ]; then
  awk -v dm=$(( m_long - m_short )) -v dc=$(( c_long - c_short )) -v per="$per" \
    'BEGIN { printf per "\n", dm / dc }'
fi
if [ -n "$BY_CODE" ]; then
  cg_diff "$scratch/cachegrind-short" "$scratch/cachegrind-long" > "$scratch/difference" \
    || { echo "cg_diff could not take the difference of the two runs" >&2; exit 1; }
  cg_annotate --show=DLmr,DLmw --threshold=0 --auto=no "$scratch/difference" > "$scratch/by-code" \
    || { echo "cg_annotate could not read the difference" >&2; exit 1; }
  # Rows after the "file:function" header: "reads (share) writes (share) file:function", counts
  # with thousands' commas, a share only where the count is not 0; names may hold spaces.
  awk -v dc=$(( c_long - c_short )) -v n="$BY_CODE" -v mib="$LINES" -v root="$PWD/" '
    /file:function/ { rows = 1; next }
    rows && /^ *-?[0-9,]+ / {
      line = $0
      gsub(/\( *-?[0-9.]+%\)/, "", line)
      split(line, f, " ")
      reads = f[1]; writes = f[2]; gsub(",", "", reads); gsub(",", "", writes)
      name = line; sub(/^ *-?[0-9,]+ +-?[0-9,]+ +/, "", name)
      # The root of the repository as text, not as a pattern (a path may hold "+" or ".").
      if ((at = index(name, root)) > 0) name = substr(name, 1, at - 1) substr(name, at + length(root))
      sub(/^\/rustc\/[0-9a-f]+\//, "", name); sub(/^.*\/registry\/src\/[^\/]+\//, "", name)
      gsub("nitrosim::", "", name); sub(/:/, ": ", name)
      # A piece of code may fetch fewer in the longer run (the start-ups differ): the shares
      # are of what the pieces that fetched more fetched.
      k++; lines[k] = reads + writes; names[k] = name; total += reads + writes
      if (lines[k] > 0) more += lines[k]; else fewer -= lines[k]
    }
    END {
      if (k == 0) { print "cg_annotate listed no code" > "/dev/stderr"; exit 1 }
      # Largest first (a selection: n is small).
      shown = n < k ? n : k
      printf "where the lines from beyond %s MiB go, per link crossing (data read and written, the %d largest of %d pieces of code):\n", mib, shown, k
      for (i = 1; i <= shown; i++) {
        best = i
        for (j = i + 1; j <= k; j++) if (lines[j] > lines[best]) best = j
        t = lines[i]; lines[i] = lines[best]; lines[best] = t
        t = names[i]; names[i] = names[best]; names[best] = t
        printf "%9.3f %6.1f%%  %s\n", lines[i] / dc, 100 * lines[i] / (more > 0 ? more : 1), names[i]
      }
      printf "%9.3f in all, the lines of data (the figure above adds the code'"'"'s own): %.3f from the pieces that fetched more in the longer run, less %.3f from those that fetched fewer\n", total / dc, more / dc, fewer / dc
    }' "$scratch/by-code"
fi

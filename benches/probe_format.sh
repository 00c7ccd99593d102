# What the bench scripts print of `nitrosim memory-probe` (sourced by scale_curve.sh and
# htsim/compare.sh), from the probe's output on stdin.

# The machine line's text, without its "machine: " (nothing when the probe predates it).
probe_machine() { sed -n 's/^machine: //p'; }

# Each size's row (the rows that start with a number) as "  N MiB ns (huge H)", on one line; a
# probe that also read a line per 4 KiB page adds it:
# "  N MiB ns (huge H; a line per page ns, huge H)"; one that also read random lines asked for
# ahead adds "; asked ahead ns" before the ")".
probe_sizes() {
  awk '$1 ~ /^[0-9]+$/ {
    printf "  %s MiB %s (huge %s", $1, $2, $3
    if (NF >= 5) printf "; a line per page %s, huge %s", $4, $5
    if (NF >= 6) printf "; asked ahead %s", $6
    printf ")"
  }'
}

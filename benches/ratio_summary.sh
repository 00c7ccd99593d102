# What benches/ab.sh says of its rounds' ratios B/A (sourced by it), from one ratio per line on
# stdin. Besides the mean, median and range: how many rounds B won, and an interval for the
# median ratio that assumes nothing of the ratios' distribution (only that rounds are independent):
# between the k-th smallest and the k-th largest ratio, each round's ratio being above the true
# median with probability 1/2, so the interval misses it with probability 2 P(Bin(n, 1/2) < k);
# k is the largest that keeps this at most 5%. Six rounds give the whole range (96.9%); twelve,
# the 3rd to the 10th (96.1%); fewer than six give none. A ratio whose interval holds 1 is not a
# difference these rounds can show.
ratio_summary() {
  sort -g | awk '{ r[NR] = $1; s += $1; if ($1 < 1) faster++ }
    END {
      n = NR
      if (n == 0) exit 1
      med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      printf "B/A over %d rounds: mean %.3f, median %.3f, min %.3f, max %.3f\n", n, s / n, med, r[1], r[n]
      # The largest k with below = P(X < k) <= 2.5%, X ~ Bin(n, 1/2) (p: P(X = i)).
      p = 0.5 ^ n; below = 0; k = 0
      for (i = 0; i < n && below + p <= 0.025; i++) { below += p; k = i + 1; p = p * (n - i) / (i + 1) }
      printf "B faster in %d of %d rounds; ", faster + 0, n
      if (k == 0) {
        printf "too few rounds for a 95%% interval of the median ratio (6 at least)\n"
      } else {
        printf "median ratio between %.3f and %.3f (%.1f%% interval, distribution-free: the ratios ranked %d and %d)\n", r[k], r[n + 1 - k], 100 * (1 - 2 * below), k, n + 1 - k
      }
    }'
}

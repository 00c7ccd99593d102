/* Which lines of an endpoint slot each visit touches, from Valgrind's lackey trace of a build with
 * benches/lackey/visit-marks.patch applied (benches/lackey/visit_lines.sh does both).
 *
 *   valgrind --tool=lackey --trace-mem=yes --log-fd=9 nitrosim bench ... 9>&1 >/dev/null \
 *     | visit_lines MARKS_HEX SLOT_BYTES
 *
 * The patched build stores to LACKEY_MARKS[k] (8 bytes each, at MARKS_HEX) as a visit of kind k
 * begins (0 a data segment, 1 a segment without payload, 2 a timer) and reads its slot's first
 * byte at once; it stores to LACKEY_MARKS[3] as the visit ends. Every load, store and modify in
 * between that falls in the slot counts (instruction fetches do not). Lines are counted from the
 * slot's first line. Output: per kind, the visits, the mean lines and bytes touched, the share of
 * visits touching each line, and the runs of bytes with the share of visits touching them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KINDS 3
#define MAX_SLOT 65536
#define MAX_LINES (MAX_SLOT / 64 + 2)

static long visits[KINDS], lines_sum[KINDS], bytes_sum[KINDS];
static long line_visits[KINDS][MAX_LINES], byte_visits[KINDS][MAX_SLOT];
static unsigned char touched[MAX_SLOT], line_touched[MAX_LINES];
static const char *names[KINDS] = {"data", "ack", "timer"};

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: visit_lines MARKS_HEX SLOT_BYTES < lackey trace\n");
    return 2;
  }
  unsigned long marks = strtoul(argv[1], 0, 16);
  long size = atol(argv[2]);
  if (size <= 0 || size > MAX_SLOT) {
    fprintf(stderr, "visit_lines: SLOT_BYTES must be 1-%d, not %s\n", MAX_SLOT, argv[2]);
    return 2;
  }
  long nlines = (size + 63) / 64 + 1; /* a slot not on a line spans one more */
  char buf[256];
  int kind = -1, want_base = 0;
  unsigned long base = 0;
  while (fgets(buf, sizeof buf, stdin)) {
    char t;
    unsigned long a;
    int n;
    if (buf[0] != ' ' || sscanf(buf, " %c %lx,%d", &t, &a, &n) != 3) continue;
    if (a >= marks && a < marks + 8 * (KINDS + 1)) {
      int k = (int)((a - marks) / 8);
      if (k < KINDS) {
        kind = k;
        want_base = 1;
        memset(touched, 0, (size_t)size);
        memset(line_touched, 0, (size_t)nlines);
      } else if (kind >= 0) {
        long nl = 0, nb = 0;
        for (long i = 0; i < nlines; i++)
          if (line_touched[i]) nl++, line_visits[kind][i]++;
        for (long i = 0; i < size; i++)
          if (touched[i]) nb++, byte_visits[kind][i]++;
        visits[kind]++, lines_sum[kind] += nl, bytes_sum[kind] += nb;
        kind = -1;
      }
      continue;
    }
    if (kind < 0) continue;
    if (want_base) {
      base = a, want_base = 0;
      continue;
    }
    for (unsigned long x = a; x < a + (unsigned long)n; x++)
      if (x >= base && x < base + (unsigned long)size) {
        touched[x - base] = 1;
        line_touched[(x >> 6) - (base >> 6)] = 1;
      }
  }
  for (int k = 0; k < KINDS; k++) {
    double v = visits[k] ? (double)visits[k] : 1;
    printf("%s visits %ld, lines touched %.2f, bytes touched %.0f\n", names[k], visits[k],
           lines_sum[k] / v, bytes_sum[k] / v);
    printf("  share of visits touching each line:");
    for (long i = 0; i < nlines; i++) printf(" %ld:%.2f", i, line_visits[k][i] / v);
    printf("\n  bytes touched (first-last share):");
    for (long i = 0; i < size;) {
      long j = i;
      if (!byte_visits[k][i]) { i++; continue; }
      while (j < size && byte_visits[k][j] == byte_visits[k][i]) j++;
      printf(" %ld-%ld %.2f", i, j - 1, byte_visits[k][i] / v);
      i = j;
    }
    printf("\n");
  }
  return 0;
}

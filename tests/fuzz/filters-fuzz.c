/* libFuzzer: common/filters.c, the parser of control/filters. The input
   is split into entries as ctl_readlist would (common/ctl_internal.h),
   then checked, walked per source and split into words. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/ctl.h"
#include "common/ctl_internal.h"
#include "common/filters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ctl_list l = CTL_LIST_ZERO;
  size_t bad = 0;
  int ok;
  if (ctl_parse_list((const char *)data, size, &l) != 1) return 0;
  ok = filters_check(l.s, l.len, l.n, &bad) == 0;
  if (!ok && bad >= l.n) abort();
  for (int src = 0; src < FILTERS_NSOURCES; src++) {
    size_t k;
    for (k = 0; k <= FILTERS_CHAIN_MAX + 1; k++) {
      const char *p = filters_nth(l.s, l.len, l.n, src, k);
      char buf[CTL_LINE_MAX], *argv[FILTERS_ARGV_MAX + 1];
      int w;
      if (!p) break;
      if (p < l.s || p >= l.s + l.len) abort();
      w = filters_split(p, buf, sizeof buf, argv);
      if (w == 0 || w > FILTERS_ARGV_MAX) abort();
      if (w > 0) {
        if (argv[w]) abort();
        for (int i = 0; i < w; i++)
          if (!argv[i][0] || strchr(argv[i], ' ') || strchr(argv[i], '\t')) abort();
        if (argv[0][0] != '/' && strchr(argv[0], '/')) abort();
      }
    }
    /* a checked file never has a chain longer than the limit */
    if (ok && k > FILTERS_CHAIN_MAX) abort();
  }
  ctl_listfree(&l);
  return 0;
}

/* libFuzzer: the DATA-time loop check (smtpd/dtscan.c) over hostile
   content. The first byte picks a chunk size; the rest is the message.
   Invariants: the scan keeps at most DTSCAN_LINE_MAX bytes, its answer
   does not depend on how the content is split, and once the header ended
   it never turns to a hit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtpd/dtscan.h"

static const char locals[] = "demo.test\0";
static const char vdoms[] = "vd.test:vpre\0";
static struct ctl_list L = { (char *)locals, sizeof locals - 1, 1 };
static struct ctl_list V = { (char *)vdoms, sizeof vdoms - 1, 1 };
static struct sched_ctl ctl = { &L, &V, 0, "demo.test" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct dtscan_set set;
  struct dtscan a, b;
  size_t chunk;
  const char *s;
  int ha, hb = 0, doneb = 0;
  if (!size) return 0;
  chunk = (size_t)data[0] + 1;
  s = (const char *)data + 1;
  size--;
  if (!set.n) {
    dtscan_rcpt(&set, "bs1@demo.test", 13, &ctl);
    dtscan_rcpt(&set, "bs2@vd.test", 11, &ctl);
  }
  /* the recipients themselves, from the input, must not break the set */
  dtscan_init(&a);
  ha = dtscan_feed(&a, s, size, &set);
  dtscan_init(&b);
  for (size_t i = 0; i < size; i += chunk) {
    int h = dtscan_feed(&b, s + i, size - i < chunk ? size - i : chunk, &set);
    if (doneb && h && !hb) abort();
    hb = h;
    doneb = b.done;
    if (b.n > DTSCAN_LINE_MAX) abort();
  }
  if (ha != hb) abort();
  return 0;
}

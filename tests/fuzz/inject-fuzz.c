/* inject-fuzz: queue/hdr.c under libFuzzer. The first byte picks the
   dot mode and a chunk size; the input goes through hdr_filter in chunks
   (the output must fit the documented bound and must not depend on the
   chunking), then every line goes to hdr_field and hdr_addrlist, and to
   hdr_addrlist_pos: each end within the list, after the previous one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "queue/hdr.h"

static int cb(void *ctx, const char *a, size_t len)
{
  size_t *n = ctx;
  if (len == 0 || len > HDR_ADDR_MAX || a[len] != 0) abort();
  (*n)++;
  return 0;
}

struct posck { size_t len, last; };
static int poscb(void *ctx, const char *a, size_t alen, size_t end)
{
  struct posck *c = ctx;
  if (alen == 0 || alen > HDR_ADDR_MAX || a[alen] != 0 || !end || end > c->len || end <= c->last) abort();
  c->last = end;
  return 0;
}

static size_t run(const char *in, size_t len, int dotend, size_t step, char *out)
{
  struct hdr_filter f = HDR_FILTER_ZERO;
  size_t o = 0, p = 0;
  f.dotend = dotend;
  while (p < len && !f.ended) {
    size_t n = len - p < step ? len - p : step, used = 0, k;
    k = hdr_filter_feed(&f, in + p, n, out + o, &used);
    if (k > n + 2 || used > n || (used < n && !f.ended)) abort();
    o += k;
    p += used;
  }
  o += hdr_filter_end(&f, out + o);
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *a, *b;
  size_t la, lb, step, p, namelen, n;
  int dotend;
  if (size < 1 || size > (1 << 20)) return 0;
  dotend = data[0] & 1;
  step = (size_t)(data[0] >> 1) + 1;
  data++; size--;
  a = malloc(size + 8); b = malloc(size + 8);
  if (!a || !b) abort();
  la = run((const char *)data, size, dotend, size ? size : 1, a);
  lb = run((const char *)data, size, dotend, step, b);
  if (la != lb || memcmp(a, b, la)) abort();
  if (la > size + 3) abort();
  for (p = 0; p < la; ) {
    char *nl = memchr(a + p, '\n', la - p);
    size_t l = nl ? (size_t)(nl - (a + p)) + 1 : la - p;
    if (hdr_field(a + p, l, &namelen)) {
      if (namelen >= l || a[p + namelen] != ':') abort();
      n = 0;
      (void)hdr_addrlist(a + p + namelen + 1, l - namelen - 1, &cb, &n);
    }
    n = 0;
    (void)hdr_addrlist(a + p, l, &cb, &n);
    {
      struct posck c = { l, 0 };
      (void)hdr_addrlist_pos(a + p, l, &poscb, &c);
    }
    p += l;
  }
  free(a); free(b);
  return 0;
}

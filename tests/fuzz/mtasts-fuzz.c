/* libFuzzer: send/mtasts.c. The input is tried as a policy file, as a TXT
   record and as a cache entry. A parsed policy has a known mode, a max_age
   in range and mx patterns of [a-z0-9.-] (with a leading "*."); an id is
   1..32 letters and digits; a cache entry's head formats back to what was
   parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/mtasts.h"

static void checkpol(const struct mtasts_policy *p)
{
  if ((unsigned)p->mode > MTASTS_ENFORCE || p->max_age > MTASTS_MAXAGE_MAX || p->nmx < 0 || p->nmx > MTASTS_MX_MAX) abort();
  for (int k = 0; k < p->nmx; k++) {
    const char *m = p->mx[k];
    size_t n = strlen(m);
    if (!n || n > ADDR_DOMAIN_MAX) abort();
    if (m[0] == '*') { if (n < 3 || m[1] != '.') abort(); m += 2; n -= 2; }
    if (strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n) abort();
    (void)mtasts_mx_match(p, p->mx[k]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct mtasts_policy p;
  static struct mtasts_cache c;
  static char b[MTASTS_CACHE_MAX];
  char id[MTASTS_ID_MAX + 1];
  const char *s = (const char *)data;
  if (mtasts_parse(s, size, &p) == 0) checkpol(&p);
  if (size < sizeof b) {
    memcpy(b, s, size);
    b[size] = 0;
    if (mtasts_domain_ok(b) && (strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(b) || strstr(b, ".."))) abort();
  }
  if (mtasts_txt(s, size, id) == 1) {
    size_t n = strlen(id);
    if (!n || n > MTASTS_ID_MAX) abort();
  }
  if (mtasts_cache_parse(s, size, &c) == 0) {
    size_t n = mtasts_cache_head(b, c.id, c.fetched, c.expires, c.checked, c.note);
    if (n > size || memcmp(b, s, n)) abort();
    if (c.havepolicy) checkpol(&c.pol);
  }
  return 0;
}

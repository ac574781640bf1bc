/* libFuzzer: common/addr.c. The first byte selects the options; the rest
   is parsed as a path and as a mailbox. Every accepted address must obey
   the internal-form invariants, survive addr_quote within its bound, and
   parse back (wire form) to the same internal form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"

static void check(const struct addr *a)
{
  char d[ADDR_DOMAIN_MAX + 1];
  if (a->len > ADDR_MAX || a->len != strlen(a->s)) abort();
  if (a->at > a->len || (a->at < a->len && a->s[a->at] != '@')) abort();
  if (a->at < a->len && memchr(a->s + a->at + 1, '@', a->len - a->at - 1)) abort();
  if (strpbrk(a->s, "\r\n")) abort();
  if (a->at > ADDR_LOCAL_MAX) abort();
  if (addr_domain_lower(a, d) > ADDR_DOMAIN_MAX) abort();
  (void)addr_is_postmaster(a);
  if (a->len) {
    char w[2 * ADDR_MAX + 4];
    struct addr b;
    size_t end, n = addr_quote(0, a->s, a->len);
    if (n > 2 * a->len + 2) abort();
    w[0] = '<';
    if (addr_quote(w + 1, a->s, a->len) != n) abort();
    w[n + 1] = '>';
    unsigned o = ADDR_O_UTF8 | ADDR_O_NODOMAIN;
    if (addr_parse_path(w, n + 2, o, &b, &end) != ADDR_OK) abort();
    if (end != n + 2 || b.len != a->len || memcmp(a->s, b.s, a->len)) abort();
    if (a->at < a->len && !addr_domain_valid(a->s + a->at + 1, a->len - a->at - 1, 1)) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct addr a;
  size_t end = 0;
  unsigned opts;
  if (!size) return 0;
  opts = data[0] & 0x0f;
  data++; size--;
  if (addr_parse_path((const char *)data, size, opts, &a, &end) == ADDR_OK) {
    if (end > size) abort();
    check(&a);
  } else if (a.len) abort();
  if (addr_parse_mailbox((const char *)data, size, opts, &a) == ADDR_OK) check(&a);
  else if (a.len) abort();
  (void)addr_domain_valid((const char *)data, size, opts & 1);
  {
    char *q = malloc(2 * size + 2);
    if (addr_quote(q, (const char *)data, size) > 2 * size + 2) abort();
    free(q);
  }
  return 0;
}

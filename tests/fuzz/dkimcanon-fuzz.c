/* libFuzzer: common/dkimcanon.c. The input is read as a message: its
   header fields are cut, relaxed (checked: no LF but the final CRLF, no
   double space, lowercase name) and searched for a From domain (checked
   against dkim_name_ok's rules); its body is canonicalised whole and in
   chunks whose size comes from the input, and both must agree and hold
   no bare LF, no space before CRLF and no empty line at the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/dkimcanon.h"

struct sink { size_t n, cap; char *b; };

static void put(void *ctx, const char *s, size_t n)
{
  struct sink *k = ctx;
  if (k->n + n > k->cap) abort();
  memcpy(k->b + k->n, s, n);
  k->n += n;
}

static void check_header(const char *f, size_t n)
{
  char *out = malloc(n + 2), dom[256];
  size_t l = dkim_relax_header(out, f, n, 1);
  if (l > n + 2) abort();
  if (l) {
    if (l < 3 || out[l - 2] != '\r' || out[l - 1] != '\n') abort();
    const char *colon = memchr(out, ':', l);
    size_t c;
    if (!colon) abort();
    c = (size_t)(colon - out);
    for (size_t i = 0; i < c; i++)  /* the name: lowercased, as it was otherwise */
      if ((out[i] >= 'A' && out[i] <= 'Z') || out[i] == '\n') abort();
    for (size_t i = c; i + 2 < l; i++)  /* the value: unfolded, single spaces */
      if (out[i] == '\n' || (out[i] == ' ' && (out[i + 1] == ' ' || i == c + 1 || i + 3 == l))) abort();
  }
  l = dkim_from_domain(dom, sizeof dom, f, n);
  if (l != strlen(dom) || (l && !dkim_name_ok(dom))) abort();
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  size_t i = 0, f, chunk = size ? (data[0] % 13) + 1 : 1;
  struct dkim_body b1 = DKIM_BODY_ZERO, b2 = DKIM_BODY_ZERO;
  struct sink k1, k2;
  while ((f = dkim_field_len(s + i, size - i)) > 0) {
    if (f > size - i) abort();
    check_header(s + i, f);
    i += f;
  }
  i += dkim_blank_len(s + i, size - i);
  k1.cap = k2.cap = 2 * (size - i) + 4;
  k1.b = malloc(k1.cap);
  k2.b = malloc(k2.cap);
  k1.n = k2.n = 0;
  dkim_body_feed(&b1, s + i, size - i, put, &k1);
  dkim_body_end(&b1, put, &k1);
  for (size_t j = i; j < size; j += chunk)
    dkim_body_feed(&b2, s + j, size - j < chunk ? size - j : chunk, put, &k2);
  dkim_body_end(&b2, put, &k2);
  if (k1.n != k2.n || memcmp(k1.b, k2.b, k1.n)) abort();
  if (k1.n) {
    if (k1.n < 3 || k1.b[k1.n - 2] != '\r' || k1.b[k1.n - 1] != '\n') abort();
    if (k1.n >= 4 && k1.b[k1.n - 4] == '\r' && k1.b[k1.n - 3] == '\n') abort();
  }
  for (size_t j = 0; j < k1.n; j++) {
    if (k1.b[j] == '\n' && (!j || k1.b[j - 1] != '\r')) abort();
    if (k1.b[j] == '\t') abort();
    if (k1.b[j] == ' ' && j + 2 < k1.n + 1 && j + 1 < k1.n && (k1.b[j + 1] == ' ' || (k1.b[j + 1] == '\r' && j + 2 < k1.n && k1.b[j + 2] == '\n'))) abort();
  }
  free(k1.b);
  free(k2.b);
  return 0;
}

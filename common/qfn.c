/* qfn: queue file names and the decimal numbers in them. */
#include <string.h>
#include "common/qfn.h"

size_t qfn_fmtu64(char *dst, uint64_t u)
{
  char tmp[20];
  size_t n = 0;
  do tmp[n++] = (char)('0' + u % 10); while (u /= 10);
  if (dst) for (size_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
  return n;
}

int qfn_scanu64(const char *s, size_t len, uint64_t *u)
{
  uint64_t v = 0;
  if (!len || len > 20) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned d;
    if (s[i] < '0' || s[i] > '9') return 0;
    d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return 0;
    v = v * 10 + d;
  }
  *u = v;
  return 1;
}

static size_t put(char *dst, size_t n, const char *s)
{
  size_t l = strlen(s);
  memcpy(dst + n, s, l);
  return n + l;
}

size_t qfn_split(char *dst, const char *dir, uint64_t n)
{
  size_t l = put(dst, 0, dir);
  dst[l++] = '/';
  l += qfn_fmtu64(dst + l, n % QUEUE_SPLIT);
  dst[l++] = '/';
  l += qfn_fmtu64(dst + l, n);
  dst[l] = 0;
  return l;
}

size_t qfn_flat(char *dst, const char *dir, uint64_t n)
{
  size_t l = put(dst, 0, dir);
  dst[l++] = '/';
  l += qfn_fmtu64(dst + l, n);
  dst[l] = 0;
  return l;
}

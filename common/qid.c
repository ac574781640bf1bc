/* qid: queue ids that never repeat (common/qid.h). */
#include <string.h>
#include "common/qid.h"

static const char digits[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* n in base 32, exactly w characters (w > 0), or minimal when w == 0 */
static size_t b32(char *dst, uint64_t n, size_t w)
{
  char t[16];
  size_t k = 0;
  do { t[k++] = digits[n & 31]; n >>= 5; } while (n || k < w);
  for (size_t i = 0; i < k; i++) dst[i] = t[k - 1 - i];
  return k;
}

size_t qid_fmt(char *dst, uint64_t sec, uint32_t usec, uint64_t inode)
{
  size_t n = b32(dst, sec, 7);
  n += b32(dst + n, usec, 4);
  n += b32(dst + n, inode, 0);
  dst[n] = 0;
  return n;
}

int qid_ok(const char *s, size_t len)
{
  if (len < 12 || len > QID_MAX - 1) return 0;
  for (size_t i = 0; i < len; i++)
    if (!s[i] || !memchr(digits, s[i], sizeof digits - 1)) return 0;
  return 1;
}

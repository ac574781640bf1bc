/* common/say.c: one diagnostic line on fd 2 (say.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "common/say.h"

void say3(const char *prog, const char *a, const char *b, const char *c)
{
  char buf[600];
  size_t n = 0;
  int e = errno;
  const char *v[5] = { prog, ": ", a, b, c };
  for (int i = 0; i < 5; i++) {
    size_t k = v[i] ? strlen(v[i]) : 0;
    if (k > sizeof buf - 1 - n) k = sizeof buf - 1 - n;
    memcpy(buf + n, v[i], k);
    n += k;
  }
  buf[n++] = '\n';
  (void)!write(2, buf, n);
  errno = e;
}

/* smtp-rcpt-fuzz: libFuzzer harness for smtpd/rcpt.c. Input: the
   virtualdomains file, a NUL, the recipient address. The rewritten local
   part must be lower case ASCII where the input was, fit its buffer and be
   what rcpt_known() is given; lookups see only keys shorter than the
   buffer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "smtpd/rcpt.h"

static int look(void *ctx, const char *k, size_t n)
{
  (void)ctx;
  if (n == 0 || n > RCPT_LOCAL_MAX || !strchr("*=+ua", k[0])) __builtin_trap();
  return n == 3 && k[1] == 'x';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char vd[70000];
  static const char loc[] = "demo.test\0.sub.test\0";
  struct ctl_list l = { (char *)loc, sizeof loc - 1, 2 }, v = CTL_LIST_ZERO;
  const uint8_t *z = memchr(data, 0, size);
  const char *a;
  char L[RCPT_LOCAL_MAX];
  size_t vl, al, n, i, w = 0;
  if (!z || size >= sizeof vd) return 0;
  vl = (size_t)(z - data);
  a = (const char *)z + 1;
  al = size - vl - 1;
  /* virtualdomains: the non-empty lines of the first part, NUL-terminated
     one after another (what ctl_readlist gives) */
  for (i = 0; i <= vl; i++) {
    char c = i < vl ? (char)data[i] : '\n';
    if (c == '\n') {
      if (w && vd[w - 1]) { vd[w++] = 0; v.n++; }
    } else if (c)
      vd[w++] = c;
  }
  if (v.n) { v.s = vd; v.len = w; }
  if (rcpt_local(a, al, &l, &v, L, &n) == 1) {
    if (n >= RCPT_LOCAL_MAX || L[n]) __builtin_trap();
    for (i = 0; i < n; i++) if (L[i] >= 'A' && L[i] <= 'Z') __builtin_trap();
    if (rcpt_known(L, n, look, 0) < 0) __builtin_trap();
  }
  return 0;
}

/* smtp-rcpt-fuzz: libFuzzer harness for smtpd/rcpt.c. Input: the
   virtualdomains file, a NUL, the recipient address. The rewritten local
   part must be lower case ASCII where the input was, fit its buffer and be
   what rcpt_known() is given; lookups see only keys shorter than the
   buffer. The address, parsed as a RCPT argument, then goes through the
   whole policy (rcpt_check) with and without RELAYCLIENT: what it accepts
   stays within ADDR_MAX and NUL-terminated. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "smtpd/rcpt.h"
#include "smtpd/smtp.h"

static int look(void *ctx, const char *k, size_t n)
{
  (void)ctx;
  if (n == 0 || n > RCPT_LOCAL_MAX || !strchr("*=+ua", k[0])) __builtin_trap();
  return n == 3 && k[1] == 'x';
}

static int mrh(void *ctx, const char *k, size_t n)
{
  (void)ctx;
  if (n == 0 || n > ADDR_DOMAIN_MAX) __builtin_trap();
  return n == 9 && !memcmp(k, "more.test", 9);
}

static void policy(const char *a, size_t al, const struct ctl_list *l, const struct ctl_list *v)
{
  static const char hosts[] = "demo.test\0.sub.test\0";
  static const char bad[] = "bad@demo.test\0@bad.test\0";
  struct ctl_list h = { (char *)hosts, sizeof hosts - 1, 2 }, b = { (char *)bad, sizeof bad - 1, 2 };
  struct rcpt_policy p;
  struct addr x;
  char arg[2048];
  int aerr;
  if (al > sizeof arg - 5) return;
  memcpy(arg, "TO:<", 4);
  memcpy(arg + 4, a, al);
  arg[al + 4] = '>';
  memset(&p, 0, sizeof p);
  p.me = "demo.test";
  p.localip = "127.0.0.1";
  p.localiphost = "demo.test";
  p.have_rcpthosts = 1;
  p.rcpthosts = &h;
  p.badrcptto = &b;
  p.locals = l;
  p.vdoms = v;
  p.morercpthosts = mrh;
  p.recipients = look;
  for (int relay = 0; relay < 2; relay++) {
    p.relayclient = relay ? "-relay" : 0;
    if (smtp_parse_rcpt(arg, al + 5, 1, &x, &aerr) != SMTP_OK) return;
    if (rcpt_check(&p, &x, relay) == RCPT_OK && (x.len > ADDR_MAX || x.s[x.len])) __builtin_trap();
    if (!rcpt_reply(rcpt_check(&p, &x, 0))) __builtin_trap();
  }
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
  policy(a, al, &l, &v);
  return 0;
}

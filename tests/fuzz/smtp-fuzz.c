/* smtp-fuzz: libFuzzer harness for smtpd/smtp.c. The first byte picks a
   target: command line, MAIL, RCPT, BDAT argument, or DATA/BDAT content fed
   in pieces; invariants are checked with __builtin_trap. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "smtpd/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char out[70000];
  const char *s = (const char *)data + 1;
  size_t n;
  if (size < 1) return 0;
  n = size - 1;
  switch (data[0] % 5) {
  case 0: {
    struct smtp_cmd c;
    if (smtp_cmd_parse(s, n, &c) && (c.arg < s || c.arg + c.arglen > s + n)) __builtin_trap();
    break;
  }
  case 1: {
    struct addr a; struct smtp_mailparams p; int e;
    if (smtp_parse_mail(s, n, &a, &p, &e) == SMTP_OK && a.len != strlen(a.s)) __builtin_trap();
    break;
  }
  case 2: {
    struct addr a; int e;
    if (smtp_parse_rcpt(s, n, data[0] & 8, &a, &e) == SMTP_OK && (a.len != strlen(a.s) || a.len > ADDR_MAX)) __builtin_trap();
    break;
  }
  case 3: {
    uint64_t v; int last;
    uint64_t c;
    int p = smtp_parse_bdat(s, n, &v, &last);
    if (p && v > SMTP_BDAT_MAX) __builtin_trap();
    /* a size the parser read is one the refusal path reads the same */
    if (p && (!smtp_bdat_count(s, n, &c) || c != v)) __builtin_trap();
    if (smtp_bdat_count(s, n, &c) && c > SMTP_BDAT_MAX) __builtin_trap();
    break;
  }
  default: {
    struct smtp_data d;
    size_t i = 0, step = (size_t)(data[0] >> 3) + 1, total = 0;
    smtp_data_init(&d, (data[0] & 4) ? SMTP_MODE_BDAT : SMTP_MODE_DATA, (data[0] & 2) ? 100 : 0);
    while (i < n && !d.done) {
      size_t k = n - i < step ? n - i : step, o, used;
      if (k > sizeof out - 1) k = sizeof out - 1;
      used = smtp_data_feed(&d, s + i, k, out, &o);
      if (used > k || o > k + 1) __builtin_trap();
      for (size_t j = 0; j < o; j++) if (out[j] == '\r' && !(d.flags & SMTP_D_BARECR)) __builtin_trap();
      total += o;
      i += used;
    }
    if (d.maxbytes && total > d.maxbytes) __builtin_trap();
    break;
  }
  }
  return 0;
}

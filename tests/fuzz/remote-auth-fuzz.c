/* libFuzzer: send/remote-auth.c, the relay credentials file. A found
   entry has a user without ':' and both fields 1..RAUTH_FIELD_MAX bytes
   without control bytes; its AUTH PLAIN argument fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/remote-auth.h"

static void check(const char *s)
{
  size_t n = strlen(s);
  if (!n || n > RAUTH_FIELD_MAX) abort();
  for (size_t k = 0; k < n; k++) if ((unsigned char)s[k] < 0x20 && s[k] != '\t') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *names[] = { "prov", "x", "" };
  struct rauth a;
  char out[RAUTH_PLAIN_MAX];
  for (size_t k = 0; k < 3; k++) {
    if (rauth_find((const char *)data, size, names[k], &a) != 1) continue;
    check(a.user);
    check(a.pass);
    if (strchr(a.user, ':')) abort();
    if (rauth_plain(&a, out) >= RAUTH_PLAIN_MAX) abort();
  }
  return 0;
}

/* libFuzzer: common/qctl.c, tern-send's reader of the command socket.
   Whatever the parser accepts is one line inside the input, with a known
   command and target and a NUL-terminated argument; formatting it again
   gives back the same bytes. Prefixes of the input without LF must ask
   for more or refuse, never accept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/qctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  struct qctl_req r;
  size_t used = 0;
  int k = qctl_parse(s, size, &r, &used);
  if (k == 1) {
    char out[QCTL_LINE_MAX];
    size_t n;
    if (used == 0 || used > size || used > QCTL_LINE_MAX || s[used - 1] != '\n') abort();
    if (memchr(s, '\n', used - 1)) abort();
    if (r.cmd < QCTL_LIST || r.cmd > QCTL_RETRY || r.target < QCTL_NONE || r.target > QCTL_ALL) abort();
    if (strnlen(r.arg, sizeof r.arg) == sizeof r.arg) abort();
    n = qctl_fmt(out, &r);
    if (n != used || memcmp(out, s, n)) abort();
  } else if (k == 0) {
    if (size >= QCTL_LINE_MAX || memchr(s, '\n', size)) abort();
  } else if (k != -1) abort();
  {
    char b[24];
    uint64_t v = 0;
    memcpy(&v, data, size < 8 ? size : 8);
    if (qctl_age(b, v) >= 24) abort();
  }
  return 0;
}

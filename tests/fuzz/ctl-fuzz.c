/* libFuzzer: common/ctl.c through its in-memory parsers
   (common/ctl_internal.h), the same code ctl_readline/ctl_readlist run on
   a file's bytes. The first byte picks the line buffer size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/ctl.h"
#include "common/ctl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s;
  size_t max, len = 0;
  char *buf;
  struct ctl_list l = CTL_LIST_ZERO;
  if (!size) return 0;
  max = data[0] ? data[0] : CTL_LINE_MAX;
  s = (const char *)data + 1;
  size--;
  buf = malloc(max);
  if (ctl_parse_line(s, size, buf, max, &len) == 1) {
    if (len >= max || buf[len] || strlen(buf) != len) abort();
    if (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r')) abort();
    if (memchr(buf, '\n', len)) abort();
  }
  free(buf);
  if (ctl_parse_list(s, size, &l) == 1) {
    size_t pos = 0, n = 0, total = 0;
    const char *e;
    if (l.len > size + 1) abort();
    while ((e = ctl_listnext(&l, &pos))) {
      size_t el = strlen(e);
      if (!el || e[0] == '#' || memchr(e, '\n', el)) abort();
      if (e[el - 1] == ' ' || e[el - 1] == '\t' || e[el - 1] == '\r') abort();
      total += el + 1;
      n++;
      (void)ctl_domain_match(&l, e, el);
    }
    if (n != l.n || total != l.len) abort();
    if (size) (void)ctl_domain_match(&l, s, size);
  } else if (l.s || l.n) abort();
  ctl_listfree(&l);
  return 0;
}

/* libFuzzer harness for local/dotfile.c: an instructions file of arbitrary
   bytes, split into lines and classified as tern-local does, plus the
   formatters (measure and write must agree). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "local/dotfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data, *line, *v;
  size_t pos = 0, ll, vl, n, m;
  int first = 1;
  char *d;
  if (size > DOTFILE_MAX) return 0;
  while (dotfile_next(buf, size, &pos, &line, &ll)) {
    int t = dotfile_line(line, ll, first, &v, &vl);
    first = 0;
    if (t == DF_PROGRAM || t == DF_MAILDIR || t == DF_MBOX || t == DF_FORWARD)
      if (v < line || v + vl > line + ll) abort();
    if (t < 0 && !dotfile_strerror(t)) abort();
    (void)dotfile_mboxrd_quote(line, ll);
  }
  d = malloc(2 * size + 16);
  if (!d) return 0;
  n = dotfile_quote(0, buf, size);
  m = dotfile_quote(d, buf, size);
  if (n != m || n > 2 * size + 2) abort();
  n = dotfile_maildir_host(0, buf, size < 4 ? size : 4);
  if (n != dotfile_maildir_host(d, buf, size < 4 ? size : 4)) abort();
  n = dotfile_fromsender(0, buf, size);
  if (n != dotfile_fromsender(d, buf, size)) abort();
  dotfile_safeext(d, buf, size);
  free(d);
  return 0;
}

/* qfile-fuzz: send/sched.c's completeness checks of tern-send's queue files
   (info/S/N, local/S/N, remote/S/N) on hostile bytes, as a power cut or a
   damaged disk may leave them. Input: the file's bytes. A file accepted as
   complete must end with its trailer, and its counts must match a plain
   recount. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *d = (const char *)data;
  size_t nr, nt, sl, n[2];
  const char *snd;
  char *copy;
  /* an exact-size heap copy: ASan catches any read past the end */
  copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, d, size);
  if (sched_chan_complete(copy, size, &nr, &nt)) {
    size_t pos = 0, r = 0, t = 0;
    if (size < 3 || copy[size - 1]) abort();
    while (pos < size && copy[pos] != 'E') {
      const char *z = memchr(copy + pos, 0, size - pos);
      if (!z) abort();
      if (copy[pos] == 'T') t++;
      if (copy[pos] != 'O') r++;
      pos = (size_t)(z - copy) + 1;
    }
    if (r != nr || t != nt || nt > nr) abort();
  }
  if (sched_info_complete(copy, size, &snd, &sl, n)) {
    if (copy[0] != 'F' || snd != copy + 1 || snd[sl] || copy[size - 1]) abort();
  }
  free(copy);
  return 0;
}

/* safe: bytes from strangers, made printable for logs and headers. */
#include <string.h>
#include "common/safe.h"

size_t safe_copy(char *dst, const char *s, size_t len, char repl, const char *bad)
{
  if (dst)
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      dst[i] = (c < 0x21 || c > 0x7e || (bad && strchr(bad, c))) ? repl : (char)c;
    }
  return len;
}

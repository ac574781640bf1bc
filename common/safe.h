#ifndef TERN_COMMON_SAFE_H
#define TERN_COMMON_SAFE_H
/* Text from strangers made safe for a log line or a header field. */
#include <stddef.h>
/* copy s[0..len) into dst, replacing every byte outside 0x21..0x7e (and
   every byte in 'bad', if not 0) by 'repl'; dst == 0 only measures;
   returns len */
extern size_t safe_copy(char *dst, const char *s, size_t len, char repl, const char *bad);
#endif

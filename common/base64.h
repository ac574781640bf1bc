#ifndef TERN_COMMON_BASE64_H
#define TERN_COMMON_BASE64_H
/* base64 (RFC 4648 section 4, the standard alphabet, '=' padding) as SMTP
   AUTH uses it (RFC 4954 section 4). libc only, no allocation. */
#include <stddef.h>

/* bytes base64_encode writes for n input bytes, the NUL not counted */
#define BASE64_ENCODED_LEN(n) (4 * (((n) + 2) / 3))

/* Encode s[0..n) into out (BASE64_ENCODED_LEN(n) + 1 bytes); NUL-
   terminates; returns the length without the NUL. */
extern size_t base64_encode(const char *s, size_t n, char *out);

/* Decode s[0..n) into out (cap bytes). The input must be whole groups of
   four characters of the alphabet, '=' only as the last one or two, and
   the unused bits of the last group zero (canonical form). An empty input
   decodes to 0 bytes. Returns the decoded length, or -1: a character
   outside the alphabet (blanks and line ends included), bad padding or
   length, non-zero pad bits, or more than cap bytes. */
extern long base64_decode(const char *s, size_t n, char *out, size_t cap);
#endif

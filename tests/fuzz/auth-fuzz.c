/* libFuzzer: what tern-smtpd reads during SMTP AUTH (smtpd/auth.c,
   common/base64.c) and what a checker reads on fd 3 (common/checkpw.c).
   Invariants: decoding is bounded, canonical (re-encoding gives the input
   back), and a parsed PLAIN user always formats as a checkpassword request
   that parses back to the same user and password. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/base64.h"
#include "common/checkpw.h"
#include "smtpd/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data, *ir, *u, *p;
  static char out[AUTH_DECODED_MAX], enc[BASE64_ENCODED_LEN(AUTH_DECODED_MAX) + 1], req[CHECKPW_REQ_MAX + 1];
  char user[CHECKPW_USER_MAX + 1], pass[CHECKPW_PASS_MAX + 1];
  size_t irl;
  long n;
  int m = auth_command(s, size, &ir, &irl);
  if (m > 0 && irl && (ir < s || ir + irl > s + size)) abort();
  n = auth_response(s, size, out);
  if (n > AUTH_DECODED_MAX) abort();
  if (n > 0 && !(size == 1 && s[0] == '=')) {
    size_t e = base64_encode(out, (size_t)n, enc);
    if (e != size || memcmp(enc, s, size)) abort();
  }
  if (auth_plain(s, size, user, pass) == 0) {
    size_t r = checkpw_format(req, user, strlen(user), pass, strlen(pass), "stamp");
    if (!r || r > CHECKPW_REQ_MAX) abort();
    if (checkpw_parse(req, r, &u, &p) < 0 || strcmp(u, user) || strcmp(p, pass)) abort();
  }
  if (size <= CHECKPW_REQ_MAX) {
    memcpy(req, s, size);
    if (checkpw_parse(req, size, &u, &p) == 0 && (strlen(u) > CHECKPW_USER_MAX || strlen(p) > CHECKPW_PASS_MAX)) abort();
  }
  return 0;
}

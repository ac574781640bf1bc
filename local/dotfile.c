/* dotfile: pure parsing and formatting for tern-local (libc only).
   The line rules are qmail-local's (dot-qmail(5)); see tern-local.8. */
#include <string.h>
#include "local/dotfile.h"

int dotfile_next(const char *buf, size_t len, size_t *pos, const char **line, size_t *llen)
{
  size_t i = *pos, j;
  if (i >= len) return 0;
  for (j = i; j < len && buf[j] != '\n'; j++) ;
  *line = buf + i;
  *llen = j - i;
  *pos = j < len ? j + 1 : len;
  return 1;
}

static int addr_ok(const char *s, size_t len)
{
  size_t i, at = len;
  if (!len || len > DOTFILE_ADDR_MAX) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '(' || c == ')') return 0;
    if (c == '@') at = i;
  }
  if (at == len || at == 0 || at + 1 == len) return 0;
  return 1;
}

int dotfile_line(const char *s, size_t len, int first, const char **v, size_t *vlen)
{
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  if (memchr(s, 0, len)) return DF_ENUL;
  if (len > DOTFILE_LINE_MAX) return DF_ELONG;
  *v = s; *vlen = len;
  if (!len) return first ? DF_EBLANK : DF_SKIP;
  switch (s[0]) {
    case '#': return DF_SKIP;
    case '|':
      *v = s + 1; *vlen = len - 1;
      return DF_PROGRAM;
    case '.': case '/':
      return s[len - 1] == '/' ? DF_MAILDIR : DF_MBOX;
    case '+':
      if (len == 5 && !memcmp(s, "+list", 5)) return DF_LIST;
      return DF_EUNKNOWN;
    case '&':
      s++; len--;
      /* fall through */
    default:
      if (!addr_ok(s, len)) return DF_EADDR;
      *v = s; *vlen = len;
      return DF_FORWARD;
  }
}

const char *dotfile_strerror(int e)
{
  switch (e) {
    case DF_EBLANK: return "first line of instructions file is blank";
    case DF_EADDR: return "bad forwarding address in instructions file";
    case DF_ELONG: return "line too long in instructions file";
    case DF_ENUL: return "NUL byte in instructions file";
    case DF_EUNKNOWN: return "unknown + line in instructions file";
    default: return "instructions file error";
  }
}

void dotfile_safeext(char *dst, const char *ext, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++) {
    char c = ext[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c == '.') c = ':';
    dst[i] = c;
  }
}

int dotfile_mboxrd_quote(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && s[i] == '>') i++;
  return len - i >= 5 && !memcmp(s + i, "From ", 5);
}

int dotfile_progexit(int code)
{
  switch (code) {
    case 0: return 0;
    case 99: return 99;
    case 100: case 64: case 65: case 70: case 76: case 77: case 78: case 112: return 100;
    default: return 111;
  }
}

size_t dotfile_maildir_host(char *dst, const char *h, size_t len)
{
  size_t i, n = 0;
  for (i = 0; i < len; i++) {
    const char *rep = h[i] == '/' ? "\\057" : h[i] == ':' ? "\\072" : 0;
    if (rep) { if (dst) memcpy(dst + n, rep, 4); n += 4; }
    else { if (dst) dst[n] = h[i]; n++; }
  }
  return n;
}

size_t dotfile_fromsender(char *dst, const char *s, size_t len)
{
  size_t i;
  if (!len) {
    if (dst) memcpy(dst, "MAILER-DAEMON", 13);
    return 13;
  }
  if (dst)
    for (i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      dst[i] = (c <= 0x20 || c == 0x7f) ? '-' : (char)c;
    }
  return len;
}

static int atext(unsigned char c)
{
  if (c >= 0x80) return 1;   /* RFC 6531 UTF-8 */
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0;
}

size_t dotfile_quote(char *dst, const char *s, size_t len)
{
  size_t at = len, i, n = 0;
  int dotstring = 1;
  for (i = len; i > 0; i--) if (s[i - 1] == '@') { at = i - 1; break; }
  if (!at && at < len) dotstring = 0;
  for (i = 0; i < at; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (!i || i + 1 == at || s[i + 1] == '.') dotstring = 0;
    } else if (!atext(c)) dotstring = 0;
  }
  if (!len) return 0;
  if (!dotstring) { if (dst) dst[n] = '"'; n++; }
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (c == '\n' || c == '\r') c = '_';
    if (!dotstring && i < at && (c == '"' || c == '\\')) { if (dst) dst[n] = '\\'; n++; }
    if (!dotstring && i == at) { if (dst) dst[n] = '"'; n++; }
    if (dst) dst[n] = c;
    n++;
  }
  if (!dotstring && at == len) { if (dst) dst[n] = '"'; n++; }
  return n;
}

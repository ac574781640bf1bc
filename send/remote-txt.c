/* send/remote-txt.c: bounded report texts (remote-txt.h). */
#include "send/remote-txt.h"

void tcat(struct txt *t, const char *s)
{
  while (*s && t->n < TXT_MAX) t->s[t->n++] = *s++;
  t->s[t->n] = 0;
}

void tcatb(struct txt *t, const char *s, size_t len)
{
  for (size_t i = 0; i < len && t->n < TXT_MAX; i++) t->s[t->n++] = s[i];
  t->s[t->n] = 0;
}

void tcatsafe(struct txt *t, const char *s)
{
  for (; *s && t->n < TXT_MAX; s++) {
    unsigned char u = (unsigned char)*s;
    t->s[t->n++] = (u >= 33 && u <= 126) ? *s : '?';
  }
  t->s[t->n] = 0;
}

void tcatu(struct txt *t, unsigned long u)
{
  char b[24];
  size_t n = 0;
  do b[n++] = (char)('0' + u % 10); while (u /= 10);
  while (n && t->n < TXT_MAX) t->s[t->n++] = b[--n];
  t->s[t->n] = 0;
}

/* common/base64.c: base64 for SMTP AUTH (base64.h). */
#include "common/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const char *s, size_t n, char *out)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t o = 0, i;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned long v = (unsigned long)u[i] << 16 | (unsigned long)u[i + 1] << 8 | u[i + 2];
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  if (i < n) {
    unsigned long v = (unsigned long)u[i] << 16 | (i + 1 < n ? (unsigned long)u[i + 1] << 8 : 0);
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  out[o] = 0;
  return o;
}

static int value(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long base64_decode(const char *s, size_t n, char *out, size_t cap)
{
  size_t o = 0;
  if (n % 4) return -1;
  for (size_t i = 0; i < n; i += 4) {
    int v[4], pad = 0;
    unsigned long w;
    for (int k = 0; k < 4; k++) {
      if (s[i + k] == '=' && i + 4 == n && k >= 2) { v[k] = 0; pad++; continue; }
      if (pad) return -1;                      /* data after '=' */
      if ((v[k] = value(s[i + k])) < 0) return -1;
    }
    w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 | (unsigned long)v[2] << 6 | (unsigned long)v[3];
    if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) return -1;  /* non-zero pad bits */
    if (o + 3 - (size_t)pad > cap) return -1;
    out[o++] = (char)(w >> 16);
    if (pad < 2) out[o++] = (char)(w >> 8);
    if (pad < 1) out[o++] = (char)w;
  }
  return (long)o;
}

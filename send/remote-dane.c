/* send/remote-dane.c: the DNS side of DANE for tern-remote (remote-dane.h). */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "send/remote-dane.h"

int dane_resolver(char ip[16])
{
  const char *e = getenv("DNSCACHEIP");
  char w[64];
  size_t n;
  memset(ip, 0, 16);
  ip[10] = ip[11] = (char)0xff;
  ip[12] = 127; ip[15] = 1;
  if (!e) return 0;
  e += strspn(e, " ");
  n = strcspn(e, " ");
  if (!n) return 0;
  if (n >= sizeof w) return -1;
  memcpy(w, e, n);
  w[n] = 0;
  if (inet_pton(AF_INET, w, ip + 12) == 1) return 0;
  return inet_pton(AF_INET6, w, ip) == 1 ? 0 : -1;
}

int dane_mx_secure(const char server[16], const char *host, unsigned long secs)
{
  struct dns_answer a;
  if (dns_ask(server, host, DNS_T_MX, secs, &a) < 0) return -1;
  if (a.rcode != 0 && a.rcode != 3) return -1;
  return a.ad;
}

int dane_probe(const char server[16], const char *name, unsigned long secs)
{
  static struct dns_answer a;
  if (dns_ask(server, name, DNS_T_SOA, secs, &a) < 0) return -1;
  return a.rcode == 0 && a.ad && a.n > 0;
}

enum dane_state dane_tlsa(const char server[16], const char *name, uint16_t port,
                          unsigned long secs, struct dane *d)
{
  static const char hex[] = "0123456789abcdef";
  static struct dns_answer a;
  char q[300];
  size_t nl = strlen(name);
  memset(d, 0, sizeof *d);
  if (nl > 253) return d->state = DANE_NONE;
  /* "_port._tcp." name */
  {
    char p[8];
    int k = 0;
    unsigned v = port;
    do p[k++] = (char)('0' + v % 10); while ((v /= 10));
    q[0] = '_';
    for (int i = 0; i < k; i++) q[1 + i] = p[k - 1 - i];
    memcpy(q + 1 + k, "._tcp.", 6);
    memcpy(q + 7 + k, name, nl + 1);
  }
  if (dns_ask(server, q, DNS_T_TLSA, secs, &a) < 0 || (a.rcode != 0 && a.rcode != 3)) return d->state = DANE_FAIL;
  if (!a.ad || !a.n) return d->state = DANE_NONE;
  for (int i = 0; i < a.ntlsa; i++) {
    const struct dns_tlsa *t = &a.t[i];
    char *s = d->arg[d->n];
    size_t n;
    if ((t->usage != 2 && t->usage != 3) || t->selector > 1 || t->mtype > 2) continue;
    s[0] = (char)('0' + t->usage); s[1] = ':'; s[2] = (char)('0' + t->selector); s[3] = ':';
    s[4] = (char)('0' + t->mtype); s[5] = ':';
    n = 6;
    for (size_t k = 0; k < t->len; k++) { s[n++] = hex[t->data[k] >> 4]; s[n++] = hex[t->data[k] & 15]; }
    s[n] = 0;
    d->n++;
  }
  return d->state = d->n ? DANE_USABLE : DANE_UNUSABLE;
}

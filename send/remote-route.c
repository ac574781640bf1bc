/* remote-route.c: where tern-remote connects for one host (see
   remote-route.h and tern-remote(8), ROUTING). Edge: libowfat's dns_mx and
   dns_ip6 (blocking, hence the alarm). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <ifaddrs.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "stralloc.h"
#include "dns.h"
#include "ip4.h"
#include "ip6.h"

#include "send/remote-route.h"

static const struct route_ctl *ctl;
static struct route_target *tg;
static int ntg;
static struct route_fail *fail;

/* set *fail; returns -1 for the caller to pass on */
static int failed(char letter, const char *text)
{
  size_t n = strlen(text);
  if (n > ROUTE_TEXT_MAX) n = ROUTE_TEXT_MAX;
  fail->letter = letter;
  memcpy(fail->text, text, n);
  fail->text[n] = 0;
  return -1;
}

static int nomem(void) { return failed('Z', "Out of memory. (#4.3.0)"); }

static void dnstimeout(int sig)
{
  static const char m[] = "ZDNS lookups took too long; will try again later. (#4.4.3)";
  const char *p = m;
  size_t n = sizeof m;   /* the NUL included */
  (void)sig;
  while (n) {
    ssize_t w = write(1, p, n);
    if (w < 0) { if (errno == EINTR) continue; break; }
    p += w; n -= (size_t)w;
  }
  _exit(0);
}

int route_scanip(const char *s, char ip[16])
{
  size_t n = strlen(s);
  if (!n || n > 60) return 0;
  return scan_ip6(s, ip) == n;
}

/* the route for key in control/smtproutes, or 0 */
static const char *routefind(const char *key)
{
  size_t pos = 0, kl = strlen(key);
  const char *e;
  while ((e = ctl_listnext(ctl->routes, &pos))) {
    const char *colon = strchr(e, ':');
    if (!colon) continue;
    if ((size_t)(colon - e) != kl) continue;
    size_t i;
    for (i = 0; i < kl; i++) {
      char c = e[i];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      if (c != key[i]) break;
    }
    if (i == kl) return colon + 1;
  }
  return 0;
}

/* the host itself, then each suffix from a dot, then the default route */
static const char *routeget(const char *host)
{
  const char *r = routefind(host);
  if (r) return r;
  for (const char *p = host; *p; p++) if (*p == '.' && (r = routefind(p))) return r;
  return routefind("");
}

static int addfamilyok(const char ip[16])
{
  int v4 = ip6_isv4mapped(ip);
  if (ctl->family == 4 && !v4) return 0;
  if (ctl->family == 6 && v4) return 0;
  return 1;
}

static void addtarget(const char ip[16], uint16_t port, int pref, const char *name)
{
  if (ntg >= ROUTE_TARGET_MAX || !addfamilyok(ip)) return;
  for (int i = 0; i < ntg; i++) if (!memcmp(tg[i].ip, ip, 16) && tg[i].port == port) return;
  memcpy(tg[ntg].ip, ip, 16);
  tg[ntg].port = port;
  tg[ntg].pref = pref;
  strncpy(tg[ntg].name, name, ADDR_DOMAIN_MAX);
  tg[ntg].name[ADDR_DOMAIN_MAX] = 0;
  tg[ntg].auth[0] = 0;
  tg[ntg].routed = 0;
  ntg++;
}

/* resolve name (a host name or an IP literal) into targets; -1 temporary
   DNS failure, -2 out of memory */
static int resolve(const char *name, uint16_t port, int pref)
{
  stralloc fq = {0}, out = {0};
  char ip[16];
  int r;
  if (route_scanip(name, ip)) { addtarget(ip, port, pref, name); return 0; }
  if (!stralloc_copys(&fq, name)) return -2;
  r = dns_ip6(&out, &fq);
  if (r == -1) { stralloc_free(&fq); stralloc_free(&out); return -1; }
  for (size_t i = 0; i + 16 <= out.len; i += 16) addtarget(out.s + i, port, pref, name);
  stralloc_free(&fq); stralloc_free(&out);
  return 0;
}

/* the literal inside [..] (with an optional "IPv6:" tag) into ip; 1 ok */
static int literal(const char *s, char ip[16])
{
  char b[80];
  size_t n = strlen(s);
  if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof b) return 0;
  memcpy(b, s + 1, n - 2); b[n - 2] = 0;
  if (!strncasecmp(b, "IPv6:", 5)) return route_scanip(b + 5, ip) && !ip6_isv4mapped(ip);
  return route_scanip(b, ip) && ip6_isv4mapped(ip);
}

/* ---------- our own addresses (the self-MX rule) ---------- */

static int ipinlist(const struct ctl_list *l, const char ip[16])
{
  size_t pos = 0;
  const char *e;
  char x[16];
  while ((e = ctl_listnext(l, &pos))) if (route_scanip(e, x) && !memcmp(x, ip, 16)) return 1;
  return 0;
}

static char (*ipme)[16];
static int nipme;

static int ipme_add(const char ip[16])
{
  char (*n)[16] = realloc(ipme, (size_t)(nipme + 1) * 16);
  if (!n) return -1;
  ipme = n;
  memcpy(ipme[nipme++], ip, 16);
  return 0;
}

/* every interface's address but those in notipme, :: and 0.0.0.0, and
   moreipme; -1 with *fail set */
static int ipme_init(void)
{
  struct ifaddrs *ifa, *p;
  char ip[16];
  size_t pos = 0;
  const char *e;
  nipme = 0;
  if (getifaddrs(&ifa) == -1) return failed('Z', "Unable to list my own IP addresses. (#4.3.0)");
  for (p = ifa; p; p = p->ifa_next) {
    if (!p->ifa_addr) continue;
    if (p->ifa_addr->sa_family == AF_INET) {
      memcpy(ip, V4mappedprefix, 12);
      memcpy(ip + 12, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, 4);
    } else if (p->ifa_addr->sa_family == AF_INET6) {
      memcpy(ip, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, 16);
    } else continue;
    if (!ipinlist(ctl->notipme, ip) && ipme_add(ip) == -1) { freeifaddrs(ifa); return nomem(); }
  }
  freeifaddrs(ifa);
  memset(ip, 0, 16);                                            /* :: */
  if (ipme_add(ip) == -1) return nomem();
  memcpy(ip, V4mappedprefix, 12); memset(ip + 12, 0, 4);        /* 0.0.0.0 */
  if (ipme_add(ip) == -1) return nomem();
  while ((e = ctl_listnext(ctl->moreipme, &pos)))
    if (route_scanip(e, ip) && ipme_add(ip) == -1) return nomem();
  return 0;
}

static int isme(const char ip[16])
{
  for (int i = 0; i < nipme; i++) if (!memcmp(ipme[i], ip, 16)) return 1;
  return 0;
}

/* self-MX rule (qmail): drop every address whose preference is >= the
   best preference at which one of our own addresses appears */
static int selfmx(void)
{
  int best = -1, k = 0;
  if (ipme_init() == -1) return -1;
  for (int i = 0; i < ntg; i++) if (isme(tg[i].ip) && (best < 0 || tg[i].pref < best)) best = tg[i].pref;
  if (best < 0) return 0;
  for (int i = 0; i < ntg; i++) if (tg[i].pref < best) tg[k++] = tg[i];
  ntg = k;
  if (!ntg) return failed('D', "Sorry. Although I'm listed as a best-preference MX or A for that host,\n"
                               "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)");
  return 0;
}

/* ---------- smtproutes: relay[:port] or [literal][:port], then " auth=NAME" ---------- */

static int badroute(void)
{
  return failed('Z', "Unable to parse the entry for this domain in control/smtproutes. (#4.3.0)");
}

static int relay(const char *r)
{
  char name[ADDR_DOMAIN_MAX + 1], ip[16], auth[ROUTE_AUTH_MAX + 1];
  unsigned long p;
  int res;
  if (!ctl_relay_auth(r, name, sizeof name, &p, auth, sizeof auth)) return badroute();
  if (literal(name, ip)) addtarget(ip, (uint16_t)p, 0, name);
  else if ((res = resolve(name, (uint16_t)p, 0)) == -2) return nomem();
  else if (res == -1) return failed('Z', "Temporary DNS failure looking up the smtproutes relay. (#4.4.3)");
  if (!ntg) return failed('Z', "Sorry, I couldn't find any address for the smtproutes relay. (#4.4.1)");
  for (int i = 0; i < ntg; i++) { memcpy(tg[i].auth, auth, sizeof auth); tg[i].routed = 1; }
  return 0;
}

/* ---------- MX records ---------- */

struct mx { int pref; unsigned long key; char name[ADDR_DOMAIN_MAX + 1]; };

static int mxcmp(const void *a, const void *b)
{
  const struct mx *x = a, *y = b;
  if (x->pref != y->pref) return x->pref < y->pref ? -1 : 1;
  return x->key < y->key ? -1 : x->key > y->key;
}

/* no MX: the host's own AAAA and A records */
static int implicitmx(const char *host)
{
  int r = resolve(host, 25, 0);
  if (r == -2) return nomem();
  if (r == -1) return failed('Z', "Sorry, I couldn't find any host by that name (temporary DNS failure). (#4.1.2)");
  if (!ntg) {
    static const char a[] = "Sorry, I couldn't find any host named ", b[] = ". (#5.1.2)";
    char t[ROUTE_TEXT_MAX + 1];
    size_t n = sizeof a - 1;
    memcpy(t, a, n);
    for (; *host && n < ROUTE_TEXT_MAX - sizeof b; host++) {   /* bytes 33..126, else '?' */
      unsigned char u = (unsigned char)*host;
      t[n++] = (u >= 33 && u <= 126) ? *host : '?';
    }
    memcpy(t + n, b, sizeof b);
    return failed('D', t);
  }
  return 0;
}

/* the MX records of host, sorted by preference, random among equals */
static int mxlookup(const char *host)
{
  stralloc fq = {0}, out = {0};
  static struct mx mxs[ROUTE_MX_MAX];
  int nmx = 0, nnull = 0, soft = 0;
  if (!stralloc_copys(&fq, host)) return nomem();
  if (dns_mx(&out, &fq) == -1)
    return failed('Z', "Sorry, I couldn't look up the mail exchangers for that host (temporary DNS failure). (#4.4.3)");
  srandom((unsigned)time(0) ^ ((unsigned)getpid() << 16));
  for (size_t i = 0; i + 2 < out.len && nmx < ROUTE_MX_MAX; ) {
    int pref = ((unsigned char)out.s[i] << 8) | (unsigned char)out.s[i + 1];
    const char *name = out.s + i + 2;
    size_t nl = strnlen(name, out.len - i - 2);
    if (i + 2 + nl >= out.len) break;      /* no NUL: malformed, stop */
    i += 2 + nl + 1;
    if (!nl || !strcmp(name, ".")) { nnull++; continue; }
    if (nl > ADDR_DOMAIN_MAX) continue;
    mxs[nmx].pref = pref;
    mxs[nmx].key = (unsigned long)random();
    memcpy(mxs[nmx].name, name, nl + 1);
    nmx++;
  }
  stralloc_free(&fq); stralloc_free(&out);
  if (!nmx && nnull) return failed('D', "Sorry, the domain accepts no mail: it publishes a null MX (RFC 7505). (#5.1.10)");
  if (!nmx) return implicitmx(host);
  qsort(mxs, (size_t)nmx, sizeof *mxs, mxcmp);
  for (int i = 0; i < nmx; i++) {
    int r = resolve(mxs[i].name, 25, mxs[i].pref);
    if (r == -2) return nomem();
    if (r == -1) soft = 1;
  }
  if (!ntg) {
    if (soft) return failed('Z', "Sorry, I couldn't find the address of any mail exchanger (temporary DNS failure). (#4.4.3)");
    return failed('D', "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)");
  }
  return 0;
}

int route_targets(const char *host, const struct route_ctl *c, struct route_target *t, struct route_fail *f)
{
  const char *r;
  char ip[16];
  int res;
  ctl = c; tg = t; ntg = 0; fail = f;
  r = routeget(host);
  signal(SIGALRM, dnstimeout);
  alarm((unsigned)ctl->timeoutdns);
  if (r && *r) {
    res = relay(r);
    alarm(0);
    return res == -1 ? -1 : ntg;   /* no self-MX rule with a route (qmail) */
  }
  if (literal(host, ip)) { addtarget(ip, 25, 0, host); res = 0; }
  else res = mxlookup(host);
  alarm(0);
  if (res == -1 || selfmx() == -1) return -1;
  return ntg;
}

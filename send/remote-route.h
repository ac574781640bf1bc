#ifndef TERN_SEND_REMOTE_ROUTE_H
#define TERN_SEND_REMOTE_ROUTE_H
/* Where tern-remote connects for one host: control/smtproutes, else the MX
   records (RFC 5321 5.1, RFC 7505 null MX), else the implicit MX, each
   name's AAAA and A records, the address family filter and qmail's
   self-MX rule. Edge module (libowfat's DNS resolver, never skalibs); the
   rules are in tern-remote(8), section ROUTING. */
#include <stdint.h>
#include "common/addr.h"
#include "common/ctl.h"

#define ROUTE_TARGET_MAX 256    /* addresses kept per delivery */
#define ROUTE_MX_MAX 64         /* MX records used */
#define ROUTE_TEXT_MAX (ADDR_DOMAIN_MAX + 200)
#define ROUTE_AUTH_MAX 64       /* bytes of a credentials name */

struct route_target {
  char ip[16];                  /* IPv6; IPv4 as v4-mapped */
  uint16_t port;                /* 1..65535 */
  int pref;                     /* MX preference, 0 for a route or implicit MX */
  char name[ADDR_DOMAIN_MAX + 1]; /* the name it was found under, as given */
  char auth[ROUTE_AUTH_MAX + 1];  /* smtproutes " auth=NAME": the credentials' name; "" none */
  int routed;                     /* 1: from control/smtproutes, 0: from DNS */
};

struct route_ctl {
  const struct ctl_list *routes;    /* control/smtproutes */
  const struct ctl_list *moreipme;  /* control/moreipme */
  const struct ctl_list *notipme;   /* control/notipme */
  int family;                       /* 0 any, 4 IPv4 only, 6 IPv6 only */
  unsigned long timeoutdns;         /* seconds for the whole DNS phase */
};

struct route_fail {
  char letter;                  /* 'Z' temporary, 'D' permanent */
  char text[ROUTE_TEXT_MAX + 1]; /* report text, ends in (#x.y.z), no NUL inside */
};

/* host: the lower-case domain (at most ADDR_DOMAIN_MAX bytes) or an address
   literal [a.b.c.d] / [IPv6:...]. Fills tg[0..ROUTE_TARGET_MAX) in the order
   to try and returns how many (0 only for an address literal of the family
   control/remotefamily excludes), or -1 with *fail set (no address, a
   DNS failure, a malformed smtproutes entry, the self-MX rule, no memory).
   The DNS lookups run under alarm(ctl->timeoutdns); if it fires, the
   SIGALRM handler writes the message report "Z...(#4.4.3)" with its NUL on
   fd 1 and _exit(0)s, as tern-remote's reports do. */
extern int route_targets(const char *host, const struct route_ctl *ctl,
                         struct route_target *tg, struct route_fail *fail);

/* 1 if the whole of s is an IPv4 or IPv6 address (IPv4 stored v4-mapped
   in ip), else 0 */
extern int route_scanip(const char *s, char ip[16]);
#endif

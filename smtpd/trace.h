#ifndef TERN_SMTPD_TRACE_H
#define TERN_SMTPD_TRACE_H
/* trace: the bytes tern-smtpd writes about a session: its Received line
   (RFC 5321 4.4) and its log lines on fd 2 (tern-smtpd.8 LOG). libc and
   common/ only. Untrusted bytes (HELO, addresses, host names) are made
   safe: spaces and control bytes become '?'. */
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include "smtpd/session.h"

#define LOG_MAX 4000          /* one log line or Received line, bytes */

/* a line being built; bytes beyond LOG_MAX are dropped */
struct lg { char s[LOG_MAX]; size_t n; };
extern void lg_cat(struct lg *l, const char *s, size_t n);
extern void lg_cats(struct lg *l, const char *s);
extern void lg_safe(struct lg *l, const char *s, size_t n);   /* untrusted bytes */
extern void lg_ulong(struct lg *l, unsigned long long u);
/* write l and a newline to fd 2 (errors ignored) */
extern void lg_log(const struct lg *l);

/* "TIME.PID.N" into dst (TRANSID_MAX bytes), NUL-terminated */
extern void trace_transid(char *dst, time_t now, pid_t pid, unsigned long n);

/* The Received line of s's transaction into l (l->n = 0 first), LF-ended:
   "Received: from HELO ([host ][IP])\n\t[(using PROTOCOL with cipher
   CIPHER (BITS/BITS bits))\n\t]by ME (tern-smtpd) with PROTO id
   ID[\n\tfor <rcpt>]; DATE\n", with "(unverified: [host ][IP])" when
   c->unverified. The TLS comment is Postfix's; PROTO is SMTP, ESMTP or
   UTF8SMTP with S added inside TLS and A after AUTH (RFC 3848, RFC 6531). */
extern void trace_received(struct lg *l, const struct session *s, const struct client *c,
                           const char *me, time_t now);

/* "tern-smtpd: info: IP helo H from <s> to <r>... size N [tls PROTOCOL/
   CIPHER] [user U] id ID [msg N qp P | qp P] result REPLY": one line per
   transaction (qp: the queue program's pid when it reported no id, 0 for
   none) */
extern void trace_transaction(const struct session *s, const struct client *c,
                              const char *result, uint64_t size, pid_t qp);

/* "tern-smtpd: info: IP WHAT from <s> to <a>": a refused recipient */
extern void trace_refusal(const struct session *s, const struct client *c,
                          const char *what, const struct addr *a);

/* " tls PROTOCOL/CIPHER" inside TLS, " user U" after AUTH, to l */
extern void trace_tlsuser(struct lg *l, const struct session *s);

/* One AUTH attempt that got the reply result: "tern-smtpd: info: IP auth
   ok user U mechanism M [tls PROTOCOL] result 235 ..." for 2xx;
   "tern-smtpd: warning: IP auth failed user U ..." for 5xx and 421 (the
   line the fail2ban filter, tern-smtpd.fail2ban, matches); "... auth
   deferred ..." for other 4xx (the checker's trouble, not the client's). */
extern void trace_auth(const struct session *s, const struct client *c, const char *user,
                       const char *mech, const char *result);

/* "tern-smtpd: info: IP tls PROTOCOL cipher CIPHER bits N sni NAME": the
   handshake is done */
extern void trace_tls(const struct session *s, const struct client *c);

/* "tern-smtpd: warning: IP WHAT" */
extern void trace_warn(const struct client *c, const char *what);
#endif

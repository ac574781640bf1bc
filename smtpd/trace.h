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
   "Received: from HELO ([host ][IP])\n\tby ME (tern-smtpd) with PROTO id
   ID[\n\tfor <rcpt>]; DATE\n", with "(unverified: [host ][IP])" when
   c->unverified. */
extern void trace_received(struct lg *l, const struct session *s, const struct client *c,
                           const char *me, time_t now);

/* "tern-smtpd: info: IP helo H from <s> to <r>... size N id ID [msg N qp P
   | qp P] result REPLY": one line per transaction (qp: the queue program's
   pid when it reported no id, 0 for none) */
extern void trace_transaction(const struct session *s, const struct client *c,
                              const char *result, uint64_t size, pid_t qp);

/* "tern-smtpd: info: IP WHAT from <s> to <a>": a refused recipient */
extern void trace_refusal(const struct session *s, const struct client *c,
                          const char *what, const struct addr *a);

/* "tern-smtpd: warning: IP WHAT" */
extern void trace_warn(const struct client *c, const char *what);
#endif

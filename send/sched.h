#ifndef TERN_SEND_SCHED_H
#define TERN_SEND_SCHED_H
/* sched: tern-send's pure logic (no I/O, libc only): address
   classification (reference/qmail.md 4.2), the retry schedule (4.4), log-safe
   text (CONVENTIONS.md 7), bounce/N paragraphs (4.7) and the RFC 3464 bounce
   message built from them. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "common/ctl.h"

#define SCHED_LOCAL 0
#define SCHED_REMOTE 1
#define SCHED_TOOLONG -1

#define SCHED_REWRITE_MAX 2100   /* classified address, bytes with NUL */

/* Classify envelope recipient a[0..len): an address without '@' gets
   "@" + envnoathost; a domain in locals is local; virtualdomains (entries
   "key:prepend", keys tried in the order user@domain, domain, .suffixes,
   "" ; the last line with a key wins; an empty prepend means "not virtual")
   rewrite to "prepend-user@domain" and are local; anything else is remote.
   The result (NUL-terminated) goes to out (SCHED_REWRITE_MAX bytes), its
   length to *outlen. Returns SCHED_LOCAL, SCHED_REMOTE or SCHED_TOOLONG (the
   input or the result is over ADDR_MAX bytes). */
extern int sched_classify(const char *a, size_t len, const struct ctl_list *locals,
                          const struct ctl_list *virtualdomains, const char *envnoathost,
                          char *out, size_t *outlen);

/* qmail's retry schedule: birth + (floor(sqrt(now - birth)) + skip)^2 */
extern time_t sched_nextretry(time_t birth, time_t now, unsigned skip);

/* log-safe copy: bytes outside 0x21..0x7e become '_', LF becomes '/'.
   dst == 0 measures; returns len. */
extern size_t sched_logsafe(char *dst, const char *s, size_t len);

/* bounce/N paragraph: "<rcpt>:\n" report "\n\n" where LF in rcpt becomes
   '_', NUL in the report '_', the second of two LFs in a row '/', and a
   missing final LF is added. dst == 0 measures; returns the length. */
extern size_t sched_bounce_para(char *dst, const char *rcpt, size_t rlen, const char *report, size_t replen);

/* enhanced status code of a failure text: the last "(#x.y.z)" in it with the
   class forced to 5 (it is a failure), else "5.0.0". out: 16 bytes. */
extern void sched_status(const char *text, size_t len, char *out);

#define SCHED_BOUNCE_HEADERS_MAX 65536  /* original header bytes quoted, at most */
#define SCHED_BOUNCE_RCPT_MAX 10000     /* recipient paragraphs listed, at most */

struct sched_bounce_in {
  const char *sender;       /* the original envelope sender (the bounce's To) */
  const char *bouncefrom;   /* "MAILER-DAEMON" */
  const char *bouncehost;
  const char *date;         /* RFC 5322 date */
  const char *boundary;     /* MIME boundary base (made unique inside) */
  uint64_t id;              /* message number */
  const char *failures;     /* the contents of bounce/N */
  size_t flen;
  const char *message;      /* the original message (only its headers are used) */
  size_t mlen;
};

/* The bounce: a multipart/report (RFC 3464, RFC 6522) with a text/plain part
   listing each failed recipient and reason, a message/delivery-status part and
   the original headers as text/rfc822-headers. LF line ends. dst == 0
   measures; returns the length. Never reads outside its inputs, whatever
   bytes they hold. */
extern size_t sched_bounce(char *dst, const struct sched_bounce_in *b);
#endif

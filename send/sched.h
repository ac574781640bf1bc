#ifndef TERN_SEND_SCHED_H
#define TERN_SEND_SCHED_H
/* sched: tern-send's pure logic (no I/O, libc only): address
   classification (qmail-send(8), qmail-control(5)), qmail's retry schedule,
   log-safe text, bounce/N paragraphs and the RFC 3464 bounce message built
   from them. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "common/ctl.h"

#define SCHED_LOCAL 0
#define SCHED_REMOTE 1
#define SCHED_TOOLONG -1

#define SCHED_REWRITE_MAX 2100   /* classified address, bytes with NUL */

/* the lists and values sched_classify reads (control files) */
struct sched_ctl {
  const struct ctl_list *locals;        /* control/locals */
  const struct ctl_list *vdoms;         /* control/virtualdomains */
  const struct ctl_list *percenthack;   /* control/percenthack */
  const char *envnoathost;              /* control/envnoathost */
};

/* Classify envelope recipient a[0..len) as qmail-send does: an address
   without '@' gets "@" + envnoathost; while its domain is listed in
   percenthack (exact, any case) and its local part holds a '%', the last '%'
   becomes '@' and the old "@domain" is dropped; a domain in locals is local;
   virtualdomains (entries "key:prepend", keys tried in the order
   user@domain, domain, .suffixes, "" ; the last line with a key wins; an empty
   prepend means "not virtual") rewrite to "prepend-user@domain" and are
   local; anything else is remote. The result (NUL-terminated) goes to out
   (SCHED_REWRITE_MAX bytes), its length to *outlen; *prelen (if prelen is not
   0) gets the length of "prepend-" (0 when no virtual domain applied), so
   out + *prelen is the address the sender used, as bounces show it. Returns
   SCHED_LOCAL, SCHED_REMOTE or SCHED_TOOLONG (the input or the result is over
   ADDR_MAX bytes). */
extern int sched_classify(const char *a, size_t len, const struct sched_ctl *ctl,
                          char *out, size_t *outlen, size_t *prelen);

/* control/delaywarning: hours, a decimal number with an optional fraction
   ("4", "0.5", "0.001"); whole seconds, rounded down, at least 1 when the
   value is not zero. 1 and *secs; 0 if malformed (over 100000 hours too). */
extern int sched_hours(const char *s, unsigned long *secs);

/* qmail's retry schedule: birth + (floor(sqrt(now - birth)) + skip)^2 */
extern time_t sched_nextretry(time_t birth, time_t now, unsigned skip);

/* log-safe copy: bytes outside 0x21..0x7e become '_', LF becomes '/'.
   dst == 0 measures; returns len. */
extern size_t sched_logsafe(char *dst, const char *s, size_t len);

/* bounce/N paragraph: "<rcpt>:\n" report "\n\n" where LF in rcpt becomes
   '_', NUL in the report '_', the second of two LFs in a row '/', and a
   missing final LF is added. dst == 0 measures; returns the length. */
extern size_t sched_bounce_para(char *dst, const char *rcpt, size_t rlen, const char *report, size_t replen);

/* enhanced status code of a failure text, class forced to 5 (it is a
   failure): "5.4.7" when the text carries qmail's expiry sentence; else the
   code of the first "Remote host said: NNN x.y.z"; else the first "(#x.y.z)"
   (later ones are generic: tern-local appends its own after a program's
   text); else "5.0.0". out: 16 bytes. */
extern void sched_status(const char *text, size_t len, char *out);

/* the same with class cls ('4' for a delay report, '5' for a failure);
   the default is cls.0.0 */
extern void sched_status_class(const char *text, size_t len, char cls, char *out);

/* the remote MTA a report names: "Connected to NAME[IP]" or a line starting
   "NAME[IP] " (tern-remote's texts). 1 and name/len, or 0 */
extern int sched_remote_mta(const char *text, size_t len, const char **name, size_t *nlen);

#define SCHED_BOUNCE_HEADERS_MAX 65536  /* original header bytes quoted, at most */
#define SCHED_BOUNCE_RCPT_MAX 10000     /* recipient paragraphs listed, at most */

#define SCHED_KIND_FAILED 0   /* permanent failures of a message */
#define SCHED_KIND_DOUBLE 1   /* a bounce that failed (goes to the postmaster) */
#define SCHED_KIND_DELAYED 2  /* a delay warning (Action: delayed) */

struct sched_bounce_in {
  int kind;                 /* SCHED_KIND_* */
  const char *to;           /* the report's recipient (To:) */
  const char *bouncefrom;   /* "MAILER-DAEMON" */
  const char *bouncehost;   /* From: host, intro text */
  const char *mta;          /* Reporting-MTA (dns) */
  const char *date;         /* RFC 5322 date */
  const char *arrival;      /* Arrival-Date (RFC 5322 date), 0 = none */
  const char *msgid;        /* Message-ID value with <>, 0 = none */
  const char *boundary;     /* MIME boundary base (made unique inside) */
  uint64_t id;              /* message number */
  const char *failures;     /* bounce/N paragraphs "<rcpt>:\ntext\n\n" */
  size_t flen;
  const char *message;      /* the original message, its first mlen bytes */
  size_t mlen;
  uint64_t msize;           /* the original's whole size */
  uint64_t maxbytes;        /* whole message when msize <= maxbytes (and mlen == msize) */
};

/* The report: a multipart/report (RFC 3464, RFC 6522) with a text/plain part
   listing each recipient and reason, a message/delivery-status part
   (Reporting-MTA, Arrival-Date; per recipient Final-Recipient, Action,
   Status, Diagnostic-Code, Remote-MTA when the text names one) and the
   original message as message/rfc822 when it is at most maxbytes, else its
   headers (at most SCHED_BOUNCE_HEADERS_MAX bytes) as text/rfc822-headers.
   LF line ends. dst == 0 measures; returns the length. Never reads outside
   its inputs, whatever bytes they hold. */
extern size_t sched_bounce(char *dst, const struct sched_bounce_in *b);
/* ---- what a bounce may quote (tern-send.8, BOUNCE BODY) ----
   A message's origin, read from its trace header. The first field of every
   queued message is tern-queue's own "Received: (tern PID invoked by uid
   UID); DATE", written before the injector's first byte, UID from the
   kernel; mail from tern-smtpd (uid ternd) has next tern-smtpd's
   "Received: from HELO (...)\n\tby ME (tern-smtpd) with PROTO id ..." line,
   also written before any byte of the client's. A forward by tern-local
   keeps the message it forwards under its own lines, so a forwarded
   message shows every injection it went through. */
#define SCHED_ORIGIN_LOCAL 0   /* injected by a local user (sendmail, a forward of local mail) */
#define SCHED_ORIGIN_AUTH 1    /* from an SMTP client that authenticated (PROTO ESMTPA, ESMTPSA, UTF8SMTPA, UTF8SMTPSA) */
#define SCHED_ORIGIN_SMTP 2    /* from an SMTP client that did not, or unknown */
#define SCHED_ORIGINS 3
#define SCHED_UID_UNKNOWN UINT64_MAX   /* no ternd user: every message counts as SMTP */

/* The origin of the message m[0..mlen) (its first bytes; more != 0 when
   the message goes on after them). SCHED_ORIGIN_SMTP when the first field
   is not a tern-queue Received line, when any tern-queue Received line in
   the header names uid smtpuid and the next Received field is not a
   tern-smtpd line whose PROTO says the client authenticated, when the
   header does not end inside m[0..mlen) although more follows, or when
   smtpuid is SCHED_UID_UNKNOWN; else SCHED_ORIGIN_AUTH when some tern-queue
   line names smtpuid; else SCHED_ORIGIN_LOCAL. A client can only add
   lines below the ones tern writes for it, so it can make its mail look
   less trusted, never more. Never reads outside m[0..mlen). */
extern int sched_origin(const char *m, size_t mlen, int more, uint64_t smtpuid);

#define SCHED_BODY_HEADERS 0   /* a bounce quotes the original's header only */
#define SCHED_BODY_ALL 1       /* the whole original up to bouncemaxbytes, else its header */

/* the defaults: local all, auth all, smtp headers (mode[SCHED_ORIGIN_*]) */
extern void sched_bodymode_default(unsigned char mode[SCHED_ORIGINS]);

/* One line s[0..len) of control/bouncebody into mode[]: "all" or
   "headers" sets the mode of SCHED_ORIGIN_SMTP; "ORIGIN:MODE" with ORIGIN
   local, auth or smtp sets that origin's. Blanks (SP, TAB, CR) around the
   line are ignored; an empty line or one starting with '#' changes
   nothing. 1 ok; 0 malformed (mode unchanged). */
extern int sched_bodymode_line(const char *s, size_t len, unsigned char mode[SCHED_ORIGINS]);

/* ---- tern-send's journal (tern-send.8, READING THE QUEUE) ----
   state/journal: records, each  type queue-id ' ' decimal ';' NUL, with
   type D (recipient number v of the message is done), L and R (the local
   and remote channel's next retry, Unix time). */

#define SCHED_JREC_MAX (1 + 24 + 1 + 20 + 1 + 1)   /* the longest record, NUL included */

/* the record of type for message qid and value v into dst
   (SCHED_JREC_MAX bytes); returns its length, NUL included. qid: at most
   24 bytes, no SP, NUL or ';' */
extern size_t sched_jrec_fmt(char *dst, char type, const char *qid, uint64_t v);

/* one record's value v[0..vlen) (what follows the type letter, without
   the NUL) of type: 1 and qid[0..*qlen) (a pointer into v), *val when
   type is D, L or R, the qid is 1..24 bytes and the value is "qid SP
   decimal ;" with 1..20 digits that fit in 64 bits; 0 if not. A record
   cut anywhere before its ';' is refused, so a torn write followed by
   zeros never reads as a shorter number. Never reads outside v[0..vlen). */
extern int sched_jrec_parse(char type, const char *v, size_t vlen, const char **qid, size_t *qlen, uint64_t *val);

/* message number -> index in tern-send's table (open addressing). A zero
   struct is an empty map. put: 1, or 0 out of memory (the map is unchanged) */
struct sched_idmap { uint64_t *key; size_t *val; size_t cap, n; };
extern int sched_idmap_put(struct sched_idmap *m, uint64_t id, size_t v);
extern int sched_idmap_get(const struct sched_idmap *m, uint64_t id, size_t *v);
extern void sched_idmap_del(struct sched_idmap *m, uint64_t id);
extern void sched_idmap_free(struct sched_idmap *m);
#endif

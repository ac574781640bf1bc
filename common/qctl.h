#ifndef TERN_COMMON_QCTL_H
#define TERN_COMMON_QCTL_H
/* The queue command protocol (libc only): what tern-queuectl asks
   tern-send on the command socket HOME/sock/send, and the pure pieces the
   server's answers are made of. tern-queuectl(8) documents it.

   Request: one line, at most QCTL_LINE_MAX bytes with its LF, in ASCII:
     "list" | "show ID" | "delete ID" | "delete @DOMAIN" | "delete all"
     | "hold ID" | "release ID" | "retry ID" | "retry @DOMAIN" | "retry all"
   One space between the words, nothing else on the line (no CR, no
   trailing blank). ID is a queue id (common/qid.h: 12..24 characters of
   its alphabet). DOMAIN: 1..QCTL_DOMAIN_MAX bytes of letters, digits, '.',
   '-', '_', '[', ']' and ':' (an address literal), compared without
   regard to ASCII case. The client then half-closes or waits.

   Reply: text lines. The first says the outcome: "ok" (LF), "no: REASON"
   (refused: unknown id, not permitted), "busy: REASON" (a delivery of the
   message is running: ask again in a moment) or "error: REASON" (the
   server could not do it); the output follows an "ok" line. For "show" the first bytes of the reply carry (SCM_RIGHTS) an open
   read-only descriptor of the message's file. The server closes the
   connection after the reply. */
#include <stddef.h>
#include <stdint.h>
#include "common/qid.h"

#define QCTL_LINE_MAX 300     /* request line, LF included */
#define QCTL_DOMAIN_MAX 255   /* bytes of DOMAIN, without '@' */

#define QCTL_LIST 1
#define QCTL_SHOW 2
#define QCTL_DELETE 3
#define QCTL_HOLD 4
#define QCTL_RELEASE 5
#define QCTL_RETRY 6

#define QCTL_NONE 0     /* target: no argument (list) */
#define QCTL_ID 1       /* one message */
#define QCTL_DOMAIN 2   /* the recipients at one domain */
#define QCTL_ALL 3      /* every message */

struct qctl_req {
  int cmd;                          /* QCTL_LIST .. QCTL_RETRY */
  int target;                       /* QCTL_NONE .. QCTL_ALL */
  char arg[QCTL_DOMAIN_MAX + 1];    /* the ID or the DOMAIN, NUL-terminated */
};

/* the request in s[0..len), the bytes read so far. 1: a whole valid line,
   *r filled, *used = its length with the LF; 0: no LF yet and len <
   QCTL_LINE_MAX (read more); -1: malformed (too long, unknown command,
   bad argument, a target the command does not take). Never reads outside
   s[0..len). */
extern int qctl_parse(const char *s, size_t len, struct qctl_req *r, size_t *used);

/* the request line for r (valid) into dst (QCTL_LINE_MAX bytes), LF
   included; returns its length, 0 if r is not a valid request */
extern size_t qctl_fmt(char *dst, const struct qctl_req *r);

/* does address a[0..len) have domain d (the part after the last '@',
   ASCII case ignored)? 1 or 0 */
extern int qctl_domain_is(const char *a, size_t len, const char *d);

/* an age in seconds as "45s", "12m", "5h", "3d" (the largest unit with a
   whole count) into dst (24 bytes), NUL-terminated; returns its length */
extern size_t qctl_age(char *dst, uint64_t secs);
#endif

#ifndef TERN_SEND_SPAWNREQ_H
#define TERN_SEND_SPAWNREQ_H
/* spawnreq: the framer of tern-send's spawner requests, shared by
   tern-lspawn (root) and tern-rspawn (libc only, no I/O). A request is
     slot (1 byte)  N NUL  sender NUL  (recipient NUL)*  NUL
   where N is the message number (1..SPAWNREQ_NUM_MAX bytes), the sender
   0..SPAWNREQ_ADDR_MAX bytes (empty: the null reverse-path), each recipient
   1..SPAWNREQ_ADDR_MAX bytes (an empty field ends the list), at most
   SPAWNREQ_RCPT_MAX recipients. The framer checks sizes only: what N says,
   which slot is meant and how many recipients a spawner takes are the
   spawner's business. The limits are what tern-send can send: N is a
   decimal uint64, every address is at most 1000 bytes (ENVELOPE_ADDR_MAX
   and ADDR_MAX; tern-send answers a longer rewritten local address itself),
   and a remote delivery carries at most 100 recipients (UNIT_RCPT_MAX). */
#include <stddef.h>

#define SPAWNREQ_NUM_MAX 20      /* bytes of N: the digits of a uint64 */
#define SPAWNREQ_ADDR_MAX 1000   /* bytes of the sender or of one recipient */
#define SPAWNREQ_RCPT_MAX 100    /* recipients per request */
/* the longest request, bytes: slot, N, sender, recipients, each with its
   NUL, and the final NUL */
#define SPAWNREQ_MAX (1 + (SPAWNREQ_NUM_MAX + 1) + (SPAWNREQ_ADDR_MAX + 1) * (1 + SPAWNREQ_RCPT_MAX) + 1)

/* one framed request; the pointers point into the caller's buffer, each
   field NUL-terminated there */
struct spawnreq {
  unsigned char slot;
  const char *num;                        /* N, 1..SPAWNREQ_NUM_MAX bytes */
  const char *sender;                     /* 0..SPAWNREQ_ADDR_MAX bytes */
  size_t nrcpt;                           /* 0..SPAWNREQ_RCPT_MAX */
  const char *rcpt[SPAWNREQ_RCPT_MAX];    /* 1..SPAWNREQ_ADDR_MAX bytes each */
};

#define SPAWNREQ_MORE 0          /* not a whole request yet: read more */
#define SPAWNREQ_OK 1            /* *r holds a request of *used bytes */
#define SPAWNREQ_ENUM -1         /* N empty or longer than SPAWNREQ_NUM_MAX */
#define SPAWNREQ_EADDR -2        /* an address longer than SPAWNREQ_ADDR_MAX */
#define SPAWNREQ_ERCPT -3        /* more than SPAWNREQ_RCPT_MAX recipients */

/* Frame the request at the start of buf[0..len). SPAWNREQ_OK: *r is filled
   and *used is the request's length (the next request starts at
   buf + *used). SPAWNREQ_MORE: buf holds the beginning of a request that
   is valid so far (then len < SPAWNREQ_MAX, so a buffer of SPAWNREQ_MAX
   bytes always has room for the rest). A negative SPAWNREQ_E* code: these
   bytes can never become a request; tern-send and the spawner no longer
   agree where requests begin, so the stream cannot be resynchronised. *r
   and *used are only written on SPAWNREQ_OK. */
extern int spawnreq_frame(const char *buf, size_t len, struct spawnreq *r, size_t *used);

/* a short English description of a SPAWNREQ_E* code, for the log */
extern const char *spawnreq_error(int code);
#endif

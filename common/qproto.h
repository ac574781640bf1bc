#ifndef TERN_COMMON_QPROTO_H
#define TERN_COMMON_QPROTO_H
/* The queue socket protocol (HOME/sock/queue, served by tern-queued(8);
   libc only: common/qclient.c writes it, tern-queued reads it).

   Client to server: a sequence of frames, each
     type (1 byte)  length (4 bytes, big-endian)  payload (length bytes)
   'M' frames: message bytes, 1..QPROTO_FRAME_MAX each, as many as needed,
       all before the first 'E' frame; their sum is the message.
   'E' frames: the envelope in qmail-queue's wire form ("F sender NUL
       (T rcpt NUL)* NUL", common/envelope.h, validated by envelope_feed
       as it comes), 1..QPROTO_FRAME_MAX bytes each; the frame holding the
       final NUL must end with it and ends the request. No recipient
       ("F...\0\0") is allowed, as qmail-queue allows it.
   Anything else (another type, a zero or oversized length, an 'M' after
   an 'E', a byte after the final NUL, an invalid envelope) is refused.
   The server bounds the message's total size per uid (tern-queued(8)).

   Server to client, once, then the server closes:
     code (1 byte: qmail-queue's exit code, common/qqcode.h; 0 = safely
     queued)  n (1 byte, 0..QPROTO_ID_MAX)  id (n bytes, "msg N qp P")
   The server may answer before the request is complete (a refusal); a
   client that closes before the final NUL queues nothing. */
#include <stddef.h>
#include <stdint.h>
#include "common/envelope.h"

#define QPROTO_FRAME_MAX 65536u   /* payload bytes per frame */
#define QPROTO_ID_MAX 63          /* id bytes in the answer */
#define QPROTO_HDR 5              /* type + length */
#define QPROTO_REPLY_MAX (2 + QPROTO_ID_MAX)

struct qproto_reader {
  unsigned state;          /* internal */
  unsigned char hdr[QPROTO_HDR];
  unsigned hlen;           /* header bytes collected */
  uint32_t left;           /* payload bytes left in the current frame */
  uint64_t msgbytes;       /* message bytes seen so far */
  struct envelope_reader env;
};
#define QPROTO_READER_ZERO { 0, { 0 }, 0, 0, 0, ENVELOPE_READER_ZERO }

/* events of qproto_next */
#define QPROTO_MORE 0       /* all input consumed; need more */
#define QPROTO_MSG 1        /* *out, *outlen: message bytes (part of a frame) */
#define QPROTO_ENV 2        /* *out, *outlen: envelope bytes, validated */
#define QPROTO_END 3        /* the request is complete: *out, *outlen are its
                               last envelope bytes (maybe none), final NUL
                               excluded; sticky while no byte follows */
#define QPROTO_EFORMAT -1   /* malformed frame or envelope: qmail-queue exit 91 */
#define QPROTO_ETOOLONG -2  /* an address over ENVELOPE_ADDR_MAX: exit 11 */
#define QPROTO_EBIG -3      /* the message went over maxbytes */

/* Parse s[0..len). *used receives the bytes consumed (the caller passes
   the rest again); out/outlen point into s. maxbytes: the largest message
   allowed (0: no limit). Errors are sticky; after END every further byte
   is EFORMAT. Pure: no allocation, no I/O. */
extern int qproto_next(struct qproto_reader *r, const char *s, size_t len, size_t *used,
                       const char **out, size_t *outlen, uint64_t maxbytes);

/* a frame header for type t ('M' or 'E') and n payload bytes into h */
extern void qproto_hdr(unsigned char h[QPROTO_HDR], char t, uint32_t n);

/* The answer: qproto_reply formats code and id (idlen cut at QPROTO_ID_MAX)
   into r (QPROTO_REPLY_MAX bytes), returns its length. qproto_parsereply:
   1 if s[0..n) is a whole answer (then *code, id NUL-terminated, at least
   QPROTO_ID_MAX + 1 bytes), 0 if not (too short, or n says more). */
extern size_t qproto_reply(char *r, int code, const char *id, size_t idlen);
extern int qproto_parsereply(const char *s, size_t n, int *code, char *id);
#endif

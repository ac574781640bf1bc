#ifndef TERN_COMMON_ENVELOPE_H
#define TERN_COMMON_ENVELOPE_H
/* The qmail-queue envelope (qmail-queue(8)), read by tern-queue on fd 1:
     'F' sender NUL  ('T' recipient NUL)*  NUL
   and the envelope inside the queue's message file (queue/msg/N,
   common/qmsg.h), written by tern-queued and read by tern-send:
     'u' uid NUL  'p' pid NUL  'i' id NUL  'F' sender NUL  ('T' recipient NUL)*
   (no final extra NUL, as in qmail). Every address is at most
   ENVELOPE_ADDR_MAX bytes and holds no NUL. The sender may be empty (the
   null reverse-path); a recipient may not (envelope_feed: EFORMAT), since
   the spawner protocol ends a recipient list with an empty string.
   No value holds a LF either (envelope_valbyte): a LF would let one
   address forge a record in the line-based spawner requests and logs. The
   injector (envelope_feed) and tern-send (envelope_next) refuse it with the
   same function, so what one accepts the other accepts. */
#include <stddef.h>

#define ENVELOPE_ADDR_MAX 1000     /* bytes, without type letter and NUL */
#define ENVELOPE_RCPT_MAX 100000   /* recipients per envelope */

struct envelope_reader {
  unsigned state;   /* internal */
  size_t field;     /* bytes in the current address */
  size_t nrcpt;     /* recipients seen so far */
};
#define ENVELOPE_READER_ZERO { 0, 0, 0 }

#define ENVELOPE_MORE 0      /* need more bytes */
#define ENVELOPE_DONE 1      /* the final NUL was consumed */
#define ENVELOPE_EFORMAT -1  /* not F first, a type other than T, too many recipients, a LF in an address: qmail-queue exit 91 */
#define ENVELOPE_ETOOLONG -2 /* an address over ENVELOPE_ADDR_MAX: qmail-queue exit 11 */

/* 1 if byte c may stand inside an envelope value (any byte but NUL and
   LF), 0 if not. The one rule shared by envelope_feed and envelope_next. */
extern int envelope_valbyte(char c);

/* Validate the qmail-queue envelope incrementally. Consumes s[0..len) up to
   and including the final NUL; *used receives the number of bytes consumed
   (all of len unless DONE). Returns ENVELOPE_MORE, ENVELOPE_DONE or an error;
   after an error or DONE further calls return the same result. EOF while
   ENVELOPE_MORE means a truncated envelope (exit 91... qmail aborts: tern
   uses 91). An envelope with no recipient ("F...\0\0") is DONE with
   r->nrcpt == 0: the caller decides whether to refuse it. On an error
   *used is the index of the offending byte. */
extern int envelope_feed(struct envelope_reader *r, const char *s, size_t len, size_t *used);

/* Read a qmail-queue envelope from fd (a qmail-queue program's
   descriptor 1) up to and including its final NUL, validated by
   envelope_feed, into *buf (malloc'd, *len bytes; the caller frees it;
   bytes after the final NUL are not read). 0, or the qmail-queue exit
   code of common/qqcode.h: QQ_READ (a read error), QQ_ENVELOPE (end of
   file before the final NUL, or malformed), QQ_TOOLONG (an address over
   ENVELOPE_ADDR_MAX), QQ_NOMEM; then *buf is 0. */
extern int envelope_readfd(int fd, char **buf, size_t *len);

/* Walk the records of a queue envelope file (or any sequence of
   letter+value+NUL records) in buf[0..len). Start with *pos = 0. Returns 1
   and sets *type and value (pointing into buf, NUL-terminated) and *vlen;
   0 at the clean end; -1 if the rest is malformed (no NUL, empty record,
   value over ENVELOPE_ADDR_MAX, a byte envelope_valbyte refuses). A single NUL as the very last byte (the
   qmail-queue wire form's terminator) also counts as the clean end. */
extern int envelope_next(const char *buf, size_t len, size_t *pos, char *type, const char **value, size_t *vlen);
#endif

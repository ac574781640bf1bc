#ifndef TERN_QUEUE_QWRITE_H
#define TERN_QUEUE_QWRITE_H
/* qwrite: put one message into the queue, crash-safely (core side,
   skalibs). The writer of tern-queued(8); the file's format is in
   common/qmsg.h, the crash states in tern-queued(8).

   Order (the caller's cwd is HOME/queue):
     qwrite_open     an unnamed file in msg/ (O_TMPFILE): its inode N names
                     the message; the id from the time of the creation and
                     N; our Received line written at QMSG_RESERVE
     qwrite_mess     message bytes (buffered), as often as needed
     qwrite_endmess  the message flushed
     qwrite_env      envelope bytes (already validated: envelope_feed),
                     without the final NUL, as often as needed (kept in
                     memory)
     qwrite_link     the head and the envelope written at offset 0 (the
                     message moved first when the envelope does not fit
                     before QMSG_RESERVE: a new unnamed file, a new N),
                     ONE fsync of the file, then linked as msg/N
     qwrite_commit   after the caller made msg/ durable (an fsync of msg/
                     that started after qwrite_link returned, its own or a
                     shared one): one byte into lock/trigger; nothing to
                     undo any more
   Each returns 0 or a qmail-queue exit code (common/qqcode.h); after a
   failure call qwrite_undo, which removes the name if one was made (an
   unnamed file vanishes with its descriptor). This is also what a caller
   does when its client goes away. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "common/qmsg.h"
#include "common/qid.h"

#define QWRITE_BUF 65536

struct qwrite {
  uint64_t n, pid, uid;
  uint64_t sec; uint32_t usec;   /* the creation time in the id */
  char qid[QID_MAX];   /* the id that never repeats (common/qid.h) */
  int fd;
  int linked;          /* msg/N exists and is ours to remove on undo */
  char fn[QMSG_FN_MAX];
  buffer out;
  stralloc env;        /* the client's envelope records */
  char outbuf[QWRITE_BUF];
};

/* pid: the number in the Received line and the id ("qp"); uid: the
   injector, from the kernel */
extern int qwrite_open(struct qwrite *w, uint64_t pid, uint64_t uid, time_t now);
extern int qwrite_mess(struct qwrite *w, const char *s, size_t len);
extern int qwrite_endmess(struct qwrite *w);
extern int qwrite_env(struct qwrite *w, const char *s, size_t len);
extern int qwrite_link(struct qwrite *w);
extern int qwrite_commit(struct qwrite *w);
extern void qwrite_undo(struct qwrite *w);
/* fsync the directory msg/: 0 ok, a qmail-queue exit code if not */
extern int qwrite_syncdir(void);
/* "msg ID qp P" into id (at least 64 bytes), NUL-terminated; its length */
extern size_t qwrite_id(const struct qwrite *w, char *id);
#endif

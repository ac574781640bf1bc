#ifndef TERN_QUEUE_QWRITE_H
#define TERN_QUEUE_QWRITE_H
/* qwrite: put one message into the queue, crash-safely (core side,
   skalibs). The writer of tern-queued(8); the layout and the crash states
   are in tern-queued(8) and tern-queue(8).

   Order (the caller's cwd is HOME/queue):
     qwrite_open     pid/PID.TIME.SEQ (O_EXCL), linked to mess/S/N (N its
                     inode), pid name removed, our Received line written;
                     the id from the time of the creation and N
     qwrite_mess     message bytes (buffered), as often as needed
     qwrite_endmess  flush, fsync mess/S/N, fsync mess/S; intd/N created
                     with the u, p and i (the id) records
     qwrite_env      envelope bytes (already validated: envelope_feed),
                     without the final NUL, as often as needed
     qwrite_commit   flush, fsync intd/N, link todo/N, fsync todo/: safely
                     queued; then one byte into lock/trigger
   Each returns 0 or a qmail-queue exit code (common/qqcode.h); after a
   failure call qwrite_undo, which removes every file made so far (also
   what a caller does when its client goes away). After qwrite_commit
   returned 0 there is nothing to undo. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <skalibs/buffer.h>
#include "common/qfn.h"
#include "common/qid.h"

#define QWRITE_BUF 65536

struct qwrite {
  uint64_t n, pid, uid;
  char qid[QID_MAX];   /* the id that never repeats (common/qid.h) */
  int fd;
  int madepid, mademess, madeintd, madetodo;
  char fnpid[QFN_MAX + 32], fnmess[QFN_MAX], fnintd[QFN_MAX], fntodo[QFN_MAX];
  buffer out;
  char outbuf[QWRITE_BUF];
};

/* pid: the number in the pid/ name, the Received line and the id ("qp");
   uid: the injector, from the kernel */
extern int qwrite_open(struct qwrite *w, uint64_t pid, uint64_t uid, time_t now);
extern int qwrite_mess(struct qwrite *w, const char *s, size_t len);
extern int qwrite_endmess(struct qwrite *w);
extern int qwrite_env(struct qwrite *w, const char *s, size_t len);
extern int qwrite_commit(struct qwrite *w);
extern void qwrite_undo(struct qwrite *w);
/* "msg ID qp P" into id (at least 64 bytes), NUL-terminated; its length */
extern size_t qwrite_id(const struct qwrite *w, char *id);
#endif

#ifndef TERN_COMMON_QCLIENT_H
#define TERN_COMMON_QCLIENT_H
/* The one queue-injection client (libc only). Every program that puts a
   message into the queue (tern-smtpd, tern-inject/sendmail, tern-local's
   forwards, tern-send's bounces) goes through it, so that the transport to
   the queue is decided in one file.

   Two transports, chosen by qclient_open:
   - no program given: the queue socket HOME/sock/queue directly, served by
     tern-queued(8), in the byte format of common/qproto.h (message frames,
     envelope frames, one answer: qmail-queue's exit code and the id).
     Nothing is forked; q->pid stays 0 and q->status is made to look like
     the exit status of a program that exited with the answer's code.
   - a program ($QMAILQUEUE as the caller passes it, a filter chain): the
     qmail-queue interface (qmail-queue(8)).
   The message goes to the program's fd 0, the envelope to its fd 1; fd 2 is
   read back (tern-queue -i reports "msg N qp P" there; anything else is a
   diagnostic); fd 6 is the write end of a pipe a filter may use with exit
   code 82 (QQ_CUSTOM) to give its own reply text.

   Use:
     struct qclient q;
     if (qclient_open(&q, qqprog, QCLIENT_WANTID, 0) < 0) ... errno
     qclient_write(&q, bytes, n) ... (as often as needed; buffered)
     code = qclient_close(&q, env, envlen);   0: safely queued
   or qclient_abort(&q) to queue nothing.

   The caller must ignore SIGPIPE (a queue program that exits early must
   not kill it); the child restores SIGPIPE to its default before exec. */
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define QCLIENT_BUFSIZE 8192    /* message bytes buffered before a write */
#define QCLIENT_IDMAX 64        /* "msg N qp P" as tern-queue -i reports it */
#define QCLIENT_TEXTMAX 256     /* diagnostic or fd-6 text kept, bytes */

/* flags for qclient_open */
#define QCLIENT_WANTID 1        /* fill q->id (the socket always tells it; a program gets -i) */

struct qclient {
  int sock;           /* the queue socket (socket transport): >= 0 while
                         connected; -1 otherwise (and with the program) */
  int sockerr;        /* socket transport: errno of a failed connect, else 0 */
  int viasock;        /* 1: socket transport in use (until close or abort) */
  pid_t pid;          /* the queue program; 0 when none */
  int msgfd;          /* its fd 0 (the message) */
  int envfd;          /* its fd 1 (the envelope) */
  int errfd;          /* its fd 2, read after it exits */
  int txtfd;          /* its fd 6, read after it exits */
  int werr;           /* errno of the first failed write, 0 if none */
  time_t deadline;    /* 0: none; else CLOCK_MONOTONIC seconds after which the
                         whole injection is given up and the program killed */
  size_t blen;
  char buf[QCLIENT_BUFSIZE];
  char id[QCLIENT_IDMAX];     /* after close: "msg ID qp P", or "" */
  char text[QCLIENT_TEXTMAX]; /* after close: fd-6 text (82) or fd-2 diagnostic, printable, or "" */
  int textperm;       /* after close with QQ_CUSTOM: 1 if the filter's text said permanent ('D') */
  int status;         /* after close or abort: the program's waitpid status (WIFEXITED,
                         WIFSIGNALED; a program killed at the deadline shows
                         SIGKILL), -1 if it could not be reaped */
  /* internal: fds 2 and 6 as read so far (each cut at QCLIENT_TEXTMAX;
     read while waiting, so a chatty program cannot block on a full pipe) */
  size_t errlen, txtlen;
  char errbuf[QCLIENT_TEXTMAX], txtbuf[QCLIENT_TEXTMAX];
};

/* Start the queue program. qqprog: a program to run instead of the queue
   socket ($QMAILQUEUE as the caller read it; 0 or "" for the socket).
   timeout: seconds for the whole injection (open to exit), 0 for none.
   0 on success; -1 with errno set if no pipe or no fork (nothing started).
   A socket that cannot be reached is not an error here: qclient_close then
   returns 111 (q->sockerr says why). */
extern int qclient_open(struct qclient *q, const char *qqprog, unsigned int flags, unsigned int timeout);

/* The same for a caller that knows how the message came in: src is a
   source of common/filters.h (FILTERS_SMTP ... FILTERS_FORWARD).
   - $QMAILQUEUE set and not empty: that program, as qclient_open (set by
     hand, it wins over control/filters, as in qmail);
   - else HOME/control/filters has a line for src (or cannot be read, or is
     malformed): HOME/bin/tern-qnext, with TERN_FILTER_SOURCE=NAME and
     TERN_FILTER_NEXT=0 in its environment; it runs the chain (and refuses
     the message with a temporary error if the file is bad);
   - else the queue socket, as qclient_open with no program.
   Returns as qclient_open. A filter handing a message on does not call
   this: it runs $QMAILQUEUE_NEXT with qclient_open. */
extern int qclient_open_source(struct qclient *q, int src, unsigned int flags, unsigned int timeout);

/* Append message bytes. 0, or -1 once any write has failed (q->werr says
   why; later calls are no-ops that return -1, and qclient_close then
   reports QQ_WRITE unless the program itself failed first). */
extern int qclient_write(struct qclient *q, const char *s, size_t n);

/* Flush the message, close fd 0, write the envelope (env, envlen: qmail's
   format, "F sender \0 (T rcpt \0)* \0"), close fd 1 and wait for the
   program. Returns its exit code (0: safely queued; the qmail-queue table
   of common/qqcode.h otherwise), QQ_TIMEOUT if the deadline passed (the
   program is killed), QQ_CANTRUN if it could not be run, QQ_BUG if it died
   of a signal (or could not be reaped), QQ_WRITE if it exited 0 after a
   failed write. After a failed write no envelope byte is sent. Fills q->id,
   q->text, q->textperm and q->status; fds 2 and 6 are read for at most 1 s
   after the program exits (a child of it may hold them open). After it q
   holds no descriptor and no child. */
extern int qclient_close(struct qclient *q, const char *env, size_t envlen);

/* Queue nothing: close the pipes before any envelope byte (the queue
   program then removes what it wrote) and reap the program. Idempotent;
   a no-op when q->pid is 0 and q->viasock is 0 (a zeroed struct, or one
   already closed), so the descriptors mean something only while one is
   set. On the socket: closed before the final envelope byte, so the
   server removes what it wrote. */
extern void qclient_abort(struct qclient *q);

/* Describe a code qclient_close returned, for a log line or an SMTP reply:
   qq_describe()'s table, plus 111 ("cannot reach the queue socket": the
   socket transport, or s6-sudo as a $QMAILQUEUE program) and
   q->text for QQ_CUSTOM. *permanent: 1 for a 5xx, 0 for a 4xx. Never 0. */
extern const char *qclient_describe(const struct qclient *q, int code, int *permanent);

/* For a filter (a qmail-queue program that ran its next stage with this
   client): tell its own caller what the next stage said, after
   qclient_close returned code: 0 with an id: "ID\n" on descriptor 2 (the
   caller's client reads it as the id, also after diagnostic lines the
   filter wrote before); QQ_CUSTOM: 'D' or 'Z' and q->text on descriptor
   6; any other code with a text: "TEXT\n" on descriptor 2. The filter
   then exits with code. Write errors are ignored (the code says enough). */
extern void qclient_relay(const struct qclient *q, int code);

/* The text parser qclient_close runs on what fds 2 and 6 said (pure, so the
   unit tests and the fuzz harness call it directly).
   qclient_parseid: 1 if s[0..n) is exactly "msg ID qp DIGITS\n" (ID: digits
   and lowercase letters, the queue id of common/qid.h, or a plain
   message number from an older tern-queue) and
   n < QCLIENT_IDMAX; then id (QCLIENT_IDMAX bytes) gets it without the LF,
   NUL-terminated. Otherwise 0 and id is "".
   qclient_settext: fills q->id, q->text and q->textperm from err (fd 2)
   and txt (fd 6) for exit code `code`: fd 2 is the id, a diagnostic, or
   diagnostic lines followed by the id as the last line (a filter that
   says something and then relays the next stage's id); for QQ_CUSTOM, q->text is txt after its first byte ('D':
   permanent, anything else temporary; "" if txt is empty), else the
   diagnostic. q->text keeps bytes 0x20..0x7e, turns TAB, CR and LF into
   spaces and any other byte into '?', drops trailing spaces and is cut at
   QCLIENT_TEXTMAX - 1 bytes. */
extern int qclient_parseid(char *id, const char *s, size_t n);
extern void qclient_settext(struct qclient *q, int code, const char *err, size_t errlen, const char *txt, size_t txtlen);
#endif

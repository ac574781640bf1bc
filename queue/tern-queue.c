/* tern-queue: put one message into the queue.
   The qmail-queue(8) interface (message on fd 0, envelope on fd 1, the
   qmail-queue exit codes of common/qqcode.h) in front of tern-queued(8):
   a thin client of the queue socket, so that QMAILQUEUE filters and
   everything written for qmail-queue keep working. See queue/tern-queue.8. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/sig.h>
#include "common/envelope.h"
#include "common/qclient.h"
#include "common/qqcode.h"

#define DEATH 86400  /* seconds for the whole injection, as qmail-queue */
#define IOBUF 65536

static struct qclient q;

static void die(int code) { qclient_abort(&q); _exit(code); }

/* fd 0 to the queue as it is */
static void copy_message(void)
{
  char buf[IOBUF];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die(QQ_READ);
    if (r == 0) return;
    if (qclient_write(&q, buf, (size_t)r) < 0) return;  /* qclient_close tells why */
  }
}

int main(int argc, char const *const *argv)
{
  char *env;
  size_t envlen;
  int code;
  sig_ignore(SIGPIPE);
  if (qclient_open(&q, 0, QCLIENT_WANTID, DEATH) < 0) _exit(QQ_NOMEM);
  copy_message();
  /* fd 1, validated up to and including the final NUL */
  if ((code = envelope_readfd(1, &env, &envlen))) die(code);
  code = qclient_close(&q, env, envlen);
  /* -i: tell the client the message id on fd 2 (as tern-queued told it) */
  if (!code && argc > 1 && !strcmp(argv[1], "-i") && q.id[0]) {
    size_t l = strlen(q.id);
    q.id[l] = '\n';
    if (write(2, q.id, l + 1) < 0) { /* the message is queued all the same */ }
  }
  _exit(code);
}

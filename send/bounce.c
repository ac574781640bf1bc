/* tern-send's bounces and the end of a message (bounce.h): bounce/N, the
   RFC 3464 report and its injection, delay warnings. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>

#include "common/qfn.h"
#include "common/filters.h"
#include "common/qmsg.h"
#include "common/qclient.h"
#include "common/date822.h"
#include "common/qqcode.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/sconf.h"
#include "send/msgs.h"
#include "send/bounce.h"
#include "send/ctl.h"

#define HEADREAD_MAX (SCHED_BOUNCE_HEADERS_MAX + 4096)
#define INJECT_TIMEOUT 60        /* seconds a bounce injection may take */

/* inject message msg with envelope env through the queue client (the
   queue socket, or $QMAILQUEUE), all within INJECT_TIMEOUT seconds (the
   queue program is killed after that). 1 queued and newid the new
   message's "msg ID qp P" as the queue told it ("" if it did not);
   0 not (logged). qid: the message the report is about. */
static int inject(const char *qid, const char *what, const char *msg, size_t mlen, const char *env, size_t elen, char *newid)
{
  struct qclient q;
  const char *t;
  int code, perm;

  log_flush();
  if (qclient_open_source(&q, FILTERS_BOUNCE, 0, INJECT_TIMEOUT) < 0) {
    log5("warning: unable to inject ", what, " for msg ", qid, ": unable to run the queue program");
    return 0;
  }
  qclient_write(&q, msg, mlen);
  code = qclient_close(&q, env, elen);
  if (!code) { strcpy(newid, q.id); return 1; }
  if (q.status == -1) { log4("warning: unable to inject ", what, " for msg ", qid); return 0; }
  if (code == QQ_TIMEOUT && !WIFEXITED(q.status)) t = "the queue program timed out";
  else if (!WIFEXITED(q.status)) t = "queue program crashed";
  else if (!WEXITSTATUS(q.status)) t = "write to the queue program failed";
  else t = qclient_describe(&q, code, &perm);
  if (q.text[0] && code != QQ_CUSTOM) {
    const char *v[] = { "warning: unable to inject ", what, " for msg ", qid, ": ", t, "; the queue program said: ", q.text };
    logn(8, v);
  } else {
    const char *v[] = { "warning: unable to inject ", what, " for msg ", qid, ": ", t };
    logn(6, v);
  }
  return 0;
}

/* the first bytes of message id: the whole of it up to
   max(bouncemax, HEADREAD_MAX) bytes into *mess (malloc, or 0 when it
   cannot be opened), *mlen bytes read, *size its size (0 unknown) */
static void read_original(uint64_t id, char **mess, size_t *mlen, uint64_t *size)
{
  size_t cap = conf->bouncemax > HEADREAD_MAX ? conf->bouncemax : HEADREAD_MAX, want;
  uint64_t len;
  int fd;
  *mess = 0;
  *mlen = 0;
  *size = 0;
  fd = qmsg_open("", id, 0, &len);
  if (fd < 0) return;
  *size = len;
  want = len < (uint64_t)cap ? (size_t)len : cap;
  *mess = xrealloc(0, want + 1);
  while (*mlen < want) {
    ssize_t r = read(fd, *mess + *mlen, want - *mlen);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    *mlen += (size_t)r;
  }
  close(fd);
}

/* the report's Message-ID: <time.N.pid.bounce@bouncehost> (or .delay@) */
static void report_msgid(char *msgid, size_t max, uint64_t id, int kind)
{
  char t[24], num[24], p[24];
  size_t l = 0;
  const char *parts[] = { "<", fmtu(t, (uint64_t)time(0)), ".", fmtu(num, id), ".", fmtu(p, (uint64_t)getpid()),
                          kind == SCHED_KIND_DELAYED ? ".delay@" : ".bounce@", conf->bouncehost, ">" };
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    size_t k = strlen(parts[i]);
    if (l + k >= max) break;
    memcpy(msgid + l, parts[i], k);
    l += k;
  }
  msgid[l] = 0;
}

/* build and inject a report of kind (SCHED_KIND_*) about message m, from
   envelope sender esender to rcpt, listing the paragraphs fail[0..flen) */
static int report_inject(const struct msg *m, int kind, const char *esender, const char *rcpt, const char *fail, size_t flen)
{
  static const char *what[3] = { "bounce", "double bounce", "delay warning" };
  char *mess, *out, *env;
  size_t mlen, olen, sl = strlen(esender), rl = strlen(rcpt);
  char date[DATE822_MAX], arrival[DATE822_MAX], msgid[CTL_LINE_MAX + 100];
  struct sched_bounce_in b;
  int ok;
  char newid[QCLIENT_IDMAX] = "";

  read_original(m->id, &mess, &mlen, &b.msize);
  date822_fmt(date, time(0));
  date822_fmt(arrival, m->birth);
  report_msgid(msgid, sizeof msgid, m->id, kind);
  b.kind = kind;
  b.to = rcpt;
  b.bouncefrom = conf->bouncefrom;
  b.bouncehost = conf->bouncehost;
  b.mta = conf->me[0] ? conf->me : conf->bouncehost;
  b.date = date;
  b.arrival = arrival;
  b.msgid = msgid;
  b.boundary = "tern-report";
  b.id = m->id;
  b.failures = fail;
  b.flen = flen;
  b.message = mess ? mess : "";
  b.mlen = mlen;
  /* what the report may quote depends on how the original came in
     (control/bouncebody): by default an unauthenticated SMTP client's
     message comes back as its header only, so that a forged sender cannot
     have us carry the client's body to a third party */
  b.maxbytes = conf->bodymode[sched_origin(b.message, b.mlen, b.mlen < b.msize, conf->smtpuid)] == SCHED_BODY_ALL
             ? conf->bouncemax : 0;
  olen = sched_bounce(0, &b);
  out = xrealloc(0, olen);
  sched_bounce(out, &b);
  free(mess);
  /* envelope: F esender, T rcpt, final NUL */
  env = xrealloc(0, sl + rl + 5);
  env[0] = 'F';
  memcpy(env + 1, esender, sl + 1);
  env[sl + 2] = 'T';
  memcpy(env + sl + 3, rcpt, rl + 1);
  env[sl + rl + 4] = 0;
  ok = inject(m->qid, what[kind], out, olen, env, sl + rl + 5, newid);
  free(env);
  free(out);
  if (ok) {
    /* "... msg ID qp P to <rcpt>", where qp P is the report's own queue
       process, and then the report's own id, so that one grep for either
       message finds the line */
    char safer[TEXT_MAX + 1];
    char *sp = strstr(newid, " qp ");
    const char *v[] = { kind == SCHED_KIND_DELAYED ? "delay warning msg " : "bounce msg ", m->qid, " qp ", sp ? sp + 4 : "0",
                        kind == SCHED_KIND_DOUBLE ? " (double bounce) to <" : " to <", safe(safer, rcpt, rl), ">",
                        sp ? " as " : "", newid };
    if (sp) *sp = 0;   /* " as msg NEWID" */
    logn(9, v);
  }
  return ok;
}

/* one 'delayed' DSN per message (RFC 3464 Action: delayed), remembered by
   the file bounce/N.delayed; never to a null sender */
void bounce_delaywarn(struct msg *m, const char *zb, size_t zl)
{
  char wf[QFN_MAX + 16];
  int fd;
  if (!m->sender[0] || !strcmp(m->sender, "#@[]")) {
    log3("delay warning msg ", m->qid, ": not sent (null sender)");
    m->warned = 1;
    return;
  }
  if (!report_inject(m, SCHED_KIND_DELAYED, "", m->sender, zb, zl)) return;   /* next pass tries again */
  m->warned = 2;
  qfn_flat(wf, "bounce", m->id);
  strcat(wf, ".delayed");
  fd = open(wf, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || fsync(fd) < 0) log3("warning: unable to create ", wf, "; the warning may be repeated after a restart");
  if (fd >= 0) close(fd);
  fsync_dir("bounce");
}

int bounce_add(const struct msg *m, const char *rcpt, const char *text, size_t tlen)
{
  char fn[QFN_MAX];
  size_t n = sched_bounce_para(0, rcpt, strlen(rcpt), text, tlen);
  char *p = xrealloc(0, n);
  int fd, created = 0;
  struct stat st;
  sched_bounce_para(p, rcpt, strlen(rcpt), text, tlen);
  qfn_flat(fn, "bounce", m->id);
  if (stat(fn, &st) < 0) created = 1;
  fd = open(fn, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || allwrite(fd, p, n) < n || fsync(fd) < 0) {
    if (fd >= 0) close(fd);
    free(p);
    log3("alert: unable to append to bounce message ", fn, "; will deliver again later");
    return 0;
  }
  close(fd);
  free(p);
  if (created) fsync_dir("bounce");
  return 1;
}

/* inject the report bounce/N of m calls for (failures fail[0..flen)), or
   log why none goes. 1 done, 0 to be retried */
static int bounce_send(const struct msg *m, const char *fail, size_t flen)
{
  char num[24];
  int ok = 1;
  if (!strcmp(m->sender, "#@[]"))
    log4("triple bounce: discarding bounce/", fmtu(num, m->id), " of msg ", m->qid);
  else if (!m->sender[0]) {
    if (conf->dbto_empty)
      log4("double bounce: discarding bounce/", fmtu(num, m->id), " (control/doublebounceto is empty) of msg ", m->qid);
    else {
      char *to = xrealloc(0, strlen(conf->doublebounceto) + strlen(conf->doublebouncehost) + 2);
      strcpy(to, conf->doublebounceto);
      strcat(to, "@");
      strcat(to, conf->doublebouncehost);
      ok = report_inject(m, SCHED_KIND_DOUBLE, "#@[]", to, fail, flen);
      free(to);
    }
  } else ok = report_inject(m, SCHED_KIND_FAILED, "", m->sender, fail, flen);
  return ok;
}

void messdone(size_t i)
{
  struct msg *m = MSG(i);
  char fn[QFN_MAX];
  char *fail = 0;
  size_t flen = 0;
  int r;

  qfn_flat(fn, "bounce", m->id);
  r = readfile(fn, BOUNCEFILE_MAX, &fail, &flen, 0);
  if (r < 0) {
    log3("warning: unable to read ", fn, "; will try again later");
    msg_donelater(i, time(0) + SYSCALL_RETRY);
    return;
  }
  if (r > 0) {
    int ok = bounce_send(m, fail, flen);
    free(fail);
    if (!ok) { msg_donelater(i, time(0) + SYSCALL_RETRY); return; }
    if (unlink(fn) < 0 && errno != ENOENT) {
      log3("warning: unable to unlink ", fn, "; will try again later");
      msg_donelater(i, time(0) + SYSCALL_RETRY);
      return;
    }
  }
  if (!m->ended) log2("end msg ", m->qid);
  ctl_ended(m);
  m->ended = 1;
  /* msg/N first: until it is gone our files are the state of a queued
     message (a crash here resumes from them); after it they are leftovers
     that the start-up scan removes */
  if (!clean("msg", m->id)) { msg_donelater(i, time(0) + SYSCALL_RETRY); return; }
  remove_own(m->id);
  msg_free(i);
}

/* tern-send's passes, deliveries and spawner I/O (jobs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include "common/qfn.h"
#include "common/addr.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/sconf.h"
#include "send/msgs.h"
#include "send/bounce.h"
#include "send/jobs.h"
#include "send/ctl.h"
#include "send/journal.h"

#define REPLY_MAX (1 + 100 * 4003)   /* slot + 100 x (letter, 4000 text, NUL) */
#define UNIT_RCPT_MAX 100

static const unsigned skip[2] = { 10, 20 };   /* qmail's retry schedule offsets */

/* a pass over one channel of one message */
struct job {
  int used;
  size_t m;            /* index in the message table */
  int chan;
  char *buf;           /* the message's channel records (msgs.h), in place */
  size_t len;
  size_t *recs;        /* offsets of T records, grouped into units */
  size_t nrecs;
  size_t *ustart;      /* unit k = recs[ustart[k] .. ustart[k+1]) */
  size_t nunits, nextunit;
  unsigned outstanding;
  int dying;
  time_t next;         /* retry time computed at pass start */
  stralloc z;          /* this pass's deferrals, bounce/N paragraphs (delay warnings) */
};
static genalloc jobtab = GENALLOC_ZERO;   /* struct job */
#define JOB(j) (genalloc_s(struct job, &jobtab) + (j))
#define JOB_N() genalloc_len(struct job, &jobtab)

/* a delivery running in a spawner slot */
struct dlv {
  int used;
  size_t job;
  size_t unit;
  unsigned long dno;   /* delivery number of the first recipient */
};
static struct dlv dlvs[2][256];
static unsigned active[2];
static unsigned long dnext = 1;
static unsigned spawnmax[2] = { 255, 255 };   /* the spawners' start-up bytes */
static int remote_ok;

/* channel I/O */
struct chio {
  int cmd, res;
  int ip_cmd, ip_res;  /* indexes in the poll set, -1 for none */
  stralloc out;        /* requests not yet written */
  char *ibuf; size_t ilen;
};
static struct chio io[2] = { { FD_LCMD, FD_LRES, -1, -1, STRALLOC_ZERO, 0, 0 },
                             { FD_RCMD, FD_RRES, -1, -1, STRALLOC_ZERO, 0, 0 } };

/* the remote channel's requests in io[1].out, oldest first: the bytes of
   each not yet written and the message descriptor that goes with its
   first byte (-1 once sent). At most one request per slot is unwritten. */
struct rpend { size_t left; int fd; };
static struct rpend rq[256];
static unsigned rqhead, rqlen;

/* the concurrency of channel c in force */
static unsigned conc(int c)
{
  return conf->conc[c] < spawnmax[c] ? conf->conc[c] : spawnmax[c];
}

void jobs_status(void)
{
  char a[24], b[24], c[24], d[24];
  const char *v[] = { "status: local ", fmtu(a, active[0]), "/", fmtu(b, conc(0)), " remote ", fmtu(c, active[1]), "/", fmtu(d, conc(1)) };
  logn(8, v);
}

int jobs_idle(void)
{
  return !active[0] && !active[1];
}

static const char *domain_of(const char *a)
{
  const char *at = strrchr(a, '@');
  return at ? at + 1 : "";
}

static const char *sortbuf;
static int cmp_domain(const void *x, const void *y)
{
  size_t a = *(const size_t *)x, b = *(const size_t *)y;
  const char *da = domain_of(sortbuf + a + 1), *db = domain_of(sortbuf + b + 1);
  for (;; da++, db++) {
    int ca = (unsigned char)*da, cb = (unsigned char)*db;
    if (ca >= 'A' && ca <= 'Z') ca += 32;
    if (cb >= 'A' && cb <= 'Z') cb += 32;
    if (ca != cb) return ca - cb;
    if (!ca) break;
  }
  return a < b ? -1 : a > b;
}

static int samedomain(const char *buf, size_t a, size_t b)
{
  const char *da = domain_of(buf + a + 1), *db = domain_of(buf + b + 1);
  size_t la = strlen(da);
  if (la != strlen(db)) return 0;
  for (size_t i = 0; i < la; i++) {
    int ca = (unsigned char)da[i], cb = (unsigned char)db[i];
    if (ca >= 'A' && ca <= 'Z') ca += 32;
    if (cb >= 'A' && cb <= 'Z') cb += 32;
    if (ca != cb) return 0;
  }
  return 1;
}

static void job_end(size_t j);

/* a free entry in the job table */
static size_t job_slot(void)
{
  size_t j, n = JOB_N();
  for (j = 0; j < n; j++) if (!JOB(j)->used) return j;
  if (!genalloc_readyplus(struct job, &jobtab, 1)) die_nomem();
  genalloc_setlen(struct job, &jobtab, n + 1);
  return n;
}

/* jb's records: the T records' offsets, then units of them (local: one
   each; remote: sorted by domain, one unit per domain, at most
   UNIT_RCPT_MAX each) */
static void job_units(struct job *jb)
{
  jb->recs = xrealloc(0, sizeof(size_t) * (jb->len / 2 + 1));
  for (size_t pos = 0; pos < jb->len; ) {
    const char *z = memchr(jb->buf + pos, 0, jb->len - pos);
    if (!z) break;
    if (jb->buf[pos] == 'T') jb->recs[jb->nrecs++] = pos;
    pos = (size_t)(z - jb->buf) + 1;
  }
  jb->ustart = xrealloc(0, sizeof(size_t) * (jb->nrecs + 1));
  if (jb->chan == 0) {
    for (size_t k = 0; k < jb->nrecs; k++) jb->ustart[k] = k;
    jb->nunits = jb->nrecs;
  } else {
    sortbuf = jb->buf;
    qsort(jb->recs, jb->nrecs, sizeof(size_t), cmp_domain);
    for (size_t k = 0, inunit = 0; k < jb->nrecs; k++) {
      if (!k || inunit >= UNIT_RCPT_MAX || !samedomain(jb->buf, jb->recs[k - 1], jb->recs[k])) {
        jb->ustart[jb->nunits++] = k;
        inunit = 0;
      }
      inunit++;
    }
  }
  jb->ustart[jb->nunits] = jb->nrecs;
}

/* a new pass over channel c of message mi. 1 started (its index in *jp),
   0 nothing to do */
static int job_start(size_t mi, int c, time_t now, size_t *jp)
{
  struct msg *m = MSG(mi);
  struct job *jb;
  size_t j;
  if (!m->ch[c].has) return 0;
  j = job_slot();
  jb = JOB(j);
  m = MSG(mi);
  memset(jb, 0, sizeof *jb);
  jb->used = 1;
  jb->m = mi;
  jb->chan = c;
  jb->buf = m->cb[c].s;
  jb->len = m->cb[c].len;
  job_units(jb);
  jb->next = sched_nextretry(m->birth, now, skip[c]);
  jb->dying = (unsigned long)(now - m->birth) > conf->lifetime && now > m->birth;
  m->ch[c].active = 1;
  if (jp) *jp = j;
  if (!jb->nunits) job_end(j);
  return 1;
}

static void job_end(size_t j)
{
  struct job *jb = JOB(j);
  struct msg *m = MSG(jb->m);
  int c = jb->chan, left = 0;
  for (size_t k = 0; k < jb->nrecs; k++) if (jb->buf[jb->recs[k]] == 'T') left = 1;
  m->ch[c].active = 0;
  if (left && jb->z.len && conf->delaywarn && !m->warned && time(0) - m->birth >= (time_t)conf->delaywarn)
    bounce_delaywarn(m, jb->z.s, jb->z.len);
  stralloc_free(&jb->z);
  if (!left) m->ch[c].has = 0;
  else { m->ch[c].next = jb->next; msg_due(jb->m, c); }
  free(jb->recs);
  free(jb->ustart);
  jb->used = 0;
  if (!m->ch[0].has && !m->ch[1].has) messdone(jb->m);
}

static void job_check(size_t j)
{
  struct job *jb = JOB(j);
  if (jb->used && jb->nextunit >= jb->nunits && !jb->outstanding) job_end(j);
}

/* the record after the one at off (the end when there is none) */
static size_t rec_after(const struct job *jb, size_t off)
{
  const char *z = memchr(jb->buf + off, 0, jb->len - off);
  return z ? (size_t)(z - jb->buf) + 1 : jb->len;
}

/* recipient at off is done (msg_rcptdone) */
static void mark_done(struct job *jb, size_t off)
{
  msg_rcptdone(jb->m, jb->chan, off);
}

/* a deferral kept for the delay warning (when one may still go) */
static void defer_note(struct job *jb, const char *rcpt, const char *text, size_t tlen)
{
  size_t n;
  if (!conf->delaywarn || MSG(jb->m)->warned) return;
  n = sched_bounce_para(0, rcpt, strlen(rcpt), text, tlen);
  if (jb->z.len >= BOUNCEFILE_MAX) return;
  if (!stralloc_readyplus(&jb->z, n)) die_nomem();
  sched_bounce_para(jb->z.s + jb->z.len, rcpt, strlen(rcpt), text, tlen);
  jb->z.len += n;
}

/* one recipient's result */
static void result(struct job *jb, size_t off, unsigned long dno, char letter, const char *text, size_t tlen)
{
  static const char expired[] = "\nI'm not going to try again; this message has been in the queue too long.\n";
  char num[24], safeb[TEXT_MAX + 1];
  char *t2 = 0;
  const char *rcpt = jb->buf + off + 1;
  size_t after = rec_after(jb, off);
  /* an O record after the T and I records: the address before
     virtualdomains */
  if (after < jb->len && jb->buf[after] == 'I') after = rec_after(jb, after);
  if (after < jb->len && jb->buf[after] == 'O') rcpt = jb->buf + after + 1;
  if (letter != 'K' && letter != 'D' && letter != 'Z') letter = 'Z';
  if (letter == 'Z' && jb->dying) {
    t2 = xrealloc(0, tlen + sizeof expired);
    memcpy(t2, text, tlen);
    memcpy(t2 + tlen, expired, sizeof expired - 1);
    text = t2;
    tlen += sizeof expired - 1;
    letter = 'D';
  }
  fmtu(num, dno);
  if (letter == 'K') {
    log6("delivery ", num, ": success: ", safe(safeb, text, tlen), " msg ", MSG(jb->m)->qid);
    mark_done(jb, off);
  } else if (letter == 'Z') {
    log6("delivery ", num, ": deferral: ", safe(safeb, text, tlen), " msg ", MSG(jb->m)->qid);
    defer_note(jb, rcpt, text, tlen);
    ctl_deferred(MSG(jb->m), jb->buf + off + 1, text, tlen);
  } else {
    log6("delivery ", num, ": failure: ", safe(safeb, text, tlen), " msg ", MSG(jb->m)->qid);
    if (bounce_add(MSG(jb->m), rcpt, text, tlen)) mark_done(jb, off);
  }
  free(t2);
}

static void cmd_append(int c, const char *s, size_t len)
{
  if (!stralloc_catb(&io[c].out, s, len)) die_nomem();
}

/* log "starting delivery D: msg ID to local|remote R" */
static void log_start(unsigned long d, const char *qid, int c, const char *r)
{
  char dn[24], safer[TEXT_MAX + 1];
  const char *v[] = { "starting delivery ", fmtu(dn, d), ": msg ", qid, c ? " to remote " : " to local ",
                      safe(safer, r, strlen(r)) };
  logn(6, v);
}

/* the queue file of m, read-only and positioned at its message
   (qmsg_open), for tern-rspawn (tern-remote reads it on fd 0 from that
   offset and can open nothing of the queue itself); -1 if it cannot be
   opened */
static int mess_open(const struct msg *m)
{
  uint64_t mlen;
  return open_mess(m->id, &mlen);
}

/* the message of a remote unit could not be opened: Z for each recipient */
static void unit_noopen(struct job *jb, size_t a, size_t b)
{
  static const char t[] = "Unable to open the message file. (#4.3.0)";
  const char *qid = MSG(jb->m)->qid;
  for (size_t k = a; k < b; k++) {
    unsigned long d = dnext++;
    log_start(d, qid, 1, jb->buf + jb->recs[k] + 1);
    result(jb, jb->recs[k], d, 'Z', t, sizeof t - 1);
  }
}

/* start the next unit of job j on its channel (a slot is free) */
static void unit_start(size_t j)
{
  struct job *jb = JOB(j);
  struct msg *m = MSG(jb->m);
  int c = jb->chan, mfd = -1;
  size_t u = jb->nextunit++, a = jb->ustart[u], b = jb->ustart[u + 1];
  unsigned slot;
  char num[24], dn[24];
  size_t nl, before = io[c].out.len;

  if (c == 0 && strlen(jb->buf + jb->recs[a] + 1) > ADDR_MAX) {
    unsigned long d = dnext++;
    log5("starting delivery ", fmtu(dn, d), ": msg ", m->qid, " to local (address too long)");
    result(jb, jb->recs[a], d, 'D', "Sorry, address too long. (#5.1.3)", 33);
    return;
  }
  if (c == 1 && (mfd = mess_open(m)) < 0) {
    log3("warning: unable to open the message file of msg ", m->qid, "");
    unit_noopen(jb, a, b);
    return;
  }
  for (slot = 0; slot < conc(c); slot++) if (!dlvs[c][slot].used) break;
  dlvs[c][slot].used = 1;
  dlvs[c][slot].job = j;
  dlvs[c][slot].unit = u;
  dlvs[c][slot].dno = dnext;
  active[c]++;
  jb->outstanding++;
  {
    char s = (char)slot;
    cmd_append(c, &s, 1);
  }
  nl = qfn_fmtu64(num, m->id);
  num[nl] = 0;
  cmd_append(c, num, nl + 1);
  cmd_append(c, m->sender, strlen(m->sender) + 1);
  for (size_t k = a; k < b; k++) {
    const char *r = jb->buf + jb->recs[k] + 1;
    cmd_append(c, r, strlen(r) + 1);
    log_start(dnext++, m->qid, c, r);
  }
  cmd_append(c, "", 1);
  if (c == 1) {
    rq[(rqhead + rqlen) % 256].left = io[c].out.len - before;
    rq[(rqhead + rqlen++) % 256].fd = mfd;
  }
  jobs_status();
}

/* remote delivery is not installed: every recipient is deferred */
static void remote_unavailable(size_t j)
{
  struct job *jb = JOB(j);
  for (size_t k = 0; k < jb->nrecs; k++) {
    char dn[24];
    unsigned long d = dnext++;
    log_start(d, MSG(jb->m)->qid, 1, jb->buf + jb->recs[k] + 1);
    log3("delivery ", fmtu(dn, d), ": deferral: remote_delivery_not_available_yet/");
  }
  jb->nextunit = jb->nunits;
  job_check(j);
}

/* the remote channel without tern-rspawn: each due pass defers everything */
static void schedule_noremote(time_t now)
{
  const struct due *d;
  while ((d = msg_duetop(1)) && d->next <= now) {
    size_t i = d->i, j;
    msg_duepop(1);
    if (job_start(i, 1, now, &j) && JOB(j)->used) remote_unavailable(j);
  }
}

void jobs_tick(time_t now)
{
  for (int c = 0; c < 2; c++) {
    if (c == 1 && !remote_ok) { schedule_noremote(now); continue; }
    for (;;) {
      size_t j, n = JOB_N();
      const struct due *d;
      if (active[c] >= conc(c)) break;
      for (j = 0; j < n; j++)
        if (JOB(j)->used && JOB(j)->chan == c && JOB(j)->nextunit < JOB(j)->nunits) break;
      if (j < n) { unit_start(j); job_check(j); continue; }
      d = msg_duetop(c);
      if (!d || d->next > now) break;
      j = d->i;
      msg_duepop(c);
      job_start(j, c, now, 0);
    }
  }
}

/* the recipients' results of one reply at x->ibuf + pos (complete), for
   delivery d; returns the offset after it */
static size_t reply_results(int c, size_t pos, struct dlv *d)
{
  struct chio *x = io + c;
  struct job *jb = JOB(d->job);
  size_t nr = jb->ustart[d->unit + 1] - jb->ustart[d->unit], q = pos + 1;
  for (size_t k = 0; k < nr; k++) {
    const char *f = x->ibuf + q;
    size_t fl = strlen(f);
    result(jb, jb->recs[jb->ustart[d->unit] + k], d->dno + k, fl ? f[0] : 'Z', fl ? f + 1 : "", fl ? fl - 1 : 0);
    q += fl + 1;
  }
  d->used = 0;
  active[c]--;
  jb->outstanding--;
  jobs_status();
  job_check(d->job);
  return q;
}

/* is the reply at x->ibuf + pos complete (one NUL-terminated result per
   recipient of delivery d) */
static int reply_complete(const struct chio *x, size_t pos, const struct dlv *d)
{
  const struct job *jb = JOB(d->job);
  size_t nr = jb->ustart[d->unit + 1] - jb->ustart[d->unit], q = pos + 1;
  for (size_t k = 0; k < nr; k++) {
    const char *z = memchr(x->ibuf + q, 0, x->ilen - q);
    if (!z) return 0;
    q = (size_t)(z - x->ibuf) + 1;
  }
  return 1;
}

/* the complete replies in io[c].ibuf */
static void replies(int c)
{
  struct chio *x = io + c;
  size_t pos = 0;
  while (pos < x->ilen) {
    unsigned slot = (unsigned char)x->ibuf[pos];
    /* a slot in use (when SIGHUP lowered the concurrency, slots above it
       may still be running) */
    if (!dlvs[c][slot].used) {
      log3("alert: oh no! bad reply from the ", chname[c], " spawner! dying...");
      die_exit(111);
    }
    if (!reply_complete(x, pos, &dlvs[c][slot])) {
      if (x->ilen - pos >= REPLY_MAX) {
        log3("alert: oh no! oversized reply from the ", chname[c], " spawner! dying...");
        die_exit(111);
      }
      break;
    }
    pos = reply_results(c, pos, &dlvs[c][slot]);
  }
  memmove(x->ibuf, x->ibuf + pos, x->ilen - pos);
  x->ilen -= pos;
}

static void readres(int c)
{
  struct chio *x = io + c;
  ssize_t r;
  if (x->ilen == REPLY_MAX) { replies(c); if (x->ilen == REPLY_MAX) { log1("alert: spawner reply too long; dying..."); die_exit(111); } }
  r = read(x->res, x->ibuf + x->ilen, REPLY_MAX - x->ilen);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    r = 0;
  }
  if (!r) {
    log1("alert: oh no! lost spawn connection! dying...");
    die_exit(111);
  }
  x->ilen += (size_t)r;
  replies(c);
}

/* send len bytes of one request on the socket s, with the descriptor fd
   (SCM_RIGHTS) unless it is -1. As send(2). */
static ssize_t sendreq(int s, const char *buf, size_t len, int fd)
{
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cb;
  struct iovec v = { (void *)buf, len };
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &v;
  mh.msg_iovlen = 1;
  if (fd >= 0) {
    struct cmsghdr *h;
    memset(&cb, 0, sizeof cb);
    mh.msg_control = cb.b;
    mh.msg_controllen = sizeof cb.b;
    h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
  }
  return sendmsg(s, &mh, MSG_NOSIGNAL);
}

/* the remote channel: one request per sendmsg, its descriptor with its
   first byte, so that tern-rspawn pairs them in order */
static ssize_t writeremote(struct chio *x)
{
  size_t off = 0;
  while (rqlen) {
    struct rpend *p = rq + rqhead;
    ssize_t r = sendreq(x->cmd, x->out.s + off, p->left, p->fd);
    if (r < 0) {
      if (off) break;
      return -1;
    }
    if (p->fd >= 0) { close(p->fd); p->fd = -1; }
    p->left -= (size_t)r;
    off += (size_t)r;
    if (p->left) break;
    rqhead = (rqhead + 1) % 256;
    rqlen--;
  }
  return (ssize_t)off;
}

static void writecmd(int c)
{
  struct chio *x = io + c;
  ssize_t r = c == 1 ? writeremote(x) : write(x->cmd, x->out.s, x->out.len);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    log1("alert: oh no! lost spawn connection! dying...");
    die_exit(111);
  }
  memmove(x->out.s, x->out.s + r, x->out.len - (size_t)r);
  x->out.len -= (size_t)r;
}

int jobs_probe(void)
{
  /* fds 5 and 6 are closed when tern-rspawn is not installed */
  remote_ok = fcntl(FD_RCMD, F_GETFD) >= 0 && fcntl(FD_RRES, F_GETFD) >= 0;
  if (!remote_ok) {
    /* keep 5 and 6 busy so that no file lands there */
    int n = open("/dev/null", O_RDONLY);
    while (n >= 0 && n < FD_RRES) n = open("/dev/null", O_RDONLY);
  }
  return fcntl(FD_LCMD, F_GETFD) >= 0 && fcntl(FD_LRES, F_GETFD) >= 0;
}

int jobs_start(void)
{
  for (int c = 0; c < 2; c++) {
    unsigned char b;
    ssize_t r;
    if (c == 1 && !remote_ok) continue;
    do r = read(io[c].res, &b, 1); while (r < 0 && errno == EINTR);
    if (r != 1) { log3("alert: cannot start: no start-up byte from the ", chname[c], " spawner"); return 0; }
    spawnmax[c] = b;
    io[c].ibuf = xrealloc(0, REPLY_MAX);
    ndelay_on(io[c].cmd);
    ndelay_on(io[c].res);
  }
  if (!remote_ok) log1("warning: tern-rspawn is not installed; remote recipients stay queued");
  return 1;
}

void jobs_prepare(struct loop *l, int stopping)
{
  for (int c = 0; c < 2; c++) {
    io[c].ip_res = io[c].ip_cmd = -1;
    if (!stopping && (active[c] < conc(c) || (c == 1 && !remote_ok))) {
      const struct due *d = msg_duetop(c);
      if (d) loop_wake(l, d->next);
    }
    if (c == 1 && !remote_ok) continue;
    io[c].ip_res = loop_add(l, io[c].res, POLLIN);
    if (io[c].out.len) io[c].ip_cmd = loop_add(l, io[c].cmd, POLLOUT);
  }
}

void jobs_run(const struct loop *l)
{
  for (int c = 0; c < 2; c++) {
    if (loop_ready(l, io[c].ip_cmd)) writecmd(c);
    if (loop_ready(l, io[c].ip_res)) readres(c);
  }
}

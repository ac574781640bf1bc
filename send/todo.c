/* tern-send's intake (todo.h): msg/N into the message table, with the done
   marks and retry times of the journal; the start-up scan of leftovers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#include "common/qfn.h"
#include "common/qmsg.h"
#include "common/addr.h"
#include "common/envelope.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/sconf.h"
#include "send/msgs.h"
#include "send/bounce.h"
#include "send/todo.h"
#include "send/journal.h"
#include "send/ctl.h"

#define TODO_INTERVAL 1500       /* seconds between scans of msg/ without trigger */
/* msg/N stays until its message is done, so msg/ lists the whole queue:
   a trigger-driven scan waits until TODO_THROTTLE times the duration of the
   previous listing has passed (at most 1 s), which keeps a large queue
   from being listed once per injection */
#define TODO_THROTTLE 20

static int trig = -1, ip_trig = -1;
static int flagtodo = 1;
static time_t nexttodo;
static int64_t todo_notbefore;     /* ms, CLOCK_MONOTONIC */
static int scanned;                /* the start-up scan is done */

/* one message being read into memory */
struct prep {
  uint64_t id;
  const char *sender, *u, *p, *qid;
  size_t slen, qlen;
  stralloc cb[2];                  /* channel records (msgs.h) */
  genalloc toff;                   /* struct toff: where recipient k is */
  size_t nrcpt[2];
};
struct toff { int c; size_t off; };

/* bounce/N.delayed exists: the delay warning went out */
static void msg_warned(size_t mi, uint64_t id)
{
  char fn[QFN_MAX + 16];
  struct stat cs;
  qfn_flat(fn, "bounce", id);
  strcat(fn, ".delayed");
  if (!stat(fn, &cs)) MSG(mi)->warned = 2;
}

/* append record type t, s[0..len) and a NUL */
static void rec_append(stralloc *sa, char t, const char *s, size_t len)
{
  if (!stralloc_readyplus(sa, len + 2)) die_nomem();
  sa->s[sa->len++] = t;
  memcpy(sa->s + sa->len, s, len);
  sa->len += len;
  sa->s[sa->len++] = 0;
}

/* one T record of the envelope (recipient k): classified into its channel */
static void prep_rcpt(struct prep *x, const char *v, size_t vlen)
{
  char out[SCHED_REWRITE_MAX], kb[24];
  size_t ol, pl;
  struct toff t;
  int c = sched_classify(v, vlen, &conf->sctl, out, &ol, &pl);
  if (c == SCHED_TOOLONG) { c = SCHED_LOCAL; memcpy(out, v, vlen); out[vlen] = 0; ol = vlen; pl = 0; }
  t.c = c;
  t.off = x->cb[c].len;
  /* T rewritten-address, I its index in the envelope (the journal names it),
     then (virtual domains) O the address as the sender wrote it, for
     bounces */
  rec_append(&x->cb[c], 'T', out, ol);
  rec_append(&x->cb[c], 'I', kb, qfn_fmtu64(kb, genalloc_len(struct toff, &x->toff)));
  if (!genalloc_append(struct toff, &x->toff, &t)) die_nomem();
  x->nrcpt[c]++;
  if (pl) rec_append(&x->cb[c], 'O', out + pl, ol - pl);
}

/* validate the envelope of msg/N and classify its recipients: records u,
   p and i, then one F, then T records. 1 ok, 0 malformed */
static int prep_parse(struct prep *x, const char *env, size_t elen)
{
  size_t pos = 0, vlen;
  const char *v;
  char type;
  int r, state = 0;
  for (;;) {
    r = envelope_next(env, elen, &pos, &type, &v, &vlen);
    if (r <= 0) break;
    if (state == 0 && type == 'u') x->u = v;
    else if (state == 0 && type == 'p') x->p = v;
    else if (state == 0 && type == 'i') { x->qid = v; x->qlen = vlen; }
    else if (state == 0 && type == 'F') { x->sender = v; x->slen = vlen; state = 1; }
    else if (state == 1 && type == 'T') prep_rcpt(x, v, vlen);
    else { r = -1; break; }
  }
  return r >= 0 && x->sender;
}

struct jarg { struct prep *x; time_t *next; };

/* one journal record of the message being read */
static void prep_rec(char type, uint64_t v, void *arg)
{
  struct jarg *a = arg;
  struct prep *x = a->x;
  if (type == 'D' && v < genalloc_len(struct toff, &x->toff)) {
    const struct toff *t = genalloc_s(struct toff, &x->toff) + v;
    if (x->cb[t->c].s[t->off] == 'T') { x->cb[t->c].s[t->off] = 'D'; x->nrcpt[t->c]--; }
  } else if (type == 'L' || type == 'R') a->next[type == 'R'] = (time_t)v;
}

static void prep_log(const struct prep *x, const char *qid, uint64_t bytes)
{
  char b[24], safes[TEXT_MAX + 1], su[64], sp[64];
  const char *vv[] = { "info msg ", qid, ": bytes ", fmtu(b, bytes), " from <",
                       safe(safes, x->sender, x->slen), "> qp ", safe(sp, x->p, strlen(x->p) > 20 ? 20 : strlen(x->p)),
                       " uid ", safe(su, x->u, strlen(x->u) > 20 ? 20 : strlen(x->u)) };
  logn(10, vv);
}

/* the message table entry of x */
static void prep_enter(struct prep *x, time_t birth, const time_t next[2])
{
  size_t mi = msg_new(x->id, birth, x->sender, x->slen);
  struct msg *m = MSG(mi);
  /* msg_setqid adopts a hold from hold/ (ctl_adopt); before msg_due */
  if (x->qid) msg_setqid(mi, x->qid, x->qlen);
  else ctl_adopt(mi);
  msg_setuid(mi, x->u, strlen(x->u));
  msg_warned(mi, x->id);
  for (int c = 0; c < 2; c++) {
    m->cb[c] = x->cb[c];
    x->cb[c] = (stralloc)STRALLOC_ZERO;
    (void)stralloc_shrink(&m->cb[c]);   /* kept as long as the message: no slack */
    m->left += x->nrcpt[c];
    m->ch[c].has = x->nrcpt[c] ? 1 : 0;
    m->ch[c].next = next[c];
    msg_due(mi, c);
  }
  if (!m->left) messdone(mi);
}

/* msg/N of a message not in memory */
static void todo_one(uint64_t id)
{
  char fn[QFN_MAX], num[24];
  char *env = 0;
  size_t elen = 0, mi;
  uint64_t moff, size;
  time_t next[2] = { 0, 0 };
  struct stat st;
  struct prep x;
  int fd, r;

  if (msg_find(id, &mi)) return;     /* in memory: msg/N stays until it is done */
  qmsg_fn(fn, "", id);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { if (errno != ENOENT) log3("warning: unable to open ", fn, "; will try again later"); return; }
  r = fstat(fd, &st) < 0 ? -1 : qmsg_readenv(fd, &env, &elen, &moff, &size);
  close(fd);
  if (r <= 0) {
    log3(r ? "warning: unable to read " : "warning: not a queue file: ", fn, r ? "; will try again later" : "; left in place");
    return;
  }
  memset(&x, 0, sizeof x);
  x.id = id;
  x.u = x.p = "?";
  if (!prep_parse(&x, env, elen)) log3("warning: malformed envelope in ", fn, "; left in place");
  else {
    char qid[QID_MAX];
    struct jarg ja = { &x, next };
    if (x.qid && qid_ok(x.qid, x.qlen)) { memcpy(qid, x.qid, x.qlen); qid[x.qlen] = 0; }
    else { fmtu(qid, id); x.qid = 0; }
    if (!journal_apply(qid, prep_rec, &ja)) {
      /* nothing recorded: no recipient was done, and a bounce/N is from
         before a power cut that lost its records; every recipient is
         tried again */
      qfn_flat(num, "bounce", id);
      unlink(num);
      log2("new msg ", qid);
      prep_log(&x, qid, size - moff);
    }
    prep_enter(&x, st.st_mtime, next);
  }
  free(env);
  stralloc_free(&x.cb[0]);
  stralloc_free(&x.cb[1]);
  genalloc_free(struct toff, &x.toff);
}

/* calls f(name) for every entry of dir whose name starts with a digit */
static void dir_scan(const char *dirname, void (*f)(const char *))
{
  DIR *dir = opendir(dirname);
  struct dirent *de;
  if (!dir) { log3("warning: unable to open ", dirname, "/"); return; }
  for (;;) {
    errno = 0;
    de = readdir(dir);
    if (!de) break;
    if (de->d_name[0] >= '0' && de->d_name[0] <= '9') f(de->d_name);
  }
  if (errno) log3("warning: trouble reading ", dirname, "/");
  closedir(dir);
}

static genalloc scanids = GENALLOC_ZERO;   /* uint64_t */

static void scan_add(const char *name)
{
  uint64_t id;
  size_t mi;
  if (!qfn_scanu64(name, strlen(name), &id)) return;
  if (msg_find(id, &mi)) return;   /* queued and in memory */
  if (!genalloc_append(uint64_t, &scanids, &id)) die_nomem();
}

static void todo_scan(void)
{
  struct timespec t0, t1;
  int64_t us;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  genalloc_setlen(uint64_t, &scanids, 0);
  dir_scan(QMSG_DIR, scan_add);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  us = ((int64_t)t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
  us = us * TODO_THROTTLE / 1000;
  todo_notbefore = mono_ms() + (us > 1000 ? 1000 : us);
  for (size_t i = 0; i < genalloc_len(uint64_t, &scanids); i++) todo_one(genalloc_s(uint64_t, &scanids)[i]);
  if (!scanned) { scanned = 1; journal_started(); }
}

/* bounce/N[.delayed] whose msg/N is gone: leftovers of a finished
   message (a crash between tern-clean's removal and ours) */
static void leftover_one(const char *name)
{
  char fn[QFN_MAX];
  const char *dot = strchr(name, '.');
  uint64_t id;
  struct stat st;
  if (!qfn_scanu64(name, dot ? (size_t)(dot - name) : strlen(name), &id)) return;
  qmsg_fn(fn, "", id);
  if (!stat(fn, &st) || errno != ENOENT) return;
  log3("warning: removing the leftover files of finished msg ", fmtu(fn, id), "");
  remove_own(id);
}

void todo_init(void)
{
  trig = open("lock/trigger", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (trig < 0) log1("warning: unable to open lock/trigger; scanning msg/ by the clock only");
}

static int oldlayout;

static void old_one(const char *name) { (void)name; oldlayout++; }

void todo_start(void)
{
  journal_open();
  dir_scan("bounce", leftover_one);
  /* the first layout's todo/ (one entry per queued message): not read */
  if (access("todo", F_OK) == 0) dir_scan("todo", old_one);
  if (oldlayout) {
    char num[24];
    log3("warning: todo/ holds ", fmtu(num, (uint64_t)oldlayout),
         " messages of the old queue layout, which this tern-send does not read (tern-send.8, UPGRADING)");
  }
}

void todo_tick(time_t now)
{
  if ((flagtodo && mono_ms() >= todo_notbefore) || now >= nexttodo) {
    flagtodo = 0;
    nexttodo = now + TODO_INTERVAL;
    todo_scan();
  }
}

void todo_prepare(struct loop *l, int stopping)
{
  loop_wake(l, nexttodo);
  ip_trig = -1;
  if (trig >= 0 && !stopping) ip_trig = loop_add(l, trig, POLLIN);
  if (flagtodo && !stopping && todo_notbefore < l->wake_ms) l->wake_ms = todo_notbefore;
}

void todo_run(const struct loop *l)
{
  char buf[64];
  if (!loop_ready(l, ip_trig)) return;
  while (read(trig, buf, sizeof buf) > 0) ;
  flagtodo = 1;
}

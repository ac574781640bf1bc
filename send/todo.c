/* tern-send's preprocessing (todo.h): todo/N into info/S/N, local/S/N and
   remote/S/N; resuming from those files; the start-up and cleanup scans
   (qmail-send(8), "preprocessing" and "cleanup"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#include "common/qfn.h"
#include "common/addr.h"
#include "common/envelope.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/sconf.h"
#include "send/msgs.h"
#include "send/bounce.h"
#include "send/todo.h"

#define TODO_INTERVAL 1500       /* seconds between todo scans without trigger */
/* todo/N stays until its message is done, so todo/ lists the whole queue:
   a trigger-driven scan waits until TODO_THROTTLE times the duration of the
   previous listing has passed (at most 1 s), which keeps a large queue
   from being listed once per injection */
#define TODO_THROTTLE 20
/* mess/S/N left by a crashed tern-queue or an interrupted removal: no info,
   no todo, untouched for 36 hours (qmail-send(8), cleanup) */
#define OSSIFIED 129600
#define CLEANUP_INTERVAL 76431

static int trig = -1, ip_trig = -1;
static int flagtodo = 1;
static time_t nexttodo, nextcleanup, cleanup_now;
static int64_t todo_notbefore;     /* ms, CLOCK_MONOTONIC */

/* the channels and the info of one message being preprocessed */
struct prep {
  uint64_t id;
  const char *sender, *u, *p, *qid;
  size_t slen, qlen;
  stralloc cb[2];                  /* channel files */
  size_t nrec[2], nrcpt[2];
};

/* message mi's id and uid from the head of todo/N: its records u, p and
   i come first, within 128 bytes. Without one, the number stays (msg_new) */
static void qid_from_todo(size_t mi, uint64_t id)
{
  char fn[QFN_MAX], buf[128];
  size_t pos = 0, vlen, len = 0;
  const char *v;
  char type;
  int fd;
  qfn_flat(fn, "todo", id);
  fd = open(fn, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  for (;;) {
    ssize_t r = read(fd, buf + len, sizeof buf - len);
    if (r > 0 && (len += (size_t)r) < sizeof buf) continue;
    if (r < 0 && errno == EINTR) continue;
    break;
  }
  close(fd);
  while (envelope_next(buf, len, &pos, &type, &v, &vlen) == 1 && (type == 'u' || type == 'p' || type == 'i'))
    if (type == 'u') msg_setuid(mi, v, vlen);
    else if (type == 'i') { msg_setqid(mi, v, vlen); return; }
}

/* message mi's channel files: has[c] (a file with something to do) and
   next[c] (its retry time); with neither, its end is due */
static void msg_channels(size_t mi, const size_t has[2], const time_t next[2])
{
  for (int c = 0; c < 2; c++) {
    MSG(mi)->ch[c].has = has[c] ? 1 : 0;
    MSG(mi)->ch[c].next = next[c];
    msg_due(mi, c);
  }
  if (!MSG(mi)->ch[0].has && !MSG(mi)->ch[1].has) msg_donelater(mi, 0);
}

/* bounce/N.delayed exists: the delay warning went out */
static void msg_warned(size_t mi, uint64_t id)
{
  char fn[QFN_MAX + 16];
  struct stat cs;
  qfn_flat(fn, "bounce", id);
  strcat(fn, ".delayed");
  if (!stat(fn, &cs)) MSG(mi)->warned = 2;
}

/* resume message id from info/S/N and its channel files if they are all
   complete (a process crash or restart: done marks kept). 1 resumed; 0 they
   are missing or incomplete (a power cut): preprocess again */
static int resume(uint64_t id)
{
  char fn[QFN_MAX];
  char *info = 0, *cb = 0;
  size_t ilen, clen, n[2], slen, ntodo[2] = { 0, 0 };
  time_t next[2] = { 0, 0 };
  const char *sender;
  struct stat st, cs;

  qfn_split(fn, "info", id);
  if (readfile(fn, ENVELOPE_ADDR_MAX + 128, &info, &ilen, &st) <= 0) return 0;
  if (!sched_info_complete(info, ilen, &sender, &slen, n)) { free(info); return 0; }
  for (int c = 0; c < 2; c++) {
    size_t nr;
    int r;
    qfn_split(fn, chname[c], id);
    r = readfile(fn, CHANFILE_MAX, &cb, &clen, &cs);
    if (!n[c]) {
      if (r > 0) free(cb);
      if (r != 0) { free(info); return 0; }   /* a file info/S/N does not announce */
      continue;
    }
    if (r <= 0) { free(info); return 0; }
    r = sched_chan_complete(cb, clen, &nr, &ntodo[c]);
    free(cb);
    if (!r || nr != n[c]) { free(info); return 0; }
    next[c] = cs.st_mtime;
  }
  {
    size_t mi = msg_new(id, st.st_mtime, sender, slen);
    free(info);
    qid_from_todo(mi, id);
    msg_warned(mi, id);
    msg_channels(mi, ntodo, next);
  }
  return 1;
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

/* the trailer after n records */
static void rec_trailer(stralloc *sa, size_t n)
{
  if (!stralloc_readyplus(sa, SCHED_TRAILER_MAX)) die_nomem();
  sa->len += sched_trailer(sa->s + sa->len, n);
}

/* one T record of the envelope: classified into its channel */
static void prep_rcpt(struct prep *x, const char *v, size_t vlen)
{
  char out[SCHED_REWRITE_MAX];
  size_t ol, pl;
  int c = sched_classify(v, vlen, &conf->sctl, out, &ol, &pl);
  if (c == SCHED_TOOLONG) { c = SCHED_LOCAL; memcpy(out, v, vlen); out[vlen] = 0; ol = vlen; pl = 0; }
  /* T rewritten-address, then (virtual domains) O the address as the
     sender wrote it, for bounces */
  rec_append(&x->cb[c], 'T', out, ol);
  x->nrec[c]++;
  x->nrcpt[c]++;
  if (pl) { rec_append(&x->cb[c], 'O', out + pl, ol - pl); x->nrec[c]++; }
}

/* validate todo/N (written by ternq, read by terns) and classify its
   recipients: records u, p and i, then one F, then T records. 1 ok, 0 malformed */
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

/* leftovers: missing or incomplete files of an earlier attempt (a power
   cut); every recipient is tried again, so the old failures go too.
   1 ok, 0 failed (logged) */
static int prep_clear(uint64_t id, const char *todofn)
{
  static const char *const kinds[4] = { "local", "remote", "bounce", "info" };
  for (int k = 0; k < 4; k++) {
    char fn[QFN_MAX];
    if (k == 2) qfn_flat(fn, kinds[k], id); else qfn_split(fn, kinds[k], id);
    if (unlink(fn) < 0 && errno != ENOENT) {
      log3("warning: unable to clean up before preprocessing ", todofn, "");
      return 0;
    }
  }
  return 1;
}

/* the channel files first, info/S/N last: it announces them. 1 ok, 0
   failed (logged, nothing left behind) */
static int prep_write(struct prep *x, time_t birth)
{
  char fc[2][QFN_MAX], fi[QFN_MAX], t[24];
  stralloc info = STRALLOC_ZERO;
  size_t n = 1;
  int r;
  qfn_split(fc[0], "local", x->id);
  qfn_split(fc[1], "remote", x->id);
  for (int c = 0; c < 2; c++)
    if (x->cb[c].len) {
      rec_trailer(&x->cb[c], x->nrec[c]);
      if (!writenew(fc[c], x->cb[c].s, x->cb[c].len, 0)) {
        log3("warning: unable to write ", fc[c], "");
        if (c) unlink(fc[0]);
        return 0;
      }
    }
  rec_append(&info, 'F', x->sender, x->slen);
  for (int c = 0; c < 2; c++)
    if (x->cb[c].len) {
      size_t k = qfn_fmtu64(t, x->nrcpt[c]);
      rec_append(&info, c ? 'R' : 'L', t, k);
      n++;
    }
  rec_trailer(&info, n);
  qfn_split(fi, "info", x->id);
  r = writenew(fi, info.s, info.len, birth);
  stralloc_free(&info);
  if (!r) {
    log3("warning: unable to write ", fi, "");
    unlink(fc[0]);
    unlink(fc[1]);
    return 0;
  }
  return 1;
}

static void prep_log(const struct prep *x, const char *qid, const struct stat *ms)
{
  char bytes[24], safes[TEXT_MAX + 1], su[64], sp[64];
  const char *vv[] = { "info msg ", qid, ": bytes ", fmtu(bytes, (uint64_t)ms->st_size), " from <",
                       safe(safes, x->sender, x->slen), "> qp ", safe(sp, x->p, strlen(x->p) > 20 ? 20 : strlen(x->p)),
                       " uid ", safe(su, x->u, strlen(x->u) > 20 ? 20 : strlen(x->u)) };
  logn(10, vv);
}

/* todo/N of a message not in memory */
static void todo_one(uint64_t id)
{
  char fn[QFN_MAX], num[24];
  char *env = 0;
  size_t elen = 0, mi;
  struct stat st, ms;
  struct prep x;
  int r;

  if (msg_find(id, &mi)) return;     /* in memory: todo/N stays until it is done */
  qfn_split(fn, "mess", id);
  if (stat(fn, &ms) < 0) {
    if (errno != ENOENT) { log3("warning: unable to stat ", fn, "; will try again later"); return; }
    /* tern-clean's removal of a finished message was cut short (a power
       cut can undo the todo/N unlink and keep the mess/S/N one) */
    log3("warning: removing todo/", fmtu(num, id), ": its message is gone (finished before a crash)");
    if (clean("mess", id)) remove_own(id);
    return;
  }
  if (resume(id)) return;
  qfn_flat(fn, "todo", id);
  r = readfile(fn, ENVELOPE_FILE_MAX, &env, &elen, &st);
  if (r <= 0) {
    if (r < 0) log3("warning: unable to read ", fn, "");
    return;
  }
  memset(&x, 0, sizeof x);
  x.id = id;
  x.u = x.p = "?";
  if (!prep_parse(&x, env, elen)) log3("warning: malformed envelope in ", fn, "; left in place");
  else if (prep_clear(id, fn)) {
    char qid[QID_MAX];
    if (x.qid && qid_ok(x.qid, x.qlen)) { memcpy(qid, x.qid, x.qlen); qid[x.qlen] = 0; }
    else fmtu(qid, id);
    log2("new msg ", qid);
    if (prep_write(&x, st.st_mtime)) {
      prep_log(&x, qid, &ms);
      mi = msg_new(id, st.st_mtime, x.sender, x.slen);
      msg_setqid(mi, qid, strlen(qid));
      msg_setuid(mi, x.u, strlen(x.u));
      for (int c = 0; c < 2; c++) { MSG(mi)->ch[c].has = x.cb[c].len ? 1 : 0; MSG(mi)->ch[c].next = 0; msg_due(mi, c); }
      if (!x.cb[0].len && !x.cb[1].len) messdone(mi);
    }
  }
  free(env);
  stralloc_free(&x.cb[0]);
  stralloc_free(&x.cb[1]);
}

static void todo_scan(void)
{
  DIR *dir = opendir("todo");
  struct dirent *de;
  genalloc ids = GENALLOC_ZERO;   /* uint64_t */
  struct timespec t0, t1;
  int64_t us;
  if (!dir) { log1("warning: unable to open todo/"); return; }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    uint64_t id;
    size_t mi;
    errno = 0;
    de = readdir(dir);
    if (!de) break;
    if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
    if (msg_find(id, &mi)) continue;   /* queued and in memory */
    if (!genalloc_append(uint64_t, &ids, &id)) die_nomem();
  }
  if (errno) log1("warning: trouble reading todo/");
  closedir(dir);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  us = ((int64_t)t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
  us = us * TODO_THROTTLE / 1000;
  todo_notbefore = mono_ms() + (us > 1000 ? 1000 : us);
  for (size_t i = 0; i < genalloc_len(uint64_t, &ids); i++) todo_one(genalloc_s(uint64_t, &ids)[i]);
  genalloc_free(uint64_t, &ids);
}

/* calls f(id) for every message number in DIR/0 .. DIR/QUEUE_SPLIT-1;
   quiet: no warning for a directory that cannot be opened */
static void split_scan(const char *dirname, int quiet, void (*f)(uint64_t))
{
  for (unsigned s = 0; s < QUEUE_SPLIT; s++) {
    char dn[QFN_MAX];
    DIR *dir;
    struct dirent *de;
    size_t l = strlen(dirname);
    memcpy(dn, dirname, l);
    dn[l++] = '/';
    dn[l + qfn_fmtu64(dn + l, s)] = 0;
    dir = opendir(dn);
    if (!dir) { if (!quiet) log3("warning: unable to open ", dn, ""); continue; }
    while ((de = readdir(dir))) {
      uint64_t id;
      if (qfn_scanu64(de->d_name, strlen(de->d_name), &id)) f(id);
    }
    closedir(dir);
  }
}

/* info/S/N without todo/N: leftovers of a finished message when mess/S/N
   is gone too (a crash between tern-clean's removal and ours); else a
   message preprocessed by an older tern-send, which removed todo/N after
   preprocessing: resumed as before (no trailers). A message with todo/N is
   the todo scan's (resumed or preprocessed again). */
static void info_one(uint64_t id)
{
  char fn[QFN_MAX], *buf;
  size_t len, pos = 0, vlen, mi, has[2] = { 0, 0 };
  time_t next[2] = { 0, 0 };
  const char *v;
  char type;
  struct stat st, cs;
  qfn_flat(fn, "todo", id);
  if (!stat(fn, &cs)) return;     /* the todo scan's */
  qfn_split(fn, "mess", id);
  if (stat(fn, &cs) < 0 && errno == ENOENT) {
    char num[24];
    log3("warning: removing the leftover files of finished msg ", fmtu(num, id), "");
    remove_own(id);
    return;
  }
  qfn_split(fn, "info", id);
  if (readfile(fn, ENVELOPE_ADDR_MAX + 128, &buf, &len, &st) <= 0) {
    log3("warning: unable to read ", fn, "");
    return;
  }
  if (envelope_next(buf, len, &pos, &type, &v, &vlen) != 1 || type != 'F') {
    log3("warning: malformed ", fn, "; ignored");
    free(buf);
    return;
  }
  mi = msg_new(id, st.st_mtime, v, vlen);
  free(buf);
  msg_warned(mi, id);
  for (int c = 0; c < 2; c++) {
    qfn_split(fn, chname[c], id);
    if (!stat(fn, &cs)) { has[c] = 1; next[c] = cs.st_mtime; }
  }
  msg_channels(mi, has, next);
}

/* mess/S/N without info/S/N and todo/N, not accessed for OSSIFIED seconds */
static void cleanup_one(uint64_t id)
{
  char fn[QFN_MAX], num[24];
  struct stat st;
  size_t mi;
  if (msg_find(id, &mi)) return;
  qfn_split(fn, "mess", id);
  if (stat(fn, &st) < 0 || cleanup_now - st.st_atime < OSSIFIED) return;
  qfn_split(fn, "info", id);
  if (!stat(fn, &st) || errno != ENOENT) return;
  qfn_flat(fn, "todo", id);
  if (!stat(fn, &st) || errno != ENOENT) return;
  log3("warning: cleaning up ossified mess/", fmtu(num, id), "");
  clean("mess", id);
}

void todo_init(void)
{
  trig = open("lock/trigger", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (trig < 0) log1("warning: unable to open lock/trigger; scanning todo/ by the clock only");
}

void todo_start(void)
{
  split_scan("info", 0, info_one);
}

void todo_tick(time_t now)
{
  if (now >= nextcleanup) {
    nextcleanup = now + CLEANUP_INTERVAL;
    cleanup_now = now;
    split_scan("mess", 1, cleanup_one);
  }
  if ((flagtodo && mono_ms() >= todo_notbefore) || now >= nexttodo) {
    flagtodo = 0;
    nexttodo = now + TODO_INTERVAL;
    todo_scan();
  }
}

void todo_prepare(struct loop *l, int stopping)
{
  loop_wake(l, nexttodo < nextcleanup ? nexttodo : nextcleanup);
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

/* tern-send: the queue manager (qmail-send). Runs as terns, started by
   tern-start. Preprocesses todo/N into info/, local/, remote/; schedules
   deliveries through tern-lspawn (fd 3/4) and tern-rspawn (fd 5/6) with
   qmail's retry schedule; records bounces in bounce/N and injects one RFC 3464
   bounce per message; has tern-clean (fd 7/8) remove what terns may not.
   Logs every event on fd 1. See tern-send.8. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>

#include "common/home.h"
#include "common/ctl.h"
#include "common/qfn.h"
#include "common/addr.h"
#include "common/envelope.h"
#include "common/date822.h"
#include "common/qqcode.h"
#include "send/sched.h"

#define FD_LCMD 3
#define FD_LRES 4
#define FD_RCMD 5
#define FD_RRES 6
#define FD_CCMD 7
#define FD_CRES 8

#define TODO_INTERVAL 1500       /* seconds between todo scans without trigger */
#define SYSCALL_RETRY 123        /* seconds before retrying after a failed syscall */
#define ENVELOPE_FILE_MAX (128u << 20)
#define CHANFILE_MAX (128u << 20)
#define BOUNCEFILE_MAX (16u << 20)
#define HEADREAD_MAX (SCHED_BOUNCE_HEADERS_MAX + 4096)
#define REPLY_MAX (1 + 100 * 4003)   /* slot + 100 x (letter, 4000 text, NUL) */
#define UNIT_RCPT_MAX 100
#define TEXT_MAX 4000
#define INJECT_TIMEOUT 60        /* seconds a bounce injection may take */
#define BOUNCEMAX_CAP (16u << 20)

static const char *chname[2] = { "local", "remote" };
static const unsigned skip[2] = { 10, 20 };
static const char *chdir_[2] = { "local", "remote" };

/* ---- configuration ---- */
static char me[CTL_LINE_MAX], envnoathost[CTL_LINE_MAX], bouncefrom[CTL_LINE_MAX], bouncehost[CTL_LINE_MAX];
static char doublebounceto[CTL_LINE_MAX], doublebouncehost[CTL_LINE_MAX];
static int dbto_empty;
static struct ctl_list locals = CTL_LIST_ZERO, vdoms = CTL_LIST_ZERO, phack = CTL_LIST_ZERO;
static struct sched_ctl sctl = { &locals, &vdoms, &phack, envnoathost };
static unsigned conc[2];
static unsigned long lifetime, bouncemax, delaywarn;
static int remote_ok;
static char sockpath[4200];

/* ---- messages ---- */
struct msg {
  int used;
  uint64_t id;
  time_t birth;
  char *sender;
  struct { int has; int active; time_t next; } ch[2];
  int done_pending;
  time_t donenext;
  int warned;          /* a delay warning went out (or is not wanted) */
  int ended;           /* "end msg N" logged */
};
static struct msg *msgs;
static size_t nmsgs, capmsgs;
static struct sched_idmap msgmap;   /* id -> index in msgs */
static int anydone;                 /* some message may have done_pending set */

/* per channel, a min-heap of (retry time, message) for messages whose
   channel waits (has, not active): one entry is pushed whenever such a
   time is set; entries that no longer match the message are dropped when
   they reach the top. Replaces a scan of every message per start and per
   wake-up. */
struct due { time_t next; size_t i; uint64_t id; };
static struct due *dueh[2];
static size_t duen[2], duecap[2];

/* a pass over one channel file of one message */
struct job {
  int used;
  size_t m;            /* index in msgs */
  int chan;
  int fd;              /* the channel file, O_RDWR */
  char *buf;           /* its contents */
  size_t len;
  size_t *recs;        /* offsets of T records, grouped into units */
  size_t nrecs;
  size_t *ustart;      /* unit k = recs[ustart[k] .. ustart[k+1]) */
  size_t nunits, nextunit;
  unsigned outstanding;
  int dying;
  time_t next;         /* retry time computed at pass start */
  char *zbuf;          /* this pass's deferrals, bounce/N paragraphs (delay warnings) */
  size_t zlen;
};
static struct job *jobs;
static size_t njobs, capjobs;

struct dlv {
  int used;
  size_t job;
  size_t unit;
  unsigned long dno;   /* delivery number of the first recipient */
};
static struct dlv dlvs[2][256];
static unsigned active[2];
static unsigned long dnext = 1;

/* channel I/O buffers */
struct chio {
  int cmd, res;
  char *obuf; size_t olen, ocap;
  char *ibuf; size_t ilen;
};
static struct chio io[2];

static int stopping;
static int flagtodo = 1, flagalrm, flaghup;
static time_t nexttodo, nextcleanup;
/* todo/N stays until its message is done, so todo/ lists the whole queue:
   a trigger-driven scan waits until TODO_THROTTLE times the duration of the
   previous listing has passed (at most 1 s), which keeps a large queue
   from being listed once per injection */
#define TODO_THROTTLE 20
static int64_t todo_notbefore;     /* ms, CLOCK_MONOTONIC */

static int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- logging ---- */

/* lines are collected and written once per turn of the main loop (before
   poll, before a fork, at exit): one write instead of one per line */
static char logbuf[65536];
static size_t loglen;

static void log_flush(void)
{
  if (loglen) allwrite(1, logbuf, loglen);
  loglen = 0;
}

static void die_exit(int code)
{
  log_flush();
  _exit(code);
}

static void logn(unsigned n, const char *const *v)
{
  static char line[16384];
  size_t l = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t k = strlen(v[i]);
    if (k > sizeof line - 2 - l) k = sizeof line - 2 - l;
    memcpy(line + l, v[i], k);
    l += k;
  }
  line[l++] = '\n';
  if (loglen + l > sizeof logbuf) log_flush();
  memcpy(logbuf + loglen, line, l);
  loglen += l;
}
#define log1(a) do { const char *v_[] = { a }; logn(1, v_); } while (0)
#define log2(a, b) do { const char *v_[] = { a, b }; logn(2, v_); } while (0)
#define log3(a, b, c) do { const char *v_[] = { a, b, c }; logn(3, v_); } while (0)
#define log4(a, b, c, d) do { const char *v_[] = { a, b, c, d }; logn(4, v_); } while (0)
#define log5(a, b, c, d, e) do { const char *v_[] = { a, b, c, d, e }; logn(5, v_); } while (0)

static char *fmtu(char *buf, uint64_t u) { buf[qfn_fmtu64(buf, u)] = 0; return buf; }

static void die_nomem(void)
{
  log1("alert: out of memory; exiting");
  die_exit(111);
}

static void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) die_nomem();
  return p;
}

static void status(void)
{
  char a[24], b[24], c[24], d[24];
  const char *v[] = { "status: local ", fmtu(a, active[0]), "/", fmtu(b, conc[0]), " remote ", fmtu(c, active[1]), "/", fmtu(d, conc[1]) };
  logn(8, v);
}

/* text made log-safe; the caller's buffer is TEXT_MAX + 1 */
static const char *safe(char *dst, const char *s, size_t len)
{
  if (len > TEXT_MAX) len = TEXT_MAX;
  sched_logsafe(dst, s, len);
  dst[len] = 0;
  return dst;
}

/* ---- files ---- */

static int fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;
  if (fd < 0) return -1;
  r = fsync(fd);
  close(fd);
  return r;
}

/* whole file into *buf (malloc), at most max bytes. 1 ok, 0 ENOENT, -1 error */
static int readfile(const char *fn, size_t max, char **buf, size_t *len, struct stat *st)
{
  int fd = open(fn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat s;
  size_t n = 0;
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode) || (uint64_t)s.st_size > max) {
    if (!errno) errno = EFBIG;
    close(fd);
    return -1;
  }
  *buf = xrealloc(0, (size_t)s.st_size + 1);
  while (n < (size_t)s.st_size) {
    ssize_t r = read(fd, *buf + n, (size_t)s.st_size - n);
    if (r < 0) { if (errno == EINTR) continue; free(*buf); close(fd); return -1; }
    if (!r) break;
    n += (size_t)r;
  }
  close(fd);
  (*buf)[n] = 0;
  *len = n;
  if (st) *st = s;
  return 1;
}

/* write a new file O_EXCL, without fsync: todo/N stays until the message
   is done, and a file a power cut leaves cut short or empty is recognised by
   its trailer and rebuilt (tern-send.8, "Queue states"). 1 ok, 0 error */
static int writenew(const char *fn, const char *s, size_t len, time_t mtime)
{
  int fd = open(fn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  if (allwrite(fd, s, len) < len) goto err;
  if (mtime) {
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = mtime;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (futimens(fd, ts) < 0) goto err;
  }
  if (close(fd) < 0) { unlink(fn); return 0; }
  return 1;
err:
  close(fd);
  unlink(fn);
  return 0;
}

/* ---- tern-clean ---- */

static int clean(const char *what, uint64_t id)
{
  char req[QFN_MAX];
  char c;
  size_t l = qfn_flat(req, what, id);
  ssize_t r;
  if (allwrite(FD_CCMD, req, l + 1) < l + 1) { log1("alert: oh no! lost tern-clean connection! dying..."); die_exit(111); }
  do r = read(FD_CRES, &c, 1); while (r < 0 && errno == EINTR);
  if (r <= 0) { log1("alert: oh no! lost tern-clean connection! dying..."); die_exit(111); }
  if (c != '+') {
    log3("warning: tern-clean unable to clean up ", req, "");
    return 0;
  }
  return 1;
}

/* ---- controls ---- */

static int readctl_line(const char *fn, char *buf, const char *def)
{
  size_t len;
  int r = ctl_readline(fn, buf, CTL_LINE_MAX, &len);
  if (r < 0) return 0;
  if (!r || !len) strcpy(buf, def);
  return 1;
}

/* HOME/control/NAME: absolute, since SIGHUP rereads from inside queue/ */
static const char *ctlpath(const char *name)
{
  static char p[4200 + 64];
  size_t h = strlen(home_get());
  if (h > 4200) h = 4200;
  memcpy(p, home_get(), h);
  memcpy(p + h, "/control/", 9);
  strncpy(p + h + 9, name, 54);
  p[h + 9 + 54] = 0;
  return p;
}

static int readlists(void)
{
  struct ctl_list l = CTL_LIST_ZERO, v = CTL_LIST_ZERO, ph = CTL_LIST_ZERO;
  int r = ctl_readlist(ctlpath("locals"), &l);
  if (r < 0) { log1("alert: unable to read control/locals"); return 0; }
  if (!r || !l.n) {
    ctl_listfree(&l);
    if (!me[0]) { log1("alert: no control/locals and no control/me"); return 0; }
    l.len = strlen(me) + 1;
    l.s = xrealloc(0, l.len);
    memcpy(l.s, me, l.len);
    l.n = 1;
  }
  if (ctl_readlist(ctlpath("virtualdomains"), &v) < 0) {
    log1("alert: unable to read control/virtualdomains");
    ctl_listfree(&l);
    return 0;
  }
  if (ctl_readlist(ctlpath("percenthack"), &ph) < 0) {
    log1("alert: unable to read control/percenthack");
    ctl_listfree(&l);
    ctl_listfree(&v);
    return 0;
  }
  ctl_listfree(&locals);
  ctl_listfree(&vdoms);
  ctl_listfree(&phack);
  locals = l;
  vdoms = v;
  phack = ph;
  return 1;
}

/* a number from a control file; on failure say which file and why */
static int ctlnum(const char *fn, unsigned long *v, unsigned long def)
{
  int r = ctl_readulong(fn, v, def);
  if (r >= 0) return 1;
  if (r == -2) log3("alert: cannot start: ", fn, " is not an unsigned decimal number (or out of range); see tern-showctl");
  else log2("alert: cannot start: unable to read ", fn);
  return 0;
}

static int getcontrols(void)
{
  unsigned long u;
  size_t len;
  int r = ctl_readline("control/me", me, sizeof me, &len);
  if (r < 0) { log1("alert: cannot start: unable to read control/me"); return 0; }
  if (!r) me[0] = 0;
  if (!me[0]) log1("warning: control/me is missing or empty: bounces and unqualified addresses use the literal names bouncehost and envnoathost unless those control files are set");
  if (!readctl_line("control/envnoathost", envnoathost, me[0] ? me : "envnoathost")
      || !readctl_line("control/bouncefrom", bouncefrom, "MAILER-DAEMON")
      || !readctl_line("control/bouncehost", bouncehost, me[0] ? me : "bouncehost")) {
    log1("alert: cannot start: unable to read controls");
    return 0;
  }
  if (!ctlnum("control/concurrencylocal", &u, 10)) return 0;
  conc[0] = u > 255 ? 255 : (unsigned)u;
  if (!ctlnum("control/concurrencyremote", &u, 20)) return 0;
  conc[1] = u > 255 ? 255 : (unsigned)u;
  if (!ctlnum("control/queuelifetime", &lifetime, 604800)) return 0;
  if (!ctlnum("control/bouncemaxbytes", &bouncemax, 102400)) return 0;
  if (bouncemax > BOUNCEMAX_CAP) bouncemax = BOUNCEMAX_CAP;
  {
    char dw[CTL_LINE_MAX];
    r = ctl_readline("control/delaywarning", dw, sizeof dw, &len);
    if (r < 0) { log1("alert: cannot start: unable to read control/delaywarning"); return 0; }
    delaywarn = 0;
    if (r && len && !sched_hours(dw, &delaywarn)) { log1("alert: cannot start: bad control/delaywarning (hours, e.g. 4 or 0.5)"); return 0; }
  }
  r = ctl_readline("control/doublebounceto", doublebounceto, sizeof doublebounceto, &len);
  if (r < 0) { log1("alert: cannot start: unable to read control/doublebounceto"); return 0; }
  dbto_empty = r && !len;     /* an empty line: double bounces are discarded */
  if (!r) strcpy(doublebounceto, "postmaster");
  if (!readctl_line("control/doublebouncehost", doublebouncehost, me[0] ? me : "doublebouncehost")) {
    log1("alert: cannot start: unable to read control/doublebouncehost");
    return 0;
  }
  return readlists();
}

/* ---- the message table ---- */

static size_t msg_new(uint64_t id, time_t birth, const char *sender, size_t slen)
{
  size_t i;
  for (i = 0; i < nmsgs; i++) if (!msgs[i].used) break;
  if (i == nmsgs) {
    if (nmsgs == capmsgs) {
      capmsgs = capmsgs ? capmsgs * 2 : 64;
      msgs = xrealloc(msgs, capmsgs * sizeof *msgs);
    }
    nmsgs++;
  }
  memset(msgs + i, 0, sizeof *msgs);
  msgs[i].used = 1;
  msgs[i].id = id;
  msgs[i].birth = birth;
  msgs[i].sender = xrealloc(0, slen + 1);
  memcpy(msgs[i].sender, sender, slen);
  msgs[i].sender[slen] = 0;
  if (!sched_idmap_put(&msgmap, id, i)) die_nomem();
  return i;
}

static int msg_find(uint64_t id, size_t *i)
{
  return sched_idmap_get(&msgmap, id, i);
}

static int due_valid(int c, const struct due *e)
{
  const struct msg *m = msgs + e->i;
  return e->i < nmsgs && m->used && m->id == e->id && m->ch[c].has && !m->ch[c].active && m->ch[c].next == e->next;
}

static void due_push1(int c, size_t i)
{
  struct due e, *h;
  size_t k;
  if (duen[c] == duecap[c]) {
    duecap[c] = duecap[c] ? 2 * duecap[c] : 64;
    dueh[c] = xrealloc(dueh[c], duecap[c] * sizeof *dueh[c]);
  }
  h = dueh[c];
  e.next = msgs[i].ch[c].next; e.i = i; e.id = msgs[i].id;
  for (k = duen[c]++; k && h[(k - 1) / 2].next > e.next; k = (k - 1) / 2) h[k] = h[(k - 1) / 2];
  h[k] = e;
}

static void due_pop(int c)
{
  struct due *h = dueh[c], e;
  size_t k = 0, n = --duen[c];
  if (!n) return;
  e = h[n];
  for (;;) {
    size_t l = 2 * k + 1;
    if (l >= n) break;
    if (l + 1 < n && h[l + 1].next < h[l].next) l++;
    if (h[l].next >= e.next) break;
    h[k] = h[l];
    k = l;
  }
  h[k] = e;
}

/* message i's channel c waits until msgs[i].ch[c].next: remember it */
static void due(size_t i, int c)
{
  if (!msgs[i].ch[c].has || msgs[i].ch[c].active) return;
  if (duen[c] > 4 * nmsgs + 1024) {   /* mostly stale: rebuild */
    duen[c] = 0;
    for (size_t j = 0; j < nmsgs; j++)
      if (j != i && msgs[j].used && msgs[j].ch[c].has && !msgs[j].ch[c].active) due_push1(c, j);
  }
  due_push1(c, i);
}

/* the earliest waiting message of channel c (stale entries dropped), or 0 */
static const struct due *due_top(int c)
{
  while (duen[c] && !due_valid(c, dueh[c])) due_pop(c);
  return duen[c] ? dueh[c] : 0;
}

static void msg_free(size_t i)
{
  sched_idmap_del(&msgmap, msgs[i].id);
  free(msgs[i].sender);
  msgs[i].sender = 0;
  msgs[i].used = 0;
}

/* ---- end of a message (reference/qmail.md 3.6) ---- */

/* run the queue program (s6-sudo to the queue socket, or $QMAILQUEUE) with
   message msg and envelope env; everything within INJECT_TIMEOUT seconds (the
   child is killed after that). 1 queued, 0 not (logged). */
static int inject(uint64_t id, const char *what, const char *msg, size_t mlen, const char *env, size_t elen, pid_t *qp)
{
  int mp[2], ep[2], wstat = 0, ok = 1, timedout = 0;
  pid_t pid;
  char num[24];
  size_t done[2] = { 0, 0 };
  int fds[2];
  const char *bufs[2] = { msg, env };
  size_t lens[2] = { mlen, elen };
  time_t deadline = time(0) + INJECT_TIMEOUT;

  if (pipecoe(mp) < 0) return 0;
  if (pipecoe(ep) < 0) { close(mp[0]); close(mp[1]); return 0; }
  log_flush();
  pid = fork();
  if (pid < 0) { close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]); return 0; }
  if (!pid) {
    const char *qq = getenv("QMAILQUEUE");
    sig_restore(SIGPIPE);
    if (fd_move(0, mp[0]) < 0 || fd_move(1, ep[0]) < 0) _exit(QQ_CANTRUN);
    if (qq && *qq) {
      char const *argv[2] = { qq, 0 };
      execv(qq, (char *const *)argv);
    } else {
      char const *argv[4] = { "s6-sudo", "-e", sockpath, 0 };
      execvp("s6-sudo", (char *const *)argv);
    }
    _exit(QQ_CANTRUN);
  }
  close(mp[0]);
  close(ep[0]);
  fds[0] = mp[1];
  fds[1] = ep[1];
  ndelay_on(fds[0]);
  ndelay_on(fds[1]);
  /* the message, then the envelope (qmail-queue reads them in that order) */
  for (int k = 0; k < 2; k++) {
    while (ok && done[k] < lens[k]) {
      struct pollfd p;
      time_t now = time(0);
      ssize_t w;
      if (now >= deadline) { timedout = 1; ok = 0; break; }
      p.fd = fds[k]; p.events = POLLOUT;
      if (poll(&p, 1, (int)(deadline - now) * 1000) < 0 && errno != EINTR) { ok = 0; break; }
      w = write(fds[k], bufs[k] + done[k], lens[k] - done[k]);
      if (w < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        ok = 0;
        break;
      }
      done[k] += (size_t)w;
    }
    close(fds[k]);
  }
  for (;;) {
    pid_t r = waitpid(pid, &wstat, timedout ? 0 : WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) { log4("warning: unable to inject ", what, " for msg ", fmtu(num, id)); return 0; }
    if (!r) {
      if (time(0) >= deadline) { timedout = 1; kill(pid, SIGKILL); continue; }
      poll(0, 0, 20);
    }
  }
  if (timedout) {
    log5("warning: unable to inject ", what, " for msg ", fmtu(num, id), ": the queue program timed out");
    return 0;
  }
  if (!WIFEXITED(wstat) || WEXITSTATUS(wstat) || !ok) {
    int perm;
    const char *t = WIFEXITED(wstat) ? qq_describe(WEXITSTATUS(wstat), &perm) : "queue program crashed";
    if (WIFEXITED(wstat) && !WEXITSTATUS(wstat)) t = "write to the queue program failed";
    {
      const char *v[] = { "warning: unable to inject ", what, " for msg ", fmtu(num, id), ": ", t };
      logn(6, v);
    }
    return 0;
  }
  *qp = pid;
  return 1;
}

/* build and inject a report of kind (SCHED_KIND_*) about message m, from
   envelope sender esender to rcpt, listing the paragraphs fail[0..flen) */
static int report_inject(struct msg *m, int kind, const char *esender, const char *rcpt, const char *fail, size_t flen)
{
  static const char *what[3] = { "bounce", "double bounce", "delay warning" };
  char *mess = 0, *out, *env;
  size_t mlen = 0, olen, want, sl = strlen(esender), rl = strlen(rcpt);
  char fn[QFN_MAX], date[DATE822_MAX], arrival[DATE822_MAX], num[24], msgid[CTL_LINE_MAX + 100];
  struct sched_bounce_in b;
  struct stat st;
  int fd, ok;
  pid_t qp;

  memset(&st, 0, sizeof st);
  qfn_split(fn, "mess", m->id);
  fd = open(fn, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && fstat(fd, &st) == 0) {
    want = (uint64_t)st.st_size < (uint64_t)(bouncemax > HEADREAD_MAX ? bouncemax : HEADREAD_MAX)
           ? (size_t)st.st_size : (bouncemax > HEADREAD_MAX ? bouncemax : HEADREAD_MAX);
    mess = xrealloc(0, want + 1);
    while (mlen < want) {
      ssize_t r = read(fd, mess + mlen, want - mlen);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      mlen += (size_t)r;
    }
  }
  if (fd >= 0) close(fd);
  date822_fmt(date, time(0));
  date822_fmt(arrival, m->birth);
  {
    char t[24], p[24];
    size_t l = 0;
    const char *parts[] = { "<", fmtu(t, (uint64_t)time(0)), ".", fmtu(num, m->id), ".", fmtu(p, (uint64_t)getpid()),
                            kind == SCHED_KIND_DELAYED ? ".delay@" : ".bounce@", bouncehost, ">" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
      size_t k = strlen(parts[i]);
      if (l + k >= sizeof msgid) break;
      memcpy(msgid + l, parts[i], k);
      l += k;
    }
    msgid[l] = 0;
  }
  b.kind = kind;
  b.to = rcpt;
  b.bouncefrom = bouncefrom;
  b.bouncehost = bouncehost;
  b.mta = me[0] ? me : bouncehost;
  b.date = date;
  b.arrival = arrival;
  b.msgid = msgid;
  b.boundary = "tern-report";
  b.id = m->id;
  b.failures = fail;
  b.flen = flen;
  b.message = mess ? mess : "";
  b.mlen = mlen;
  b.msize = (uint64_t)st.st_size;
  b.maxbytes = bouncemax;
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
  ok = inject(m->id, what[kind], out, olen, env, sl + rl + 5, &qp);
  free(env);
  free(out);
  if (ok) {
    char a[24], q[24], safer[TEXT_MAX + 1];
    const char *v[] = { kind == SCHED_KIND_DELAYED ? "delay warning msg " : "bounce msg ", fmtu(a, m->id), " qp ", fmtu(q, (uint64_t)qp),
                        kind == SCHED_KIND_DOUBLE ? " (double bounce) to <" : " to <", safe(safer, rcpt, rl), ">" };
    logn(7, v);
  }
  return ok;
}

/* tern-send's own files of message id (no fsync: tern-send.8) */
static void remove_own(uint64_t id)
{
  char fn[QFN_MAX + 16];
  qfn_flat(fn, "bounce", id);
  strcat(fn, ".delayed");
  unlink(fn);
  qfn_flat(fn, "bounce", id);
  unlink(fn);
  qfn_split(fn, "local", id); unlink(fn);
  qfn_split(fn, "remote", id); unlink(fn);
  qfn_split(fn, "info", id);
  if (unlink(fn) < 0 && errno != ENOENT) log3("warning: unable to unlink ", fn, "; the start-up scan removes it");
}

static void messdone(size_t i)
{
  struct msg *m = msgs + i;
  char fn[QFN_MAX], num[24];
  char *fail = 0;
  size_t flen = 0;
  int r;

  qfn_flat(fn, "bounce", m->id);
  r = readfile(fn, BOUNCEFILE_MAX, &fail, &flen, 0);
  if (r < 0) {
    log3("warning: unable to read ", fn, "; will try again later");
    m->done_pending = 1; anydone = 1;
    m->donenext = time(0) + SYSCALL_RETRY;
    return;
  }
  if (r > 0) {
    int ok = 1;
    if (!strcmp(m->sender, "#@[]"))
      log4("triple bounce: discarding bounce/", fmtu(num, m->id), " of msg ", num);
    else if (!m->sender[0]) {
      if (dbto_empty)
        log4("double bounce: discarding bounce/", fmtu(num, m->id), " (control/doublebounceto is empty) of msg ", num);
      else {
        char *to = xrealloc(0, strlen(doublebounceto) + strlen(doublebouncehost) + 2);
        strcpy(to, doublebounceto);
        strcat(to, "@");
        strcat(to, doublebouncehost);
        ok = report_inject(m, SCHED_KIND_DOUBLE, "#@[]", to, fail, flen);
        free(to);
      }
    } else ok = report_inject(m, SCHED_KIND_FAILED, "", m->sender, fail, flen);
    if (!ok) {
      free(fail);
      m->done_pending = 1; anydone = 1;
      m->donenext = time(0) + SYSCALL_RETRY;
      return;
    }
    free(fail);
    if (unlink(fn) < 0 && errno != ENOENT) {
      log3("warning: unable to unlink ", fn, "; will try again later");
      m->done_pending = 1; anydone = 1;
      m->donenext = time(0) + SYSCALL_RETRY;
      return;
    }
  }
  if (!m->ended) log2("end msg ", fmtu(num, m->id));
  m->ended = 1;
  /* todo/N, intd/N, mess/S/N first: until todo/N is gone our files are the
     state of a queued message (a crash here resumes from them); after it
     they are leftovers that the start-up scan removes */
  if (!clean("mess", m->id)) {
    m->done_pending = 1; anydone = 1;
    m->donenext = time(0) + SYSCALL_RETRY;
    return;
  }
  remove_own(m->id);
  msg_free(i);
}

/* ---- preprocessing (reference/qmail.md 3.5) ---- */

/* resume message id from info/S/N and its channel files if they are all
   complete (a process crash or restart: done marks kept). 1 resumed; 0 they
   are missing or incomplete (a power cut): preprocess again */
static int resume(uint64_t id)
{
  char fn[QFN_MAX + 16];
  char *info = 0, *cb = 0;
  size_t ilen, clen, n[2], slen, ntodo[2] = { 0, 0 }, mi;
  time_t next[2] = { 0, 0 };
  const char *sender;
  struct stat st, cs;

  qfn_split(fn, "info", id);
  if (readfile(fn, ENVELOPE_ADDR_MAX + 128, &info, &ilen, &st) <= 0) return 0;
  if (!sched_info_complete(info, ilen, &sender, &slen, n)) { free(info); return 0; }
  for (int c = 0; c < 2; c++) {
    size_t nr;
    int r;
    qfn_split(fn, chdir_[c], id);
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
  mi = msg_new(id, st.st_mtime, sender, slen);
  free(info);
  qfn_flat(fn, "bounce", id);
  strcat(fn, ".delayed");
  if (!stat(fn, &cs)) msgs[mi].warned = 2;
  for (int c = 0; c < 2; c++) {
    msgs[mi].ch[c].has = ntodo[c] ? 1 : 0;
    msgs[mi].ch[c].next = next[c];
    due(mi, c);
  }
  if (!msgs[mi].ch[0].has && !msgs[mi].ch[1].has) { msgs[mi].done_pending = 1; anydone = 1; msgs[mi].donenext = 0; }
  return 1;
}

/* append record type t, s[0..len) and a NUL to *b (length *l, capacity *cap) */
static void rec_append(char **b, size_t *l, size_t *cap, char t, const char *str, size_t len)
{
  if (*l + len + 2 + SCHED_TRAILER_MAX > *cap) {
    *cap = (*l + len + 2 + SCHED_TRAILER_MAX) * 2;
    *b = xrealloc(*b, *cap);
  }
  (*b)[(*l)++] = t;
  memcpy(*b + *l, str, len);
  *l += len;
  (*b)[(*l)++] = 0;
}

static void todo_one(uint64_t id)
{
  char fn[QFN_MAX], fi[QFN_MAX + 16], fc[2][QFN_MAX], num[24], bytes[24];
  char *env = 0;
  size_t elen = 0, pos = 0, vlen;
  const char *v, *sender = 0, *u = "?", *p = "?";
  size_t slen = 0;
  char type;
  struct stat st, ms;
  int r, state = 0;
  char *cb[2] = { 0, 0 };
  size_t cl[2] = { 0, 0 }, cc[2] = { 0, 0 }, nrec[2] = { 0, 0 }, nrcpt[2] = { 0, 0 };
  time_t birth;
  size_t mi;

  if (msg_find(id, &mi)) return;     /* in memory: todo/N stays until it is done */
  qfn_split(fi, "mess", id);
  if (stat(fi, &ms) < 0) {
    if (errno != ENOENT) { log3("warning: unable to stat ", fi, "; will try again later"); return; }
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
  birth = st.st_mtime;
  /* validate: written by ternq, read by terns */
  for (;;) {
    r = envelope_next(env, elen, &pos, &type, &v, &vlen);
    if (r <= 0) break;
    if (memchr(v, '\n', vlen)) { r = -1; break; }
    if (state == 0 && type == 'u') u = v;
    else if (state == 0 && type == 'p') p = v;
    else if (state == 0 && type == 'F') { sender = v; slen = vlen; state = 1; }
    else if (state == 1 && type == 'T') {
      char out[SCHED_REWRITE_MAX];
      size_t ol, pl;
      int c = sched_classify(v, vlen, &sctl, out, &ol, &pl);
      if (c == SCHED_TOOLONG) { c = SCHED_LOCAL; memcpy(out, v, vlen); out[vlen] = 0; ol = vlen; pl = 0; }
      /* T rewritten-address, then (virtual domains) O the address as the
         sender wrote it, for bounces */
      rec_append(&cb[c], &cl[c], &cc[c], 'T', out, ol);
      nrec[c]++;
      nrcpt[c]++;
      if (pl) { rec_append(&cb[c], &cl[c], &cc[c], 'O', out + pl, ol - pl); nrec[c]++; }
    } else { r = -1; break; }
  }
  if (r < 0 || !sender) {
    log3("warning: malformed envelope in ", fn, "; left in place");
    goto out;
  }
  qfn_split(fc[0], "local", id);
  qfn_split(fc[1], "remote", id);
  /* leftovers: missing or incomplete files of an earlier attempt (a power
     cut); every recipient is tried again, so the old failures go too */
  qfn_flat(fi, "bounce", id);
  if ((unlink(fc[0]) < 0 && errno != ENOENT) || (unlink(fc[1]) < 0 && errno != ENOENT)
      || (unlink(fi) < 0 && errno != ENOENT)) {
    log3("warning: unable to clean up before preprocessing ", fn, "");
    goto out;
  }
  qfn_split(fi, "info", id);
  if (unlink(fi) < 0 && errno != ENOENT) {
    log3("warning: unable to clean up before preprocessing ", fn, "");
    goto out;
  }
  log2("new msg ", fmtu(num, id));
  /* the channel files first, info/S/N last: it announces them */
  for (int c = 0; c < 2; c++)
    if (cl[c]) {
      cl[c] += sched_trailer(cb[c] + cl[c], nrec[c]);
      if (!writenew(fc[c], cb[c], cl[c], 0)) {
        log3("warning: unable to write ", fc[c], "");
        if (c) unlink(fc[0]);
        goto out;
      }
    }
  {
    char *info = 0, t[24];
    size_t il = 0, ic = 0, n = 1;
    rec_append(&info, &il, &ic, 'F', sender, slen);
    for (int c = 0; c < 2; c++)
      if (cl[c]) {
        size_t k = qfn_fmtu64(t, nrcpt[c]);
        rec_append(&info, &il, &ic, c ? 'R' : 'L', t, k);
        n++;
      }
    il += sched_trailer(info + il, n);
    r = writenew(fi, info, il, birth);
    free(info);
    if (!r) {
      log3("warning: unable to write ", fi, "");
      unlink(fc[0]);
      unlink(fc[1]);
      goto out;
    }
  }
  {
    char safes[TEXT_MAX + 1], su[64], sp[64];
    const char *vv[] = { "info msg ", num, ": bytes ", fmtu(bytes, (uint64_t)ms.st_size), " from <",
                         safe(safes, sender, slen), "> qp ", safe(sp, p, strlen(p) > 20 ? 20 : strlen(p)),
                         " uid ", safe(su, u, strlen(u) > 20 ? 20 : strlen(u)) };
    logn(10, vv);
  }
  mi = msg_new(id, birth, sender, slen);
  for (int c = 0; c < 2; c++) {
    msgs[mi].ch[c].has = cl[c] ? 1 : 0;
    msgs[mi].ch[c].next = 0;
    due(mi, c);
  }
  if (!cl[0] && !cl[1]) messdone(mi);
out:
  free(env);
  free(cb[0]);
  free(cb[1]);
}

static void todo_scan(void)
{
  DIR *dir = opendir("todo");
  struct dirent *de;
  uint64_t *ids = 0;
  size_t n = 0, cap = 0;
  struct timespec t0, t1;
  int64_t us;
  if (!dir) { log1("warning: unable to open todo/"); return; }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    uint64_t id;
    errno = 0;
    de = readdir(dir);
    if (!de) break;
    size_t mi;
    if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
    if (msg_find(id, &mi)) continue;   /* queued and in memory */
    if (n == cap) { cap = cap ? 2 * cap : 64; ids = xrealloc(ids, cap * sizeof *ids); }
    ids[n++] = id;
  }
  if (errno) log1("warning: trouble reading todo/");
  closedir(dir);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  us = ((int64_t)t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
  us = us * TODO_THROTTLE / 1000;
  todo_notbefore = mono_ms() + (us > 1000 ? 1000 : us);
  for (size_t i = 0; i < n; i++) todo_one(ids[i]);
  free(ids);
}

/* start-up: info/S/N without todo/N (reference/qmail.md 3.7). A message
   with todo/N is the todo scan's (resumed or preprocessed again). Without
   todo/N: leftovers of a finished message when mess/S/N is gone too (a crash
   between tern-clean's removal and ours); else a message preprocessed by an
   older tern-send, which removed todo/N after preprocessing: resumed as
   before (no trailers) */
static void info_scan(void)
{
  for (unsigned s = 0; s < QUEUE_SPLIT; s++) {
    char dn[QFN_MAX];
    DIR *dir;
    struct dirent *de;
    size_t l = qfn_fmtu64(dn + 5, s);
    memcpy(dn, "info/", 5);
    dn[5 + l] = 0;
    dir = opendir(dn);
    if (!dir) { log3("warning: unable to open ", dn, ""); continue; }
    while ((de = readdir(dir))) {
      uint64_t id;
      char fn[QFN_MAX], *buf;
      size_t len, pos = 0, vlen;
      const char *v;
      char type;
      struct stat st, cs;
      size_t mi;
      if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
      qfn_flat(fn, "todo", id);
      if (!stat(fn, &cs)) continue;     /* the todo scan's */
      qfn_split(fn, "mess", id);
      if (stat(fn, &cs) < 0 && errno == ENOENT) {
        char num[24];
        log3("warning: removing the leftover files of finished msg ", fmtu(num, id), "");
        remove_own(id);
        continue;
      }
      qfn_split(fn, "info", id);
      if (readfile(fn, ENVELOPE_ADDR_MAX + 128, &buf, &len, &st) <= 0) {
        log3("warning: unable to read ", fn, "");
        continue;
      }
      if (envelope_next(buf, len, &pos, &type, &v, &vlen) != 1 || type != 'F') {
        log3("warning: malformed ", fn, "; ignored");
        free(buf);
        continue;
      }
      mi = msg_new(id, st.st_mtime, v, vlen);
      free(buf);
      qfn_flat(fn, "bounce", id);
      strcat(fn, ".delayed");
      if (!stat(fn, &cs)) msgs[mi].warned = 2;
      for (int c = 0; c < 2; c++) {
        qfn_split(fn, chdir_[c], id);
        if (!stat(fn, &cs)) { msgs[mi].ch[c].has = 1; msgs[mi].ch[c].next = cs.st_mtime; due(mi, c); }
      }
      if (!msgs[mi].ch[0].has && !msgs[mi].ch[1].has) { msgs[mi].done_pending = 1; anydone = 1; msgs[mi].donenext = 0; }
    }
    closedir(dir);
  }
}

/* mess/S/N left by a crashed tern-queue or an interrupted removal: no info,
   no todo, untouched for 36 hours (reference/qmail.md 3.7) */
#define OSSIFIED 129600
#define CLEANUP_INTERVAL 76431
static void cleanup_scan(void)
{
  time_t now = time(0);
  for (unsigned s = 0; s < QUEUE_SPLIT; s++) {
    char dn[QFN_MAX];
    DIR *dir;
    struct dirent *de;
    size_t l = qfn_fmtu64(dn + 5, s);
    memcpy(dn, "mess/", 5);
    dn[5 + l] = 0;
    dir = opendir(dn);
    if (!dir) continue;
    while ((de = readdir(dir))) {
      uint64_t id;
      char fn[QFN_MAX];
      struct stat st;
      size_t mi;
      if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
      if (msg_find(id, &mi)) continue;
      qfn_split(fn, "mess", id);
      if (stat(fn, &st) < 0 || now - st.st_atime < OSSIFIED) continue;
      qfn_split(fn, "info", id);
      if (!stat(fn, &st) || errno != ENOENT) continue;
      qfn_flat(fn, "todo", id);
      if (!stat(fn, &st) || errno != ENOENT) continue;
      {
        char num[24];
        log3("warning: cleaning up ossified mess/", fmtu(num, id), "");
      }
      clean("mess", id);
    }
    closedir(dir);
  }
}

/* ---- passes and deliveries ---- */

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

/* a new pass over channel c of message mi. 1 started, 0 nothing to do */
static int job_start(size_t mi, int c, time_t now)
{
  struct msg *m = msgs + mi;
  struct job *jb;
  char fn[QFN_MAX];
  size_t j, pos;
  struct stat st;
  int fd;

  qfn_split(fn, chdir_[c], m->id);
  fd = open(fn, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) { m->ch[c].has = 0; if (!m->ch[0].has && !m->ch[1].has) { m->done_pending = 1; anydone = 1; m->donenext = 0; } return 0; }
    log3("warning: unable to open ", fn, "");
    m->ch[c].next = now + SYSCALL_RETRY;
    due(mi, c);
    return 0;
  }
  if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > CHANFILE_MAX) {
    log3("warning: unable to stat ", fn, "");
    close(fd);
    m->ch[c].next = now + SYSCALL_RETRY;
    due(mi, c);
    return 0;
  }
  for (j = 0; j < njobs; j++) if (!jobs[j].used) break;
  if (j == njobs) {
    if (njobs == capjobs) { capjobs = capjobs ? 2 * capjobs : 16; jobs = xrealloc(jobs, capjobs * sizeof *jobs); }
    njobs++;
  }
  jb = jobs + j;
  memset(jb, 0, sizeof *jb);
  jb->used = 1;
  jb->m = mi;
  jb->chan = c;
  jb->fd = fd;
  jb->buf = xrealloc(0, (size_t)st.st_size + 1);
  {
    size_t n = 0;
    while (n < (size_t)st.st_size) {
      ssize_t r = pread(fd, jb->buf + n, (size_t)st.st_size - n, (off_t)n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      n += (size_t)r;
    }
    jb->len = n;
  }
  /* our own file, but a torn write is still possible: stop at the first
     record without NUL */
  jb->recs = xrealloc(0, sizeof(size_t) * (jb->len / 2 + 1));
  for (pos = 0; pos < jb->len; ) {
    const char *z = memchr(jb->buf + pos, 0, jb->len - pos);
    if (!z) break;
    if (jb->buf[pos] == 'T') jb->recs[jb->nrecs++] = pos;
    pos = (size_t)(z - jb->buf) + 1;
  }
  jb->ustart = xrealloc(0, sizeof(size_t) * (jb->nrecs + 1));
  if (c == 0) {
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
  jb->next = sched_nextretry(m->birth, now, skip[c]);
  jb->dying = (unsigned long)(now - m->birth) > lifetime && now > m->birth;
  m->ch[c].active = 1;
  if (!jb->nunits) job_end(j);
  return 1;
}

/* one 'delayed' DSN per message (RFC 3464 Action: delayed), remembered by
   the file bounce/N.delayed; never to a null sender */
static void delay_warning(struct msg *m, const char *zb, size_t zl)
{
  char num[24], wf[QFN_MAX + 16];
  int fd;
  if (!m->sender[0] || !strcmp(m->sender, "#@[]")) {
    log3("delay warning msg ", fmtu(num, m->id), ": not sent (null sender)");
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

static void job_end(size_t j)
{
  struct job *jb = jobs + j;
  struct msg *m = msgs + jb->m;
  int c = jb->chan, left = 0;
  for (size_t k = 0; k < jb->nrecs; k++) if (jb->buf[jb->recs[k]] == 'T') left = 1;
  close(jb->fd);
  m->ch[c].active = 0;
  if (left && jb->zlen && delaywarn && !m->warned && time(0) - m->birth >= (time_t)delaywarn) delay_warning(m, jb->zbuf, jb->zlen);
  free(jb->zbuf);
  jb->zbuf = 0;
  jb->zlen = 0;
  /* a finished channel file stays (every record D) until the message is
     done: info/S/N announces it, and its absence would mean "incomplete" */
  if (!left) m->ch[c].has = 0;
  else { m->ch[c].next = jb->next; due(jb->m, c); }
  free(jb->buf);
  free(jb->recs);
  free(jb->ustart);
  jb->used = 0;
  if (!m->ch[0].has && !m->ch[1].has) messdone(jb->m);
}

static void job_check(size_t j)
{
  if (jobs[j].used && jobs[j].nextunit >= jobs[j].nunits && !jobs[j].outstanding) job_end(j);
}

static void mark_done(struct job *jb, size_t off)
{
  jb->buf[off] = 'D';
  if (pwrite(jb->fd, "D", 1, (off_t)off) != 1) {
    char fn[QFN_MAX];
    qfn_split(fn, chdir_[jb->chan], msgs[jb->m].id);
    log3("warning: unable to mark a recipient done in ", fn, "");
  }
}

static int add_bounce(struct msg *m, const char *rcpt, const char *text, size_t tlen)
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

/* one recipient's result */
static void result(struct job *jb, size_t off, unsigned long dno, char letter, const char *text, size_t tlen)
{
  static const char expired[] = "\nI'm not going to try again; this message has been in the queue too long.\n";
  char num[24], safeb[TEXT_MAX + 1];
  char *t2 = 0;
  const char *rcpt = jb->buf + off + 1;
  size_t after = off + strlen(jb->buf + off) + 1;
  struct msg *m = msgs + jb->m;
  /* an O record after the T record: the address before virtualdomains */
  if (after < jb->len && jb->buf[after] == 'O' && memchr(jb->buf + after, 0, jb->len - after)) rcpt = jb->buf + after + 1;
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
    log4("delivery ", num, ": success: ", safe(safeb, text, tlen));
    mark_done(jb, off);
  } else if (letter == 'Z') {
    log4("delivery ", num, ": deferral: ", safe(safeb, text, tlen));
    if (delaywarn && !m->warned) {
      size_t n = sched_bounce_para(0, rcpt, strlen(rcpt), text, tlen);
      if (jb->zlen < BOUNCEFILE_MAX) {
        jb->zbuf = xrealloc(jb->zbuf, jb->zlen + n);
        sched_bounce_para(jb->zbuf + jb->zlen, rcpt, strlen(rcpt), text, tlen);
        jb->zlen += n;
      }
    }
  } else {
    log4("delivery ", num, ": failure: ", safe(safeb, text, tlen));
    if (add_bounce(msgs + jb->m, rcpt, text, tlen)) mark_done(jb, off);
  }
  free(t2);
}

static void cmd_append(int c, const char *s, size_t len)
{
  struct chio *x = io + c;
  if (x->olen + len > x->ocap) {
    x->ocap = (x->olen + len) * 2;
    x->obuf = xrealloc(x->obuf, x->ocap);
  }
  memcpy(x->obuf + x->olen, s, len);
  x->olen += len;
}

/* start the next unit of job j on channel c (a slot is free) */
static void unit_start(size_t j)
{
  struct job *jb = jobs + j;
  struct msg *m = msgs + jb->m;
  int c = jb->chan;
  size_t u = jb->nextunit++, a = jb->ustart[u], b = jb->ustart[u + 1];
  unsigned slot;
  char num[24], dn[24], idn[24];
  size_t nl;

  if (c == 0 && strlen(jb->buf + jb->recs[a] + 1) > ADDR_MAX) {
    unsigned long d = dnext++;
    log5("starting delivery ", fmtu(dn, d), ": msg ", fmtu(idn, m->id), " to local (address too long)");
    result(jb, jb->recs[a], d, 'D', "Sorry, address too long. (#5.1.3)", 33);
    return;
  }
  for (slot = 0; slot < conc[c]; slot++) if (!dlvs[c][slot].used) break;
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
    char safer[TEXT_MAX + 1];
    const char *v[] = { "starting delivery ", fmtu(dn, dnext++), ": msg ", fmtu(idn, m->id), c ? " to remote " : " to local ",
                        safe(safer, r, strlen(r)) };
    cmd_append(c, r, strlen(r) + 1);
    logn(6, v);
  }
  cmd_append(c, "", 1);
  status();
}

/* remote delivery is not installed: every recipient is deferred */
static void remote_unavailable(size_t j)
{
  struct job *jb = jobs + j;
  for (size_t k = 0; k < jb->nrecs; k++) {
    char dn[24], idn[24], safer[TEXT_MAX + 1];
    const char *r = jb->buf + jb->recs[k] + 1;
    unsigned long d = dnext++;
    const char *v[] = { "starting delivery ", fmtu(dn, d), ": msg ", fmtu(idn, msgs[jb->m].id), " to remote ", safe(safer, r, strlen(r)) };
    logn(6, v);
    log3("delivery ", dn, ": deferral: remote_delivery_not_available_yet/");
  }
  jb->nextunit = jb->nunits;
  job_check(j);
}

static void schedule(time_t now)
{
  for (int c = 0; c < 2; c++) {
    for (;;) {
      size_t j, best = (size_t)-1;
      const struct due *d;
      if (c == 1 && !remote_ok) {
        while ((d = due_top(1)) && d->next <= now) {
          size_t i = d->i;
          due_pop(1);
          if (job_start(i, 1, now)) {
            for (j = 0; j < njobs; j++) if (jobs[j].used && jobs[j].m == i && jobs[j].chan == 1) break;
            if (j < njobs) remote_unavailable(j);
          }
        }
        break;
      }
      if (active[c] >= conc[c]) break;
      for (j = 0; j < njobs; j++)
        if (jobs[j].used && jobs[j].chan == c && jobs[j].nextunit < jobs[j].nunits) break;
      if (j < njobs) { unit_start(j); job_check(j); continue; }
      d = due_top(c);
      if (!d || d->next > now) break;
      best = d->i;
      due_pop(c);
      job_start(best, c, now);
    }
  }
}

/* parse complete replies in io[c].ibuf */
static void replies(int c)
{
  struct chio *x = io + c;
  size_t pos = 0;
  for (;;) {
    size_t q;
    unsigned slot;
    struct dlv *d;
    struct job *jb;
    size_t nr, k;
    int complete = 1;
    if (pos >= x->ilen) break;
    slot = (unsigned char)x->ibuf[pos];
    if (slot >= conc[c] || !dlvs[c][slot].used) {
      log3("alert: oh no! bad reply from the ", chname[c], " spawner! dying...");
      die_exit(111);
    }
    d = &dlvs[c][slot];
    jb = jobs + d->job;
    nr = jb->ustart[d->unit + 1] - jb->ustart[d->unit];
    q = pos + 1;
    for (k = 0; k < nr; k++) {
      const char *z = memchr(x->ibuf + q, 0, x->ilen - q);
      if (!z) { complete = 0; break; }
      q = (size_t)(z - x->ibuf) + 1;
    }
    if (!complete) {
      if (x->ilen - pos >= REPLY_MAX) {
        log3("alert: oh no! oversized reply from the ", chname[c], " spawner! dying...");
        die_exit(111);
      }
      break;
    }
    q = pos + 1;
    for (k = 0; k < nr; k++) {
      const char *f = x->ibuf + q;
      size_t fl = strlen(f);
      result(jb, jb->recs[jb->ustart[d->unit] + k], d->dno + k, fl ? f[0] : 'Z', fl ? f + 1 : "", fl ? fl - 1 : 0);
      q += fl + 1;
    }
    pos = q;
    d->used = 0;
    active[c]--;
    jb->outstanding--;
    status();
    job_check(d->job);
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

static void writecmd(int c)
{
  struct chio *x = io + c;
  ssize_t r = write(x->cmd, x->obuf, x->olen);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    log1("alert: oh no! lost spawn connection! dying...");
    die_exit(111);
  }
  memmove(x->obuf, x->obuf + r, x->olen - (size_t)r);
  x->olen -= (size_t)r;
}

static void shutdown_now(void)
{
  /* remember each pending retry time as the channel file's mtime */
  for (size_t i = 0; i < nmsgs; i++) {
    if (!msgs[i].used) continue;
    for (int c = 0; c < 2; c++)
      if (msgs[i].ch[c].has && msgs[i].ch[c].next > time(0)) {
        char fn[QFN_MAX];
        struct timespec ts[2];
        qfn_split(fn, chdir_[c], msgs[i].id);
        ts[0].tv_sec = ts[1].tv_sec = msgs[i].ch[c].next;
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
        utimensat(AT_FDCWD, fn, ts, 0);
      }
  }
  log1("status: exiting");
  die_exit(0);
}

int main(void)
{
  int sfd, trig, lock;
  unsigned char b;
  PROG = "tern-send";
  atexit(log_flush);

  /* fds 5 and 6 are closed when tern-rspawn is not installed */
  remote_ok = fcntl(FD_RCMD, F_GETFD) >= 0 && fcntl(FD_RRES, F_GETFD) >= 0;
  if (!remote_ok) {
    /* keep 5 and 6 busy so that no file lands there */
    int n = open("/dev/null", O_RDONLY);
    while (n >= 0 && n < FD_RRES) n = open("/dev/null", O_RDONLY);
  }
  if (fcntl(FD_LCMD, F_GETFD) < 0 || fcntl(FD_LRES, F_GETFD) < 0 || fcntl(FD_CCMD, F_GETFD) < 0 || fcntl(FD_CRES, F_GETFD) < 0)
    strerr_dief1x(111, "fds 3, 4, 7 and 8 must be open: run me from tern-start");
  if (chdir(home_get()) < 0) { log1("alert: cannot start: unable to chdir to home"); return 111; }
  if (strlen(home_get()) > 4096) return 111;
  strcpy(sockpath, home_get());
  strcat(sockpath, "/sock/queue");
  if (!getcontrols()) return 111;
  if (chdir("queue") < 0) { log1("alert: cannot start: unable to chdir to queue"); return 111; }
  sig_ignore(SIGPIPE);
  umask(077);
  lock = open("lock/sendmutex", O_WRONLY | O_CLOEXEC);
  if (lock < 0) { log1("alert: cannot start: unable to open lock/sendmutex"); return 111; }
  if (fd_lock(lock, 1, 1) != 1) { log1("alert: cannot start: tern-send is already running"); return 111; }
  sfd = selfpipe_init();
  if (sfd < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGALRM) || !selfpipe_trap(SIGHUP)) {
    log1("alert: cannot start: unable to trap signals");
    return 111;
  }
  trig = open("lock/trigger", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (trig < 0) log1("warning: unable to open lock/trigger; scanning todo/ by the clock only");

  io[0].cmd = FD_LCMD; io[0].res = FD_LRES;
  io[1].cmd = FD_RCMD; io[1].res = FD_RRES;
  for (int c = 0; c < 2; c++) {
    ssize_t r;
    if (c == 1 && !remote_ok) continue;
    do r = read(io[c].res, &b, 1); while (r < 0 && errno == EINTR);
    if (r != 1) { log3("alert: cannot start: no start-up byte from the ", chname[c], " spawner"); return 111; }
    if (conc[c] > b) conc[c] = b;
    io[c].ibuf = xrealloc(0, REPLY_MAX);
    ndelay_on(io[c].cmd);
    ndelay_on(io[c].res);
  }
  if (!remote_ok) log1("warning: tern-rspawn is not installed; remote recipients stay queued");

  info_scan();
  status();

  for (;;) {
    struct pollfd p[6];
    int n = 0, ip_sig, ip_trig = -1, ip_res[2] = { -1, -1 }, ip_cmd[2] = { -1, -1 };
    time_t now = time(0), wake;
    int timeout;

    if (flaghup) {
      flaghup = 0;
      if (readlists()) log1("status: reread control/locals and control/virtualdomains");
      else log1("warning: keeping the old control/locals and control/virtualdomains");
    }
    if (flagalrm) {
      flagalrm = 0;
      anydone = 1;
      duen[0] = duen[1] = 0;
      for (size_t i = 0; i < nmsgs; i++)
        if (msgs[i].used) {
          msgs[i].ch[0].next = msgs[i].ch[1].next = 0;
          msgs[i].donenext = 0;
          due(i, 0);
          due(i, 1);
        }
    }
    if (stopping) {
      if (!active[0] && !active[1]) shutdown_now();
    } else {
      if (now >= nextcleanup) {
        nextcleanup = now + CLEANUP_INTERVAL;
        cleanup_scan();
      }
      if ((flagtodo && mono_ms() >= todo_notbefore) || now >= nexttodo) {
        flagtodo = 0;
        nexttodo = now + TODO_INTERVAL;
        todo_scan();
      }
      if (anydone) {
        anydone = 0;
        for (size_t i = 0; i < nmsgs; i++) {
          if (msgs[i].used && msgs[i].done_pending && msgs[i].donenext <= now
              && !msgs[i].ch[0].active && !msgs[i].ch[1].active) {
            msgs[i].done_pending = 0;
            messdone(i);
          }
          if (msgs[i].used && msgs[i].done_pending) anydone = 1;
        }
      }
      schedule(now);
    }

    now = time(0);
    wake = nexttodo < nextcleanup ? nexttodo : nextcleanup;
    if (!stopping) {
      for (int c = 0; c < 2; c++)
        if (active[c] < conc[c] || (c == 1 && !remote_ok)) {
          const struct due *d = due_top(c);
          if (d && d->next < wake) wake = d->next;
        }
      if (anydone)
        for (size_t i = 0; i < nmsgs; i++)
          if (msgs[i].used && msgs[i].done_pending && msgs[i].donenext < wake) wake = msgs[i].donenext;
    }
    timeout = wake <= now ? 0 : (wake - now > 86400 ? 86400 : (int)(wake - now));
    if (timeout) timeout++;   /* qmail's one-second fuzz */

    p[n].fd = sfd; p[n].events = POLLIN; ip_sig = n++;
    if (trig >= 0 && !stopping) { p[n].fd = trig; p[n].events = POLLIN; ip_trig = n++; }
    for (int c = 0; c < 2; c++) {
      if (c == 1 && !remote_ok) continue;
      p[n].fd = io[c].res; p[n].events = POLLIN; ip_res[c] = n++;
      if (io[c].olen) { p[n].fd = io[c].cmd; p[n].events = POLLOUT; ip_cmd[c] = n++; }
    }
    log_flush();
    {
      int64_t ms = (int64_t)timeout * 1000;
      if (flagtodo && !stopping) {
        int64_t left = todo_notbefore - mono_ms();
        if (left < 0) left = 0;
        if (left < ms) ms = left;
      }
      timeout = (int)ms;
    }
    if (poll(p, (nfds_t)n, timeout) < 0) {
      if (errno == EINTR) continue;
      log1("alert: poll failed; dying...");
      return 111;
    }
    if (p[ip_sig].revents) {
      int sig;
      while ((sig = selfpipe_read()) > 0) {
        if (sig == SIGTERM) stopping = 1;
        else if (sig == SIGALRM) flagalrm = 1;
        else if (sig == SIGHUP) flaghup = 1;
      }
    }
    if (ip_trig >= 0 && p[ip_trig].revents) {
      char buf[64];
      while (read(trig, buf, sizeof buf) > 0) ;
      flagtodo = 1;
    }
    for (int c = 0; c < 2; c++) {
      if (ip_cmd[c] >= 0 && p[ip_cmd[c]].revents) writecmd(c);
      if (ip_res[c] >= 0 && p[ip_res[c]].revents) readres(c);
    }
  }
}

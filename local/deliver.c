/* local delivery (deliver.h): one message to one local recipient,
   following the recipient's delivery instructions (~/.tern, ~/.tern-ext,
   ..., the dot-qmail(5) rules) or the default delivery. Runs as the
   recipient: in tern-lspawn's forked child, or as the tern-local program.
   fd 0: the message (seekable, LF line ends); fd 1 and 2: the report
   pipe. Writes into the recipient's Maildirs and mbox files, runs the
   recipient's programs, injects forwards through the queue. See
   tern-local.8. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/random.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "common/home.h"
#include "common/filters.h"
#include "common/qclient.h"
#include "local/deliver.h"
#include "local/dotfile.h"

#define USAGE "usage: tern-local -- user homedir local dash ext domain sender defaultdelivery (#4.3.5)"
#define MAXHOPS_DEFAULT 100
#define MAILDIR_TIMEOUT 86400  /* seconds for one Maildir delivery (qmail: 24 h) */
#define LOCK_TIMEOUT 30        /* seconds to wait for an mbox lock (qmail: 30) */
#define DOTLOCK_STALE 300      /* a dot-lock older than this is stale (liblockfile: 5 min) */

static const char *user, *homedir, *local, *dash, *ext, *domain, *sender, *defaultdelivery;
static stralloc dtline = STRALLOC_ZERO;   /* "Delivered-To: local@domain\n" */
static stralloc rpline = STRALLOC_ZERO;   /* "Return-Path: <sender>\n" */
static stralloc ufline = STRALLOC_ZERO;   /* "From sender date\n" */
static stralloc newsender = STRALLOC_ZERO;
static stralloc fwd = STRALLOC_ZERO;      /* forward addresses, each NUL-terminated */
static unsigned count_file, count_forward, count_program, nfwd, deliveries;
static int flag99;

/* ---- the report: text on fd 1, ending with an RFC 3463 code ---- */

static void say(const char *s) { allwrite(1, s, strlen(s)); }

/* print a1 a2 a3 [": strerror(e)"] " (#code)\n" and exit: 100 for 5.x.x, 111 otherwise */
static void die5(const char *code, const char *a1, const char *a2, const char *a3, int e)
{
  stralloc m = STRALLOC_ZERO;
  if (!stralloc_cats(&m, a1) || !stralloc_cats(&m, a2 ? a2 : "") || !stralloc_cats(&m, a3 ? a3 : "")) _exit(111);
  if (e && (!stralloc_cats(&m, ": ") || !stralloc_cats(&m, strerror(e)))) _exit(111);
  if (!stralloc_cats(&m, ". (#") || !stralloc_cats(&m, code) || !stralloc_cats(&m, ")\n")) _exit(111);
  allwrite(1, m.s, m.len);
  _exit(code[0] == '5' ? 100 : 111);
}
#define die_temp(c, a) die5(c, a, 0, 0, 0)
#define die_perm(c, a) die5(c, a, 0, 0, 0)
static void nomem(void) { die_temp("4.3.0", "Out of memory"); }

/* the RFC 3463 code for a write error: disk full 4.3.1, quota 4.2.2 */
static const char *wcode(int e)
{
  if (e == EDQUOT) return "4.2.2";
  if (e == ENOSPC) return "4.3.1";
  return "4.3.0";
}

/* ---- buffered writer with error memory ---- */

/* to fd, or through the queue client q when it is set (a forward) */
struct wbuf { int fd; int err; size_t n; struct qclient *q; char buf[65536]; };
static struct wbuf wb;

static void wb_init(int fd) { wb.fd = fd; wb.err = 0; wb.n = 0; wb.q = 0; }
static void wb_flush(void)
{
  if (wb.err || !wb.n) { wb.n = 0; return; }
  if (wb.q) { if (qclient_write(wb.q, wb.buf, wb.n) < 0) wb.err = wb.q->werr ? wb.q->werr : EIO; }
  else if (allwrite(wb.fd, wb.buf, wb.n) < wb.n) wb.err = errno ? errno : EIO;
  wb.n = 0;
}
static void wb_put(const char *s, size_t n)
{
  while (n) {
    size_t k = sizeof wb.buf - wb.n;
    if (k > n) k = n;
    memcpy(wb.buf + wb.n, s, k);
    wb.n += k; s += k; n -= k;
    if (wb.n == sizeof wb.buf) wb_flush();
  }
}
static void wb_putc(char c) { if (wb.n == sizeof wb.buf) wb_flush(); wb.buf[wb.n++] = c; }

/* where the message starts on fd 0: the offset fd 0 had when
   local_deliver began (a queue file is handed over positioned at its
   message, common/qmsg.h) */
static off_t msgstart;

/* Copy the message (fd 0, from msgstart) into wb; mboxrd: quote ^>*From
   lines and return the last byte written (0 if none). Returns 1, or 0 on a
   read error (errno). */
static int copy_message(int mboxrd, char *last)
{
  char buf[65536];
  int lstart = 1, inprefix = 0;
  size_t gt = 0, fm = 0;
  char lc = 0;
  if (lseek(0, msgstart, SEEK_SET) < 0) return 0;
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; return 0; }
    if (!r) break;
    if (!mboxrd) { wb_put(buf, (size_t)r); lc = buf[r - 1]; continue; }
    for (ssize_t i = 0; i < r; i++) {
      char c = buf[i];
      if (lstart) { inprefix = 1; gt = 0; fm = 0; lstart = 0; }
      if (inprefix) {
        if (!fm && c == '>') { gt++; continue; }
        if (c == "From "[fm]) {
          if (++fm < 5) continue;
          wb_putc('>');
          for (size_t k = 0; k < gt; k++) wb_putc('>');
          wb_put("From ", 5);
          inprefix = 0; lc = ' ';
          continue;
        }
        for (size_t k = 0; k < gt; k++) wb_putc('>');
        wb_put("From ", fm);
        inprefix = 0;
      }
      wb_putc(c);
      lc = c;
      if (c == '\n') lstart = 1;
    }
  }
  if (mboxrd && inprefix) {
    for (size_t k = 0; k < gt; k++) wb_putc('>');
    wb_put("From ", fm);
    if (gt || fm) lc = fm ? "From "[fm - 1] : '>';
  }
  if (last) *last = lc;
  return 1;
}

/* ---- Maildir (maildir(5), CONVENTIONS §5.1) ---- */

static const char *tmp_to_remove;   /* unlinked by the alarm handler */

static void on_alarm_maildir(int sig)
{
  (void)sig;
  if (tmp_to_remove) unlink(tmp_to_remove);
  static const char m[] = "Timeout on maildir delivery. (#4.3.0)\n";
  allwrite(1, m, sizeof m - 1);
  _exit(111);
}

/* fsync the directory s[0..len) names (a trailing '/' is fine); 0 or errno */
static int fsync_dirname(const char *s, size_t len)
{
  stralloc d = STRALLOC_ZERO;
  int fd, e = 0;
  if (!stralloc_catb(&d, len ? s : ".", len ? len : 1) || !stralloc_0(&d)) nomem();
  fd = open(d.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) e = errno;
  if (fd >= 0) close(fd);
  stralloc_free(&d);
  return e;
}

/* A Maildir that does not exist yet is made, as Postfix's local(8) does:
   dir (which ends in '/'; its parent must exist) and dir/tmp, dir/new,
   dir/cur, mode 0700, owned by the recipient tern-local runs as; the new
   entries are fsync'd. 0, or an errno. */
static int maildir_make(const char *dir, size_t dlen)
{
  static const char *const sub[4] = { "", "tmp", "new", "cur" };
  stralloc p = STRALLOC_ZERO;
  size_t plen = dlen;
  int e = 0;
  for (int i = 0; i < 4 && !e; i++) {
    p.len = 0;
    if (!stralloc_catb(&p, dir, dlen) || !stralloc_cats(&p, sub[i]) || !stralloc_0(&p)) nomem();
    if (mkdir(p.s, 0700) < 0 && errno != EEXIST) e = errno;
  }
  stralloc_free(&p);
  if (e) return e;
  if ((e = fsync_dirname(dir, dlen))) return e;
  /* the parent: dir without its trailing '/' and last component */
  while (plen && dir[plen - 1] == '/') plen--;
  while (plen && dir[plen - 1] != '/') plen--;
  return fsync_dirname(dir, plen);
}

static void maildir(const char *dir, size_t dlen)
{
  int made = 0;
  stralloc tmpfn = STRALLOC_ZERO, newfn = STRALLOC_ZERO, name = STRALLOC_ZERO;
  char host[256], num[UINT64_FMT], rnd[4], hex[9];
  struct timeval tv;
  int fd = -1, tries, e;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm_maildir;
  sigaction(SIGALRM, &sa, 0);
  alarm(MAILDIR_TIMEOUT);
  if (gethostname(host, sizeof host - 1) < 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  for (tries = 0; ; tries++) {
    size_t hl = strlen(host), n;
    gettimeofday(&tv, 0);
    random_buf(rnd, sizeof rnd);
    for (int i = 0; i < 4; i++) { hex[2*i] = "0123456789abcdef"[(rnd[i] >> 4) & 15]; hex[2*i+1] = "0123456789abcdef"[rnd[i] & 15]; }
    hex[8] = 0;
    deliveries++;
    name.len = 0;
    num[uint64_fmt(num, (uint64_t)tv.tv_sec)] = 0;
    if (!stralloc_cats(&name, num) || !stralloc_cats(&name, ".M")) nomem();
    num[uint64_fmt(num, (uint64_t)tv.tv_usec)] = 0;
    if (!stralloc_cats(&name, num) || !stralloc_cats(&name, "P")) nomem();
    num[uint64_fmt(num, (uint64_t)getpid())] = 0;
    if (!stralloc_cats(&name, num) || !stralloc_cats(&name, "Q")) nomem();
    num[uint64_fmt(num, (uint64_t)deliveries)] = 0;
    if (!stralloc_cats(&name, num) || !stralloc_cats(&name, "R") || !stralloc_cats(&name, hex) || !stralloc_cats(&name, ".")) nomem();
    n = dotfile_maildir_host(0, host, hl);
    if (!stralloc_readyplus(&name, n + 1)) nomem();
    name.len += dotfile_maildir_host(name.s + name.len, host, hl);
    tmpfn.len = newfn.len = 0;
    if (!stralloc_catb(&tmpfn, dir, dlen) || !stralloc_cats(&tmpfn, "tmp/") || !stralloc_cat(&tmpfn, &name) || !stralloc_0(&tmpfn)) nomem();
    if (!stralloc_catb(&newfn, dir, dlen) || !stralloc_cats(&newfn, "new/") || !stralloc_cat(&newfn, &name) || !stralloc_0(&newfn)) nomem();
    fd = open(tmpfn.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) break;
    if (errno == ENOENT && !made) {
      made = 1;
      e = maildir_make(dir, dlen);
      if (!e) { tries--; continue; }
      errno = e;
    }
    if (errno != EEXIST || tries >= 2) {
      e = errno;
      die5(e == ENOENT || e == ENOTDIR ? "4.2.1" : wcode(e), "Unable to create a file in maildir ", tmpfn.s, 0, e);
    }
    sleep(2);
  }
  tmp_to_remove = tmpfn.s;
  wb_init(fd);
  wb_put(rpline.s, rpline.len);
  wb_put(dtline.s, dtline.len);
  if (!copy_message(0, 0)) { e = errno; unlink(tmpfn.s); die5("4.3.0", "Unable to read message", 0, 0, e); }
  wb_flush();
  if (wb.err) { e = wb.err; unlink(tmpfn.s); die5(wcode(e), "Unable to write maildir file ", tmpfn.s, 0, e); }
  if (fsync(fd) < 0) { e = errno; unlink(tmpfn.s); die5(wcode(e), "Unable to fsync maildir file ", tmpfn.s, 0, e); }
  if (close(fd) < 0) { e = errno; unlink(tmpfn.s); die5(wcode(e), "Unable to close maildir file ", tmpfn.s, 0, e); }
  if (link(tmpfn.s, newfn.s) < 0) {
    e = errno;
    /* filesystems without hard links: rename (maildir.courier(5)) */
    if ((e == EPERM || e == ENOSYS || e == EXDEV) && rename(tmpfn.s, newfn.s) == 0) e = 0;
    if (e) { unlink(tmpfn.s); die5(wcode(e), "Unable to link maildir file into ", newfn.s, 0, e); }
  }
  /* the link is the delivery: make the directory entry durable */
  {
    stralloc nd = STRALLOC_ZERO;
    if (!stralloc_catb(&nd, dir, dlen) || !stralloc_cats(&nd, "new") || !stralloc_0(&nd)) nomem();
    fd = open(nd.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
      e = errno;
      unlink(tmpfn.s);
      unlink(newfn.s);
      die5("4.3.0", "Unable to fsync maildir directory ", nd.s, 0, e);
    }
    stralloc_free(&nd);
  }
  close(fd);
  unlink(tmpfn.s);
  tmp_to_remove = 0;
  alarm(0);
  stralloc_free(&tmpfn); stralloc_free(&newfn); stralloc_free(&name);
}

/* ---- mbox (mbox(5), mboxrd; fcntl then dot-lock, CONVENTIONS §5.2) ---- */

static volatile sig_atomic_t alarmed;
static void on_alarm_flag(int sig) { (void)sig; alarmed = 1; }
static const char *dotlock_to_remove;

static void mbox(const char *path)
{
  stralloc lk = STRALLOC_ZERO, lktmp = STRALLOC_ZERO;
  struct sigaction sa;
  struct flock fl;
  struct stat st;
  int fd, e, havedot = 0;
  off_t start;
  char last = '\n', num[UINT64_FMT];
  time_t deadline = time(0) + LOCK_TIMEOUT;

  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) die5("4.2.1", "Unable to open mbox ", path, 0, errno);
  if (fstat(fd, &st) < 0) die5("4.3.0", "Unable to stat mbox ", path, 0, errno);
  if (!S_ISREG(st.st_mode)) die5("4.2.1", "Mbox ", path, " is not a regular file", 0);

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm_flag;   /* no SA_RESTART: F_SETLKW returns EINTR */
  sigaction(SIGALRM, &sa, 0);
  alarmed = 0;
  alarm(LOCK_TIMEOUT);
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK; fl.l_whence = SEEK_SET; fl.l_start = 0; fl.l_len = 0;
  while (fcntl(fd, F_SETLKW, &fl) < 0) {
    if (errno == EINTR && !alarmed) continue;
    if (alarmed) die_temp("4.3.0", "File has been locked for 30 seconds straight");
    die5("4.3.0", "Unable to lock mbox ", path, 0, errno);
  }
  alarm(0);

  /* dot-lock path.lock, made by link() from a unique name (NFS-safe,
     liblockfile); skipped where we may not create files (e.g. /var/mail
     without group mail) */
  if (!stralloc_cats(&lk, path) || !stralloc_cats(&lk, ".lock") || !stralloc_0(&lk)) nomem();
  num[uint64_fmt(num, (uint64_t)getpid())] = 0;
  if (!stralloc_cats(&lktmp, path) || !stralloc_cats(&lktmp, ".lock.tern.") || !stralloc_cats(&lktmp, num) || !stralloc_0(&lktmp)) nomem();
  for (;;) {
    int t = open(lktmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (t < 0) {
      if (errno == EACCES || errno == EPERM || errno == EROFS) break;
      die5("4.3.0", "Unable to create dot-lock ", lktmp.s, 0, errno);
    }
    allwrite(t, num, strlen(num)); allwrite(t, "\n", 1);
    close(t);
    if (link(lktmp.s, lk.s) == 0) { havedot = 1; unlink(lktmp.s); dotlock_to_remove = lk.s; break; }
    e = errno;
    unlink(lktmp.s);
    if (e != EEXIST) die5("4.3.0", "Unable to create dot-lock ", lk.s, 0, e);
    if (stat(lk.s, &st) == 0 && st.st_mtime + DOTLOCK_STALE < time(0)) { unlink(lk.s); continue; }
    if (time(0) >= deadline) die_temp("4.3.0", "File has been locked for 30 seconds straight");
    sleep(1);
  }

  if (fstat(fd, &st) < 0) { e = errno; goto fail_nowrite; }
  start = st.st_size;
  wb_init(fd);
  wb_put(ufline.s, ufline.len);
  wb_put(rpline.s, rpline.len);
  wb_put(dtline.s, dtline.len);
  if (!copy_message(1, &last)) {
    e = errno;
    wb.err = wb.err ? wb.err : EIO;
    wb_flush();
    if (ftruncate(fd, start) < 0) {}
    if (havedot) unlink(lk.s);
    die5("4.3.0", "Unable to read message", 0, 0, e);
  }
  if (last != '\n') wb_putc('\n');
  wb_putc('\n');
  wb_flush();
  if (wb.err) { e = wb.err; goto fail; }
  if (fsync(fd) < 0) { e = errno; goto fail; }
  if (havedot) unlink(lk.s);
  dotlock_to_remove = 0;
  if (close(fd) < 0) die5(wcode(errno), "Unable to close mbox ", path, 0, errno);
  stralloc_free(&lk); stralloc_free(&lktmp);
  return;
 fail:
  if (ftruncate(fd, start) == 0) fsync(fd);
 fail_nowrite:
  if (havedot) unlink(lk.s);
  die5(wcode(e), "Unable to write mbox ", path, 0, e);
}

/* ---- program delivery (qmail-command(8)) ---- */

static void program(const char *cmd)
{
  pid_t pid;
  int wstat, r;
  pid = fork();
  if (pid < 0) die5("4.3.0", "Unable to fork", 0, 0, errno);
  if (!pid) {
    if (lseek(0, msgstart, SEEK_SET) < 0) _exit(111);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)0);
    say("Unable to run /bin/sh: ");
    say(strerror(errno));
    say(". (#4.3.0)\n");
    _exit(111);
  }
  while (waitpid(pid, &wstat, 0) < 0)
    if (errno != EINTR) die5("4.3.0", "Unable to wait for the program", 0, 0, errno);
  if (!WIFEXITED(wstat)) die_temp("4.3.0", "Aack, the program crashed");
  r = dotfile_progexit(WEXITSTATUS(wstat));
  if (r == 99) { flag99 = 1; return; }
  if (r == 0) return;
  {
    char num[UINT64_FMT];
    num[uint64_fmt(num, (uint64_t)WEXITSTATUS(wstat))] = 0;
    if (r == 100) die5("5.3.0", "Program delivery failed permanently (exit code ", num, ")", 0);
    die5("4.3.0", "Program delivery failed temporarily (exit code ", num, ")", 0);
  }
}

/* ---- forwards: one injection through the queue client (common/qclient.h) ---- */

static pid_t forward(void)
{
  stralloc env = STRALLOC_ZERO;
  struct qclient q;
  int e = 0, perm, code;
  pid_t pid;
  size_t i;
  if (!stralloc_catb(&env, "F", 1) || !stralloc_catb(&env, newsender.s, newsender.len) || !stralloc_catb(&env, "", 1)) nomem();
  for (i = 0; i < fwd.len; i += strlen(fwd.s + i) + 1)
    if (!stralloc_catb(&env, "T", 1) || !stralloc_cats(&env, fwd.s + i) || !stralloc_catb(&env, "", 1)) nomem();
  if (!stralloc_catb(&env, "", 1)) nomem();
  if (qclient_open_source(&q, FILTERS_FORWARD, 0, 0) < 0)
    die5("4.3.0", errno == EMFILE || errno == ENFILE ? "Unable to create a pipe" : "Unable to fork", 0, 0, errno);
  pid = q.pid;
  wb_init(-1);
  wb.q = &q;
  wb_put(dtline.s, dtline.len);
  if (!copy_message(0, 0)) e = errno ? errno : EIO;
  wb_flush();
  if (!e && wb.err) e = wb.err;
  wb.q = 0;
  /* after a read error no envelope: the queue program then queues nothing */
  code = qclient_close(&q, env.s, e ? 0 : env.len);
  if (q.status == -1) die5("4.3.0", "Unable to wait for the queue", 0, 0, ECHILD);
  if (!WIFEXITED(q.status)) die_temp("4.3.0", "Aack, the queue program crashed");
  if (WEXITSTATUS(q.status)) {
    const char *d = qclient_describe(&q, code, &perm);
    say("Unable to forward message: ");
    say(d);
    say("\n");
    _exit(perm ? 100 : 111);
  }
  if (!e && code) e = q.werr ? q.werr : EIO;
  if (e) die5("4.3.0", "Unable to forward message", 0, 0, e);
  stralloc_free(&env);
  return pid;
}

/* ---- loop checks: Delivered-To (#5.4.6) and Received count ---- */

static unsigned long read_maxhops(void)
{
  stralloc fn = STRALLOC_ZERO;
  char buf[64];
  ssize_t r;
  unsigned long v = 0;
  size_t i;
  int fd;
  if (!stralloc_cats(&fn, home_get()) || !stralloc_cats(&fn, "/control/maxhops") || !stralloc_0(&fn)) nomem();
  fd = open(fn.s, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return MAXHOPS_DEFAULT;
    die5("4.3.0", "Unable to read control/maxhops", 0, 0, errno);
  }
  r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r < 0) die5("4.3.0", "Unable to read control/maxhops", 0, 0, errno);
  for (i = 0; i < (size_t)r && buf[i] >= '0' && buf[i] <= '9' && i < 9; i++) v = v * 10 + (unsigned long)(buf[i] - '0');
  if (!i || (i < (size_t)r && buf[i] != '\n' && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r'))
    die_temp("4.3.0", "control/maxhops is not a number");
  return v;
}

static int ci_prefix(const char *s, size_t n, const char *p)
{
  size_t l = strlen(p);
  if (n < l) return 0;
  for (size_t i = 0; i < l; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != p[i]) return 0;
  }
  return 1;
}

static void loopcheck(void)
{
  char buf[65536], line[2048];
  size_t ll = 0, dtl = dtline.len - 1;
  int toolong = 0, done = 0;
  unsigned long received = 0, maxhops = read_maxhops();
  if (lseek(0, msgstart, SEEK_SET) < 0) die5("4.3.0", "Unable to seek message", 0, 0, errno);
  while (!done) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; die5("4.3.0", "Unable to read message", 0, 0, errno); }
    if (!r) break;
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n') {
        if (ll < sizeof line) line[ll++] = buf[i]; else toolong = 1;
        continue;
      }
      if (!ll) { done = 1; break; }   /* end of header */
      if (!toolong) {
        if (ll == dtl && ci_prefix(line, ll, "delivered-to: ")
            && !strncasecmp(line, dtline.s, dtl))
          die_perm("5.4.6", "This message is looping: it already has my Delivered-To line");
      }
      if (ci_prefix(line, ll, "received:")) received++;
      ll = 0; toolong = 0;
    }
  }
  if (received > maxhops) die_perm("5.4.6", "This message is looping: it has too many Received lines");
}

/* ---- instructions files ---- */

/* open .tern<dash><safeext-part>; 1 found (fd, size), 0 missing */
static int qme_open(const char *name, int *fd, struct stat *st)
{
  *fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (*fd < 0) {
    if (errno == ENOENT) return 0;
    die5("4.2.1", "Unable to open ", name, 0, errno);
  }
  if (fstat(*fd, st) < 0) die5("4.3.0", "Unable to stat ", name, 0, errno);
  if (st->st_mode & 022) die5("4.7.0", "Uh-oh: ", name, " is group- or world-writable", 0);
  return 1;
}

static int qme_exists(const char *name)
{
  struct stat st;
  if (stat(name, &st) == 0) return 1;
  if (errno == ENOENT || errno == ENOTDIR) return 0;
  die5("4.2.1", "Unable to stat ", name, 0, errno);
  return 0;
}

/* qmail-local's qmesearch: exact file, then ...-default from most to least
   specific. Sets DEFAULT. Returns an fd or -1. */
static int qme_search(const char *safeext, size_t sl, struct stat *st, stralloc *found)
{
  int fd;
  size_t i;
  found->len = 0;
  if (!stralloc_cats(found, ".tern") || !stralloc_cats(found, dash) || !stralloc_catb(found, safeext, sl) || !stralloc_0(found)) nomem();
  if (qme_open(found->s, &fd, st)) {
    if (sl >= 7 && !memcmp(safeext + sl - 7, "default", 7) && setenv("DEFAULT", ext + sl - 7, 1) < 0) nomem();
    return fd;
  }
  for (i = sl + 1; i-- > 0;) {
    if (i && safeext[i - 1] != '-') continue;
    found->len = 0;
    if (!stralloc_cats(found, ".tern") || !stralloc_cats(found, dash) || !stralloc_catb(found, safeext, i)
     || !stralloc_cats(found, "default") || !stralloc_0(found)) nomem();
    if (qme_open(found->s, &fd, st)) {
      if (setenv("DEFAULT", ext + i, 1) < 0) nomem();
      return fd;
    }
  }
  return -1;
}

static void setenv_or_die(const char *k, const char *v) { if (setenv(k, v, 1) < 0) nomem(); }

static void setenv_ext(const char *name, const char *s, int n)
{
  /* EXTn: ext after the (n-1)th '-' (qmail: empty if none) */
  while (n-- > 1) { const char *d = strchr(s, '-'); s = d ? d + 1 : s + strlen(s); }
  setenv_or_die(name, s);
}

static void setenv_host(const char *name, int n)
{
  stralloc h = STRALLOC_ZERO;
  if (!stralloc_cats(&h, domain)) nomem();
  while (n-- > 1) { size_t i = h.len; while (i && h.s[i - 1] != '.') i--; if (i) h.len = i - 1; }
  if (!stralloc_0(&h)) nomem();
  setenv_or_die(name, h.s);
  stralloc_free(&h);
}

static void build_lines(void)
{
  size_t n;
  time_t now = time(0);
  struct tm tm;
  char date[64];
  /* Delivered-To: local@domain (newlines -> '_') */
  if (!stralloc_cats(&dtline, "Delivered-To: ") || !stralloc_cats(&dtline, local) || !stralloc_cats(&dtline, "@") || !stralloc_cats(&dtline, domain)) nomem();
  for (n = 14; n < dtline.len; n++) if (dtline.s[n] == '\n' || dtline.s[n] == '\r') dtline.s[n] = '_';
  if (!stralloc_cats(&dtline, "\n")) nomem();
  /* Return-Path: <sender> (quoted) */
  n = dotfile_quote(0, sender, strlen(sender));
  if (!stralloc_cats(&rpline, "Return-Path: <") || !stralloc_readyplus(&rpline, n + 3)) nomem();
  rpline.len += dotfile_quote(rpline.s + rpline.len, sender, strlen(sender));
  if (!stralloc_cats(&rpline, ">\n")) nomem();
  /* From_ line: From SENDER asctime (GMT) */
  n = dotfile_fromsender(0, sender, strlen(sender));
  if (!stralloc_cats(&ufline, "From ") || !stralloc_readyplus(&ufline, n + 1)) nomem();
  ufline.len += dotfile_fromsender(ufline.s + ufline.len, sender, strlen(sender));
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, " %a %b %e %H:%M:%S %Y\n", &tm);
  if (!stralloc_cats(&ufline, date)) nomem();
}

static void set_newsender(const char *safeext, size_t sl)
{
  stralloc q = STRALLOC_ZERO;
  if (!stralloc_copys(&newsender, sender)) nomem();
  if (!*sender || !strcmp(sender, "#@[]")) goto done;
  if (!stralloc_cats(&q, ".tern") || !stralloc_cats(&q, dash) || !stralloc_catb(&q, safeext, sl) || !stralloc_cats(&q, "-owner") || !stralloc_0(&q)) nomem();
  if (!qme_exists(q.s)) goto done;
  if (!stralloc_copys(&newsender, local) || !stralloc_cats(&newsender, "-owner@") || !stralloc_cats(&newsender, domain)) nomem();
  q.len--;
  if (!stralloc_cats(&q, "-default") || !stralloc_0(&q)) nomem();
  if (qme_exists(q.s))
    if (!stralloc_copys(&newsender, local) || !stralloc_cats(&newsender, "-owner-@") || !stralloc_cats(&newsender, domain) || !stralloc_cats(&newsender, "-@[]")) nomem();
 done:
  if (!stralloc_0(&newsender)) nomem();
  newsender.len--;
  stralloc_free(&q);
}

int local_deliver(int argc, char *const *argv)
{
  stralloc cmds = STRALLOC_ZERO, qme = STRALLOC_ZERO, rcpt = STRALLOC_ZERO;
  char *safeext;
  size_t sl, pos, llen;
  const char *line;
  struct stat st;
  int fd, first = 1, forwardonly = 0;

  umask(077);
  signal(SIGPIPE, SIG_IGN);
  msgstart = lseek(0, 0, SEEK_CUR);
  if (msgstart < 0) msgstart = 0;
  if (argc > 1 && !strcmp(argv[1], "--")) { argc--; argv++; }
  if (argc != 9) { say(USAGE); say("\n"); _exit(100); }
  user = argv[1]; homedir = argv[2]; local = argv[3]; dash = argv[4];
  ext = argv[5]; domain = argv[6]; sender = argv[7]; defaultdelivery = argv[8];

  if (homedir[0] != '/') die_temp("4.3.0", "Home directory is not an absolute path");
  if (chdir(homedir) < 0) die5("4.2.1", "Unable to chdir to home directory ", homedir, 0, errno);
  if (stat(".", &st) < 0) die5("4.3.0", "Unable to stat home directory", 0, 0, errno);
  if (st.st_mode & 002) die_temp("4.7.0", "Uh-oh: home directory is writable");
  if (st.st_mode & 01000) die_temp("4.2.1", "Home directory is sticky: user is editing the .tern file");

  build_lines();
  loopcheck();

  sl = strlen(ext);
  safeext = malloc(sl + 1);
  if (!safeext) nomem();
  dotfile_safeext(safeext, ext, sl);
  safeext[sl] = 0;

  if (!stralloc_cats(&rcpt, local) || !stralloc_cats(&rcpt, "@") || !stralloc_cats(&rcpt, domain) || !stralloc_0(&rcpt)) nomem();
  setenv_or_die("SENDER", sender);
  setenv_or_die("RECIPIENT", rcpt.s);
  setenv_or_die("USER", user);
  setenv_or_die("HOME", homedir);
  setenv_or_die("LOCAL", local);
  setenv_or_die("HOST", domain);
  setenv_or_die("EXT", ext);
  setenv_ext("EXT2", ext, 2); setenv_ext("EXT3", ext, 3); setenv_ext("EXT4", ext, 4);
  setenv_host("HOST2", 2); setenv_host("HOST3", 3); setenv_host("HOST4", 4);
  unsetenv("DEFAULT");
  if (!stralloc_0(&dtline) || !stralloc_0(&rpline) || !stralloc_0(&ufline)) nomem();
  dtline.len--; rpline.len--; ufline.len--;
  setenv_or_die("DTLINE", dtline.s);
  setenv_or_die("RPLINE", rpline.s);
  setenv_or_die("UFLINE", ufline.s);

  fd = qme_search(safeext, sl, &st, &qme);
  if (fd < 0) {
    if (*dash) die_perm("5.1.1", "Sorry, no mailbox here by that name");
  } else {
    if (st.st_size > DOTFILE_MAX) die5("4.7.0", "Uh-oh: ", qme.s, " is too large", 0);
    if (!slurp(&cmds, fd)) die5("4.3.0", "Unable to read ", qme.s, 0, errno);
    close(fd);
    if (cmds.len > DOTFILE_MAX) die5("4.7.0", "Uh-oh: ", qme.s, " is too large", 0);
    forwardonly = !!(st.st_mode & S_IXUSR);
  }
  if (!cmds.len) {
    if (!stralloc_copys(&cmds, defaultdelivery)) nomem();
    forwardonly = 0;
  }
  set_newsender(safeext, sl);
  setenv_or_die("NEWSENDER", newsender.s);

  /* first pass: validate every line, so a bad line fails before any delivery */
  for (pos = 0; dotfile_next(cmds.s, cmds.len, &pos, &line, &llen); first = 0) {
    const char *v; size_t vl;
    int t = dotfile_line(line, llen, first, &v, &vl);
    if (t < 0) die5("4.7.0", "Uh-oh: ", dotfile_strerror(t), 0, 0);
    if (t == DF_LIST) forwardonly = 1;
  }
  /* second pass: deliver, stop at the first failure (which exits) */
  first = 1;
  for (pos = 0; !flag99 && dotfile_next(cmds.s, cmds.len, &pos, &line, &llen); first = 0) {
    const char *v; size_t vl;
    char *z;
    int t = dotfile_line(line, llen, first, &v, &vl);
    if (t == DF_SKIP || t == DF_LIST) continue;
    if (t != DF_FORWARD && forwardonly) die_temp("4.7.0", "Uh-oh: instructions file may only forward (x bit or +list) but has a file or program line");
    z = malloc(vl + 1);
    if (!z) nomem();
    memcpy(z, v, vl); z[vl] = 0;
    switch (t) {
      case DF_MAILDIR: count_file++; maildir(z, vl); break;
      case DF_MBOX: count_file++; if (strcmp(z, "/dev/null")) mbox(z); break;  /* /dev/null discards */
      case DF_PROGRAM: count_program++; program(z); break;
      case DF_FORWARD:
        count_forward++;
        if (!stralloc_catb(&fwd, z, vl + 1)) nomem();
        nfwd++;
        break;
    }
    free(z);
  }
  {
    char n1[UINT64_FMT], n2[UINT64_FMT], n3[UINT64_FMT], qp[UINT64_FMT];
    pid_t pid = nfwd ? forward() : 0;
    n1[uint64_fmt(n1, count_file)] = 0;
    n2[uint64_fmt(n2, count_forward)] = 0;
    n3[uint64_fmt(n3, count_program)] = 0;
    say("did "); say(n1); say("+"); say(n2); say("+"); say(n3); say("\n");
    if (pid) { qp[uint64_fmt(qp, (uint64_t)pid)] = 0; say("qp "); say(qp); say("\n"); }
  }
  return 0;
}

/* tern-smtpd: RFC 5321 server on fd 0/1, one process per connection.
   See tern-smtpd.8. Edge program: libowfat + libc + common/ only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "cdb.h"

#include "common/addr.h"
#include "common/ctl.h"
#include "common/date822.h"
#include "common/home.h"
#include "common/qqcode.h"
#include "common/safe.h"
#include "smtpd/smtp.h"
#include "smtpd/rcpt.h"

extern char **environ;

#define HELO_MAX 255          /* HELO argument kept (longer is truncated) */
#define LOG_MAX 4000          /* one log line, bytes */

/* ---- configuration ---- */
static char me[CTL_LINE_MAX];
static char greeting[CTL_LINE_MAX];
static char localiphost[CTL_LINE_MAX];
static struct ctl_list rcpthosts = CTL_LIST_ZERO;
static int have_rcpthosts;
static struct ctl_list badmailfrom = CTL_LIST_ZERO;
static struct ctl_list badrcptto = CTL_LIST_ZERO;
static int mrh_fd = -1;
static struct ctl_list locals = CTL_LIST_ZERO;
static struct ctl_list vdoms = CTL_LIST_ZERO;
static int rcpts_fd = -1;               /* HOME/users/recipients.cdb, or -1: no check */
static unsigned long databytes;
static unsigned long maxrcpt = 100;
static unsigned long timeoutsmtpd = 1200;
static unsigned long timeoutsession = 3600;
static unsigned long maxbadcmds = 20;
static unsigned long greetdelay;

static const char *remoteip = "unknown";
static const char *remotehost;
static const char *localip;
static const char *relayclient;

/* ---- I/O ---- */
static time_t deadline;                 /* whole session */
static char inbuf[8192];
static char outbuf[4096];
static buffer bin, bout;

struct qq {
  pid_t pid;
  int msgfd, envfd;
  int idfd;                             /* tern-queue -i reports "msg N qp P" here */
  int werr;                             /* a write to the queue failed */
};
static struct qq *qq_current;           /* aborted on a fatal exit */
static char queueid[64];                /* "msg N qp P" of the last queued message */

static void qq_abort(struct qq *q);

static void logline(const char *s, size_t n)
{
  char buf[LOG_MAX + 2];
  if (n > LOG_MAX) n = LOG_MAX;
  memcpy(buf, s, n);
  buf[n++] = '\n';
  (void)!write(2, buf, n);
}

/* log accumulator */
struct lg { char s[LOG_MAX]; size_t n; };
static void lg_cat(struct lg *l, const char *s, size_t n)
{
  if (n > LOG_MAX - l->n) n = LOG_MAX - l->n;
  memcpy(l->s + l->n, s, n);
  l->n += n;
}
static void lg_cats(struct lg *l, const char *s) { lg_cat(l, s, strlen(s)); }
/* untrusted bytes: made safe, '?' for spaces and controls */
static void lg_safe(struct lg *l, const char *s, size_t n)
{
  if (n > LOG_MAX - l->n) n = LOG_MAX - l->n;
  safe_copy(l->s + l->n, s, n, '?', 0);
  l->n += n;
}
static void lg_ulong(struct lg *l, unsigned long long u)
{
  char t[24];
  size_t n = 0;
  do t[sizeof t - 1 - n++] = (char)('0' + u % 10); while (u /= 10);
  lg_cat(l, t + sizeof t - n, n);
}

static void die_quiet(int code)
{
  if (qq_current) qq_abort(qq_current);
  _exit(code);
}

static void warn(const char *what)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: warning: ");
  lg_cats(&l, remoteip);
  lg_cats(&l, " ");
  lg_cats(&l, what);
  logline(l.s, l.n);
}

static int wait_fd(int fd, short ev)
{
  for (;;) {
    time_t now = time(0);
    long t = (long)timeoutsmtpd;
    struct pollfd p;
    int r;
    /* the session cap limits reading; a write (the 421 that ends a
       capped session, too) gets timeoutsmtpd */
    if (ev == POLLIN && deadline - now < t) t = (long)(deadline - now);
    if (t <= 0) { errno = ETIMEDOUT; return -1; }
    p.fd = fd;
    p.events = ev;
    p.revents = 0;
    r = poll(&p, 1, (int)(t > 100000 ? 100000000 : t * 1000));
    if (r > 0) return 0;
    if (r == 0) { errno = ETIMEDOUT; return -1; }
    if (errno != EINTR) return -1;
  }
}

static ssize_t safewrite(int fd, const char *buf, size_t len)
{
  ssize_t r;
  if (wait_fd(fd, POLLOUT) < 0) { warn("write timeout or error, closing"); die_quiet(1); }
  r = write(fd, buf, len);
  if (r <= 0) {
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    warn("write error, closing");
    die_quiet(1);
  }
  return r;
}

/* flush our replies before we would block reading (RFC 2920 3.2) */
static ssize_t saferead(int fd, char *buf, size_t len)
{
  ssize_t r;
  if (buffer_flush(&bout) < 0) die_quiet(1);
  if (wait_fd(fd, POLLIN) < 0) return -1;
  do r = read(fd, buf, len); while (r < 0 && errno == EINTR);
  return r;
}

static void out(const char *s) { buffer_puts(&bout, s); }
static void flush(void) { buffer_flush(&bout); }

/* ---- configuration ---- */
static void path(char *dst, size_t max, const char *name)
{
  const char *h = home_get();
  size_t hl = strlen(h), nl = strlen(name);
  if (hl + 9 + nl + 1 > max) { dst[0] = 0; return; }
  memcpy(dst, h, hl);
  memcpy(dst + hl, "/control/", 9);
  memcpy(dst + hl + 9, name, nl + 1);
}

static const char *ctlwhy;   /* a reason that errno cannot give */
static void ctlfail(const char *name)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: fatal: unable to read control/");
  lg_cats(&l, name);
  lg_cats(&l, ": ");
  lg_cats(&l, ctlwhy ? ctlwhy : strerror(errno));
  logline(l.s, l.n);
  out("421 4.3.0 unable to read controls\r\n");
  flush();
  _exit(1);
}

static char pbuf[4200];
static int readline_ctl(const char *name, char *dst, const char *def)
{
  size_t len;
  int r;
  path(pbuf, sizeof pbuf, name);
  r = ctl_readline(pbuf, dst, CTL_LINE_MAX, &len);
  if (r < 0) ctlfail(name);
  if (r == 0 || len == 0) {
    size_t dl = strlen(def);
    if (dl >= CTL_LINE_MAX) dl = CTL_LINE_MAX - 1;
    memcpy(dst, def, dl);
    dst[dl] = 0;
    return 0;
  }
  return 1;
}

static int readlist_ctl(const char *name, struct ctl_list *l)
{
  int r;
  path(pbuf, sizeof pbuf, name);
  r = ctl_readlist(pbuf, l);
  if (r < 0) ctlfail(name);
  return r;
}

static void readulong_ctl(const char *name, unsigned long *v, unsigned long def)
{
  int r;
  path(pbuf, sizeof pbuf, name);
  r = ctl_readulong(pbuf, v, def);
  if (r == -1) ctlfail(name);
  if (r == -2) { ctlwhy = "not an unsigned decimal number"; ctlfail(name); }
}

static int scan_env_ulong(const char *s, unsigned long *v)
{
  unsigned long x = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (x > (~0UL - 9) / 10) return 0;
    x = x * 10 + (unsigned long)(*s - '0');
  }
  *v = x;
  return 1;
}

static void setup(void)
{
  const char *x;
  readline_ctl("me", me, "");
  if (!me[0]) {
    /* qmail: no me, no greeting: refuse */
    readline_ctl("smtpgreeting", greeting, "");
    if (!greeting[0]) { ctlwhy = "missing or empty, and no control/smtpgreeting"; ctlfail("me"); }
    {
      size_t k = 0;
      while (greeting[k] && greeting[k] != ' ' && k < sizeof me - 1) { me[k] = greeting[k]; k++; }
      me[k] = 0;
    }
  } else
    readline_ctl("smtpgreeting", greeting, me);
  readline_ctl("localiphost", localiphost, me);
  have_rcpthosts = readlist_ctl("rcpthosts", &rcpthosts);
  readlist_ctl("badmailfrom", &badmailfrom);
  readlist_ctl("badrcptto", &badrcptto);
  readulong_ctl("databytes", &databytes, 26214400);  /* 25 MiB; 0 = no limit */
  readulong_ctl("maxrcpt", &maxrcpt, 100);
  readulong_ctl("timeoutsmtpd", &timeoutsmtpd, 1200);
  readulong_ctl("timeoutsession", &timeoutsession, 3600);
  readulong_ctl("maxbadcmds", &maxbadcmds, 20);
  readulong_ctl("greetdelay", &greetdelay, 0);
  if (timeoutsmtpd == 0) timeoutsmtpd = 1;
  if (timeoutsession == 0) timeoutsession = 1;
  if (maxrcpt == 0) maxrcpt = 1;
  if (greetdelay > 60) greetdelay = 60;
  {
    /* recipient check (tern-smtpd.8 RECIPIENT CHECK): locals, else me */
    unsigned long check;
    readulong_ctl("rcptcheck", &check, 1);
    if (readlist_ctl("locals", &locals) <= 0 || !locals.n) {
      size_t ml = strlen(me) + 1;
      ctl_listfree(&locals);
      locals.s = malloc(ml);
      if (!locals.s) { errno = ENOMEM; ctlfail("locals"); }
      memcpy(locals.s, me, ml);
      locals.len = ml;
      locals.n = 1;
    }
    readlist_ctl("virtualdomains", &vdoms);
    if (check) {
      const char *h = home_get();
      size_t hl = strlen(h);
      if (hl + 22 > sizeof pbuf) { errno = ENAMETOOLONG; ctlfail("../users/recipients.cdb"); }
      memcpy(pbuf, h, hl);
      memcpy(pbuf + hl, "/users/recipients.cdb", 22);
      rcpts_fd = open(pbuf, O_RDONLY | O_CLOEXEC);
      if (rcpts_fd < 0 && errno != ENOENT) ctlfail("../users/recipients.cdb");
    }
  }
  if (have_rcpthosts > 0) {
    path(pbuf, sizeof pbuf, "morercpthosts.cdb");
    mrh_fd = open(pbuf, O_RDONLY | O_CLOEXEC);
    if (mrh_fd < 0 && errno != ENOENT) ctlfail("morercpthosts.cdb");
  }
  x = getenv("DATABYTES");
  if (x) { unsigned long v; if (scan_env_ulong(x, &v)) databytes = v; }
  x = getenv("TCPREMOTEIP");
  if (x && *x) remoteip = x;
  x = getenv("TCPREMOTEHOST");
  if (x && *x) remotehost = x;
  x = getenv("TCPLOCALIP");
  if (x && *x) localip = x;
  relayclient = getenv("RELAYCLIENT");
  /* map ::ffff:a.b.c.d to a.b.c.d (CONVENTIONS.md 2) */
  if (!strncmp(remoteip, "::ffff:", 7) && strchr(remoteip + 7, '.') && !strchr(remoteip + 7, ':'))
    remoteip += 7;
  if (localip && !strncmp(localip, "::ffff:", 7) && strchr(localip + 7, '.') && !strchr(localip + 7, ':'))
    localip += 7;
}

/* ---- session state ---- */
static char helo[HELO_MAX + 1];
static size_t helolen;
static int seenhelo, esmtp;
static unsigned long badcmds;
static unsigned long ntrans;

static int seenmail;
static struct addr mailfrom;
static struct smtp_mailparams mailp;
static int flagbadmailfrom;
static char *rcptbuf;       /* "T" addr "\0" ... */
static size_t rcptlen, rcptcap;
static unsigned long nrcpt;
static char firstrcpt[ADDR_MAX + 1];

/* BDAT transaction */
static int bdat_active;     /* at least one chunk accepted into the queue */
static int bdat_failed;     /* a chunk failed: refuse the rest until RSET/MAIL */
static struct qq bq;
static struct smtp_data bdata;

static void reset_transaction(void)
{
  if (bdat_active) { qq_abort(&bq); bdat_active = 0; }
  bdat_failed = 0;
  seenmail = 0;
  flagbadmailfrom = 0;
  rcptlen = 0;
  nrcpt = 0;
  firstrcpt[0] = 0;
}

static int rcpt_add(const char *s, size_t n)
{
  if (rcptlen + n + 2 > rcptcap) {
    size_t nc = rcptcap ? rcptcap * 2 : 4096;
    char *p;
    while (nc < rcptlen + n + 2) nc *= 2;
    p = realloc(rcptbuf, nc);
    if (!p) return 0;
    rcptbuf = p;
    rcptcap = nc;
  }
  rcptbuf[rcptlen++] = 'T';
  memcpy(rcptbuf + rcptlen, s, n);
  rcptlen += n;
  rcptbuf[rcptlen++] = 0;
  if (!nrcpt) { memcpy(firstrcpt, s, n); firstrcpt[n] = 0; }
  nrcpt++;
  return 1;
}

static void bad(void)
{
  if (++badcmds >= maxbadcmds) {
    out("421 4.7.0 too many errors, closing connection\r\n");
    flush();
    warn("too many bad commands, closing");
    die_quiet(0);
  }
}

/* ---- command line input ---- */
/* 1 line in x[0..*n) without CRLF; 0 EOF; -1 error/timeout; -2 too long
   (consumed to its LF); -3 ended by a bare LF */
static int getcmd(char *x, size_t *n)
{
  size_t len = 0, total = 0;
  int toolong = 0;
  for (;;) {
    char c;
    ssize_t r = buffer_getc(&bin, &c);
    if (r <= 0) return (int)r;
    total++;
    if (c == '\n') break;
    if (len < SMTP_CMD_MAX) x[len++] = c; else toolong = 1;
  }
  if (toolong || total > SMTP_CMD_MAX) return -2;
  if (!len || x[len - 1] != '\r') return -3;
  *n = len - 1;
  return 1;
}

/* ---- relay control ---- */
static int in_morercpthosts(const char *d, size_t n)
{
  struct cdb c;
  int found = 0;
  if (mrh_fd < 0) return 0;
  /* libowfat's cdb_init() starts with cdb_free(): c.map must be 0 */
  memset(&c, 0, sizeof c);
  cdb_init(&c, mrh_fd);
  for (size_t j = 0; j < n && !found; j++)
    if (j == 0 || d[j] == '.') {
      int r = cdb_find(&c, (const unsigned char *)d + j, n - j);
      if (r < 0) { cdb_free(&c); errno = EIO; ctlfail("morercpthosts.cdb"); }
      if (r > 0) found = 1;
    }
  cdb_free(&c);
  return found;
}

/* recipients.cdb lookup for rcpt_known() */
static int rcpts_lookup(void *ctx, const char *k, size_t n)
{
  struct cdb *c = ctx;
  int r = cdb_find(c, (const unsigned char *)k, (unsigned long)n);
  return r < 0 ? -1 : r > 0;
}

/* 1 deliverable (or not ours to check), 0 unknown local recipient, -1 error */
static int rcpt_deliverable(const struct addr *a)
{
  char L[RCPT_LOCAL_MAX];
  size_t ll;
  struct cdb c;
  int r;
  if (rcpts_fd < 0) return 1;
  r = rcpt_local(a->s, a->len, &locals, &vdoms, L, &ll);
  if (r <= 0) return 1;        /* not local (relay control decided) */
  memset(&c, 0, sizeof c);    /* cdb_init() frees c.map first */
  cdb_init(&c, rcpts_fd);
  r = rcpt_known(L, ll, rcpts_lookup, &c);
  cdb_free(&c);
  return r;
}

static int rcpthost_ok(const char *d, size_t n)
{
  if (!have_rcpthosts) {
    /* tern departs from qmail: no rcpthosts is not an open relay; only me */
    size_t ml = strlen(me);
    if (n != ml) return 0;
    for (size_t i = 0; i < n; i++) {
      char a = d[i], b = me[i];
      if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
      if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
      if (a != b) return 0;
    }
    return 1;
  }
  if (ctl_domain_match(&rcpthosts, d, n)) return 1;
  return in_morercpthosts(d, n);
}

/* case-insensitive compare of an internal address with a list entry */
static int ieq(const char *a, size_t an, const char *b)
{
  size_t bn = strlen(b);
  if (an != bn) return 0;
  for (size_t i = 0; i < an; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
    if (x != y) return 0;
  }
  return 1;
}

/* badmailfrom / badrcptto: exact address or "@domain" */
static int addr_listed(const struct ctl_list *l, const struct addr *a)
{
  size_t pos = 0;
  const char *e;
  while ((e = ctl_listnext(l, &pos))) {
    if (ieq(a->s, a->len, e)) return 1;
    if (e[0] == '@' && a->at < a->len && ieq(a->s + a->at, a->len - a->at, e)) return 1;
  }
  return 0;
}

/* ---- queue injection (plan.md "Injecting into the queue") ---- */
static int qq_start(struct qq *q)
{
  int mp[2], ep[2], ip[2];
  const char *qqprog = getenv("QMAILQUEUE");
  q->werr = 0;
  q->idfd = -1;
  queueid[0] = 0;
  if (pipe(mp) < 0) return -1;
  if (pipe(ep) < 0) { close(mp[0]); close(mp[1]); return -1; }
  if (pipe(ip) < 0) { close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]); return -1; }
  q->pid = fork();
  if (q->pid < 0) { close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]); close(ip[0]); close(ip[1]); return -1; }
  if (q->pid == 0) {
    static char sock[4200];
    char *argv[5];
    if (dup2(mp[0], 0) < 0 || dup2(ep[0], 1) < 0 || dup2(ip[1], 2) < 0) _exit(QQ_CANTRUN);
    close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]); close(ip[0]); close(ip[1]);
    signal(SIGPIPE, SIG_DFL);
    if (qqprog && *qqprog) {
      argv[0] = (char *)qqprog;
      argv[1] = 0;
      execv(qqprog, argv);
      _exit(QQ_CANTRUN);
    }
    {
      const char *h = home_get();
      size_t hl = strlen(h);
      if (hl + 12 > sizeof sock) _exit(QQ_CANTRUN);
      memcpy(sock, h, hl);
      memcpy(sock + hl, "/sock/queue", 12);
    }
    argv[0] = "s6-sudo";
    argv[1] = "-e";
    argv[2] = sock;
    argv[3] = "-i";   /* appended to tern-queue's argv by s6-sudod */
    argv[4] = 0;
    execvp("s6-sudo", argv);
    _exit(QQ_CANTRUN);
  }
  close(mp[0]);
  close(ep[0]);
  close(ip[1]);
  fcntl(ip[0], F_SETFD, FD_CLOEXEC);
  q->idfd = ip[0];
  fcntl(mp[1], F_SETFD, FD_CLOEXEC);
  fcntl(ep[1], F_SETFD, FD_CLOEXEC);
  q->msgfd = mp[1];
  q->envfd = ep[1];
  qq_current = q;
  return 0;
}

static void writeall(struct qq *q, int fd, const char *s, size_t n)
{
  while (n && !q->werr) {
    ssize_t r = write(fd, s, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      q->werr = 1;
      return;
    }
    s += r;
    n -= (size_t)r;
  }
}

static void qq_put(struct qq *q, const char *s, size_t n) { writeall(q, q->msgfd, s, n); }

static int qq_wait(struct qq *q)
{
  int st;
  pid_t r;
  do r = waitpid(q->pid, &st, 0); while (r < 0 && errno == EINTR);
  qq_current = 0;
  if (r < 0) return QQ_BUG;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return QQ_BUG;
}

/* nothing queued: close both pipes before any envelope byte (tern-queue
   then sees an empty envelope and removes what it wrote) */
static void qq_abort(struct qq *q)
{
  if (q->msgfd >= 0) close(q->msgfd);
  if (q->envfd >= 0) close(q->envfd);
  q->msgfd = q->envfd = -1;
  if (q->idfd >= 0) { close(q->idfd); q->idfd = -1; }
  if (q->pid > 0) { qq_wait(q); q->pid = 0; }
  qq_current = 0;
}

/* What the queue program wrote on fd 2, read once it has exited (bounded:
   200 bytes, 1 s). "msg N qp P" from tern-queue -i becomes queueid; any
   other text (s6-sudo's errors, a filter's complaints) is logged. */
static void qq_readid(struct qq *q)
{
  char buf[201];
  size_t n = 0;
  queueid[0] = 0;
  if (q->idfd < 0) return;
  while (n < sizeof buf - 1) {
    struct pollfd p = { q->idfd, POLLIN, 0 };
    ssize_t r;
    if (poll(&p, 1, 1000) <= 0) break;
    r = read(q->idfd, buf + n, sizeof buf - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(q->idfd);
  q->idfd = -1;
  if (!n) return;
  buf[n] = 0;
  /* exactly "msg DIGITS qp DIGITS\n" */
  if (n < sizeof queueid && buf[n - 1] == '\n' && !memcmp(buf, "msg ", 4)) {
    size_t i = 4, d1, d2;
    while (i < n && buf[i] >= '0' && buf[i] <= '9') i++;
    d1 = i - 4;
    if (d1 && i + 4 < n && !memcmp(buf + i, " qp ", 4)) {
      size_t j = i + 4;
      while (j < n && buf[j] >= '0' && buf[j] <= '9') j++;
      d2 = j - (i + 4);
      if (d2 && j == n - 1) {
        memcpy(queueid, buf, n - 1);
        queueid[n - 1] = 0;
        return;
      }
    }
  }
  {
    struct lg l;
    l.n = 0;
    lg_cats(&l, "tern-smtpd: warning: ");
    lg_cats(&l, remoteip);
    lg_cats(&l, " the queue program said: ");
    lg_safe(&l, buf, n);
    logline(l.s, l.n);
  }
}

static int qq_finish(struct qq *q)
{
  close(q->msgfd);
  q->msgfd = -1;
  writeall(q, q->envfd, "F", 1);
  writeall(q, q->envfd, mailfrom.s, mailfrom.len);
  writeall(q, q->envfd, "", 1);
  writeall(q, q->envfd, rcptbuf, rcptlen);
  writeall(q, q->envfd, "", 1);
  close(q->envfd);
  q->envfd = -1;
  {
    int code = qq_wait(q);
    q->pid = 0;
    qq_readid(q);
    if (code == 0 && q->werr) return QQ_WRITE;  /* cannot happen: exit 0 read all */
    return code;
  }
}

/* ---- trace ---- */
static char transid[64];
static void make_transid(void)
{
  struct lg l;
  l.n = 0;
  lg_ulong(&l, (unsigned long long)time(0));
  lg_cats(&l, ".");
  lg_ulong(&l, (unsigned long long)getpid());
  lg_cats(&l, ".");
  lg_ulong(&l, ntrans);
  memcpy(transid, l.s, l.n);
  transid[l.n] = 0;
}

static void received(struct qq *q)
{
  char date[DATE822_MAX];
  struct lg l;  /* used as a byte builder */
  l.n = 0;
  lg_cats(&l, "Received: from ");
  lg_safe(&l, helo, helolen);
  lg_cats(&l, " (");
  if (remotehost) { lg_safe(&l, remotehost, strlen(remotehost) > 255 ? 255 : strlen(remotehost)); lg_cats(&l, " "); }
  lg_cats(&l, "[");
  if (strchr(remoteip, ':')) lg_cats(&l, "IPv6:");
  lg_safe(&l, remoteip, strlen(remoteip) > 64 ? 64 : strlen(remoteip));
  lg_cats(&l, "])\n\tby ");
  lg_safe(&l, me, strlen(me));
  lg_cats(&l, " (tern-smtpd) with ");
  lg_cats(&l, mailp.smtputf8 ? "UTF8SMTP" : esmtp ? "ESMTP" : "SMTP");
  lg_cats(&l, " id ");
  lg_cats(&l, transid);
  if (nrcpt == 1) {
    lg_cats(&l, "\n\tfor <");
    lg_safe(&l, firstrcpt, strlen(firstrcpt));
    lg_cats(&l, ">");
  }
  lg_cats(&l, "; ");
  date822_fmt(date, time(0));
  lg_cats(&l, date);
  lg_cats(&l, "\n");
  qq_put(q, l.s, l.n);
}

/* one line per transaction */
static void logtrans(const char *result, size_t size, pid_t qp)
{
  struct lg l;
  size_t pos = 0;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: info: ");
  lg_cats(&l, remoteip);
  lg_cats(&l, " helo ");
  lg_safe(&l, helo, helolen);
  lg_cats(&l, " from <");
  lg_safe(&l, mailfrom.s, mailfrom.len);
  lg_cats(&l, "> to");
  while (pos < rcptlen) {
    size_t k = strlen(rcptbuf + pos + 1);
    lg_cats(&l, " <");
    lg_safe(&l, rcptbuf + pos + 1, k);
    lg_cats(&l, ">");
    pos += k + 2;
  }
  lg_cats(&l, " size ");
  lg_ulong(&l, size);
  lg_cats(&l, " id ");
  lg_cats(&l, transid);
  if (queueid[0]) { lg_cats(&l, " "); lg_cats(&l, queueid); }
  else if (qp > 0) { lg_cats(&l, " qp "); lg_ulong(&l, (unsigned long long)qp); }
  lg_cats(&l, " result ");
  lg_cat(&l, result, strlen(result) > 200 ? 200 : strlen(result));
  logline(l.s, l.n);
}

/* reply to the end of a message; the transaction is over afterwards */
static void end_message(struct qq *q, struct smtp_data *d)
{
  const char *reply = 0;
  char rbuf[300];
  pid_t qp = q->pid;
  if (d->flags & SMTP_D_TOOBIG) reply = "552 5.3.4 sorry, that message size exceeds my databytes limit";
  else if (d->flags & (SMTP_D_BARELF | SMTP_D_BARECR))
    reply = "554 5.6.0 bare CR or LF in message data, lines must end in CRLF (RFC 5321 2.3.8)";
  else if (d->flags & SMTP_D_NUL) reply = "554 5.6.0 NUL byte in message data";
  else if (d->flags & SMTP_D_LONGLINE) reply = "554 5.6.0 message line longer than 1000 octets (RFC 5321 4.5.3.1.6)";
  else if (d->flags & SMTP_D_HOPS) reply = "554 5.4.6 too many hops, this message is looping";
  if (reply) {
    qq_abort(q);
  } else {
    int perm, code = qq_finish(q);
    if (code == 0) {
      size_t n = 0;
      const char *p = "250 2.0.0 ok ";
      const char *id = queueid[0] ? queueid : transid;
      memcpy(rbuf, p, strlen(p)); n = strlen(p);
      memcpy(rbuf + n, id, strlen(id)); n += strlen(id);
      rbuf[n] = 0;
      reply = rbuf;
    } else {
      const char *t = qq_describe(code, &perm);
      size_t n = 0, tl = strlen(t);
      const char *p = perm ? "554 5.3.0 " : "451 4.3.0 ";
      if (tl > 200) tl = 200;
      memcpy(rbuf, p, 10); n = 10;
      memcpy(rbuf + n, t, tl); n += tl;
      rbuf[n] = 0;
      reply = rbuf;
    }
  }
  logtrans(reply, (size_t)d->size, qp);
  out(reply);
  out("\r\n");
  bdat_active = 0;
  seenmail = 0;
  rcptlen = 0;
  nrcpt = 0;
  flagbadmailfrom = 0;
}

/* ---- commands ---- */
static void sethelo(const struct smtp_cmd *c)
{
  size_t n = c->arglen > HELO_MAX ? HELO_MAX : c->arglen;
  memcpy(helo, c->arg, n);
  helo[n] = 0;
  helolen = n;
  seenhelo = 1;
}

static void do_helo(const struct smtp_cmd *c)
{
  if (!c->arglen) { out("501 5.5.4 HELO needs a domain\r\n"); bad(); return; }
  reset_transaction();
  sethelo(c);
  esmtp = 0;
  out("250 ");
  out(me);
  out("\r\n");
}

static void do_ehlo(const struct smtp_cmd *c)
{
  char num[24];
  size_t n = 0;
  unsigned long v = databytes;
  if (!c->arglen) { out("501 5.5.4 EHLO needs a domain\r\n"); bad(); return; }
  reset_transaction();
  sethelo(c);
  esmtp = 1;
  out("250-");
  out(me);
  out("\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE");
  if (v) {
    char t[24];
    size_t k = 0;
    do t[k++] = (char)('0' + v % 10); while (v /= 10);
    while (k) num[n++] = t[--k];
    num[n] = 0;
    out(" ");
    out(num);
  }
  out("\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
}

static void do_mail(const struct smtp_cmd *c)
{
  int aerr, r;
  if (!seenhelo) { out("503 5.5.1 send HELO or EHLO first\r\n"); bad(); return; }
  if (seenmail) { out("503 5.5.1 nested MAIL command\r\n"); bad(); return; }
  r = smtp_parse_mail(c->arg, c->arglen, &mailfrom, &mailp, &aerr);
  switch (r) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    out("501 5.1.7 bad sender address: ");
    out(addr_strerror(aerr));
    out("\r\n");
    bad();
    return;
  case SMTP_E_PARAM: out("555 5.5.4 unsupported MAIL parameter\r\n"); bad(); return;
  case SMTP_E_PARAMVAL: out("501 5.5.4 bad MAIL parameter value\r\n"); bad(); return;
  case SMTP_E_UTF8: out("553 5.6.7 non-ASCII address needs SMTPUTF8\r\n"); return;
  default: out("501 5.5.4 syntax: MAIL FROM:<address>\r\n"); bad(); return;
  }
  if (mailp.has_size && databytes && mailp.size > databytes) {
    out("552 5.3.4 sorry, that message size exceeds my databytes limit\r\n");
    return;
  }
  if (mailfrom.flags & ADDR_F_UTF8 && !esmtp) { out("553 5.6.7 SMTPUTF8 needs EHLO\r\n"); return; }
  seenmail = 1;
  ntrans++;
  make_transid();
  flagbadmailfrom = !(mailfrom.flags & ADDR_F_NULL) && addr_listed(&badmailfrom, &mailfrom);
  rcptlen = 0;
  nrcpt = 0;
  bdat_failed = 0;
  out("250 2.1.0 ok\r\n");
}

static void logrefusal(const char *what, const struct addr *a)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: info: ");
  lg_cats(&l, remoteip);
  lg_cats(&l, " ");
  lg_cats(&l, what);
  lg_cats(&l, " from <");
  lg_safe(&l, mailfrom.s, mailfrom.len);
  lg_cats(&l, "> to <");
  lg_safe(&l, a->s, a->len);
  lg_cats(&l, ">");
  logline(l.s, l.n);
}

static void do_rcpt(const struct smtp_cmd *c)
{
  struct addr a;
  int aerr, r, pm;
  char dom[ADDR_DOMAIN_MAX + 1];
  size_t dl;
  if (!seenmail) { out("503 5.5.1 MAIL first\r\n"); bad(); return; }
  if (bdat_active) { out("503 5.5.1 RCPT not allowed during BDAT\r\n"); bad(); return; }
  r = smtp_parse_rcpt(c->arg, c->arglen, mailp.smtputf8, &a, &aerr);
  switch (r) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    out("501 5.1.3 bad recipient address: ");
    out(addr_strerror(aerr));
    out("\r\n");
    bad();
    return;
  case SMTP_E_PARAM: out("555 5.5.4 unsupported RCPT parameter\r\n"); bad(); return;
  case SMTP_E_UTF8: out("553 5.6.7 non-ASCII address needs SMTPUTF8 on MAIL\r\n"); return;
  default: out("501 5.5.4 syntax: RCPT TO:<address>\r\n"); bad(); return;
  }
  if (nrcpt >= maxrcpt) { out("452 4.5.3 too many recipients\r\n"); return; }
  pm = addr_is_postmaster(&a);
  if (a.flags & ADDR_F_NODOMAIN) {
    /* <postmaster>: RFC 5321 4.1.1.3, delivered to postmaster@me */
    size_t ml = strlen(me);
    if (a.len + 1 + ml > ADDR_MAX) { out("553 5.1.3 address too long\r\n"); return; }
    a.s[a.len] = '@';
    memcpy(a.s + a.len + 1, me, ml + 1);
    a.at = a.len;
    a.len += 1 + ml;
    a.flags &= ~(unsigned)ADDR_F_NODOMAIN;
  }
  /* a literal of our own address is localiphost (qmail-smtpd(8)) */
  if ((a.flags & ADDR_F_LITERAL) && localip) {
    const char *lit = a.s + a.at + 1;
    size_t ll = a.len - a.at - 1, il = strlen(localip);
    int v6 = ll > 6 && !strncasecmp(lit, "[IPv6:", 6);
    size_t off = v6 ? 6 : 1;
    if (ll == off + il + 1 && !strncasecmp(lit + off, localip, il) && lit[ll - 1] == ']') {
      size_t hl = strlen(localiphost);
      if (a.at + 1 + hl <= ADDR_MAX) {
        memcpy(a.s + a.at + 1, localiphost, hl + 1);
        a.len = a.at + 1 + hl;
        a.flags &= ~(unsigned)ADDR_F_LITERAL;
      }
    }
  }
  dl = addr_domain_lower(&a, dom);
  if (!relayclient) {
    if (!rcpthost_ok(dom, dl)) {
      out("553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\r\n");
      logrefusal("relay refused", &a);
      return;
    }
    /* never let a local part carry another route (percent hack, bang
       path, quoted '@'): refused unless the client may relay anyway */
    for (size_t i = 0; i < a.at; i++)
      if (a.s[i] == '%' || a.s[i] == '@' || a.s[i] == '!') {
        out("553 5.7.1 sorry, '%', '!' and '@' are not allowed in the local part here\r\n");
        logrefusal("route in local part refused", &a);
        return;
      }
  }
  if (!pm) {
    if (flagbadmailfrom) {
      out("553 5.7.1 sorry, your envelope sender is in my badmailfrom list\r\n");
      logrefusal("badmailfrom", &a);
      return;
    }
    if (addr_listed(&badrcptto, &a)) {
      out("553 5.7.1 sorry, that address is in my badrcptto list\r\n");
      logrefusal("badrcptto", &a);
      return;
    }
  }
  if (!pm) {
    int k = rcpt_deliverable(&a);
    if (k < 0) {
      out("451 4.3.0 unable to check the recipient, try again later\r\n");
      warn("unable to read users/recipients.cdb");
      return;
    }
    if (!k) {
      out("550 5.1.1 sorry, no mailbox here by that name\r\n");
      logrefusal("unknown recipient", &a);
      return;
    }
  }
  if (relayclient && *relayclient) {
    size_t rl = strlen(relayclient);
    if (a.len + rl > ADDR_MAX) { out("553 5.1.3 address too long\r\n"); return; }
    memcpy(a.s + a.len, relayclient, rl + 1);
    a.len += rl;
  }
  if (!rcpt_add(a.s, a.len)) { out("421 4.3.0 out of memory\r\n"); flush(); die_quiet(1); }
  out("250 2.1.5 ok\r\n");
}

static char dbuf[8192 + 1];

static void do_data(const struct smtp_cmd *c)
{
  struct qq q;
  struct smtp_data d;
  if (c->arglen) { out("501 5.5.4 DATA takes no argument\r\n"); bad(); return; }
  if (bdat_active || bdat_failed) { out("503 5.5.1 DATA not allowed after BDAT\r\n"); bad(); return; }
  if (!seenmail) { out("503 5.5.1 MAIL first\r\n"); bad(); return; }
  if (!nrcpt) { out("554 5.5.1 no valid recipients\r\n"); return; }
  memset(&q, 0, sizeof q);
  if (qq_start(&q) < 0) { out("451 4.3.0 qqt failure\r\n"); return; }
  out("354 go ahead, end with <CRLF>.<CRLF>\r\n");
  received(&q);
  smtp_data_init(&d, SMTP_MODE_DATA, databytes);
  while (!d.done) {
    ssize_t r = buffer_feed(&bin);
    size_t used, o;
    if (r <= 0) {
      if (r < 0 && errno == ETIMEDOUT) {
        out("421 4.4.2 timeout\r\n");
        flush();
        logtrans("421 timeout in DATA", (size_t)d.size, q.pid);
      } else
        logtrans("connection lost in DATA", (size_t)d.size, q.pid);
      die_quiet(1);
    }
    used = smtp_data_feed(&d, buffer_peek(&bin), (size_t)r, dbuf, &o);
    buffer_seek(&bin, used);
    if (o && !d.flags) qq_put(&q, dbuf, o);
  }
  end_message(&q, &d);
}

/* read and process (or with q == 0 only swallow) n octets of a chunk */
static void bdat_read(uint64_t n, struct qq *q, struct smtp_data *d)
{
  while (n) {
    ssize_t r = buffer_feed(&bin);
    size_t k, o;
    if (r <= 0) {
      if (r < 0 && errno == ETIMEDOUT) { out("421 4.4.2 timeout\r\n"); flush(); }
      if (q) logtrans(r < 0 ? "421 timeout in BDAT" : "connection lost in BDAT", (size_t)d->size, q->pid);
      die_quiet(1);
    }
    k = (size_t)r;
    if ((uint64_t)k > n) k = (size_t)n;
    if (q) {
      smtp_data_feed(d, buffer_peek(&bin), k, dbuf, &o);
      if (o && !d->flags) qq_put(q, dbuf, o);
    }
    buffer_seek(&bin, k);
    n -= k;
  }
}

static void do_bdat(const struct smtp_cmd *c)
{
  uint64_t n;
  int last;
  if (!smtp_parse_bdat(c->arg, c->arglen, &n, &last)) {
    out("501 5.5.4 syntax: BDAT octets [LAST]\r\n");
    bad();
    return;
  }
  if (!seenmail || !nrcpt || bdat_failed) {
    bdat_read(n, 0, 0);
    if (!seenmail) out("503 5.5.1 MAIL first\r\n");
    else if (!nrcpt) out("554 5.5.1 no valid recipients\r\n");
    else out("503 5.5.1 previous BDAT failed, send RSET\r\n");
    bad();
    return;
  }
  if (!bdat_active) {
    memset(&bq, 0, sizeof bq);
    if (qq_start(&bq) < 0) {
      bdat_read(n, 0, 0);
      bdat_failed = 1;
      out("451 4.3.0 qqt failure\r\n");
      return;
    }
    bdat_active = 1;
    received(&bq);
    smtp_data_init(&bdata, SMTP_MODE_BDAT, databytes);
  }
  bdat_read(n, &bq, &bdata);
  if (!last) {
    out("250 2.0.0 chunk received\r\n");
    return;
  }
  smtp_data_finish(&bdata);
  end_message(&bq, &bdata);
}

int main(void)
{
  char line[SMTP_CMD_MAX + 1];
  struct pollfd p;

  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the queue for us */
  buffer_init(&bin, (ssize_t (*)())saferead, 0, inbuf, sizeof inbuf);
  buffer_init(&bout, (ssize_t (*)())safewrite, 1, outbuf, sizeof outbuf);
  deadline = time(0) + 60;   /* a 421 from setup() (unreadable controls) must get out */
  setup();
  deadline = time(0) + (time_t)timeoutsession;

  /* a client that talks before the greeting is not speaking SMTP
     (RFC 5321 4.3.1; pipelining before the greeting) */
  p.fd = 0;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, (int)greetdelay * 1000) > 0) {
    out("554 5.5.0 SMTP protocol synchronization error (input before greeting)\r\n");
    flush();
    warn("input before greeting, closing");
    _exit(0);
  }
  out("220 ");
  out(greeting);
  out(" ESMTP\r\n");

  for (;;) {
    size_t n = 0;
    struct smtp_cmd c;
    int r = getcmd(line, &n);
    if (r == 0) die_quiet(0);
    if (r == -1) {
      if (errno == ETIMEDOUT) {
        out("421 4.4.2 timeout, closing connection\r\n");
        flush();
        warn("timeout, closing");
      }
      die_quiet(1);
    }
    if (r == -2) { out("500 5.5.6 line too long\r\n"); bad(); continue; }
    if (r == -3) { out("500 5.5.2 command line ended by a bare LF, use CRLF\r\n"); bad(); continue; }
    if (!smtp_cmd_parse(line, n, &c)) { out("500 5.5.2 bad bytes in command\r\n"); bad(); continue; }
    switch (c.verb) {
    case SMTP_V_HELO: do_helo(&c); break;
    case SMTP_V_EHLO: do_ehlo(&c); break;
    case SMTP_V_MAIL: do_mail(&c); break;
    case SMTP_V_RCPT: do_rcpt(&c); break;
    case SMTP_V_DATA: do_data(&c); break;
    case SMTP_V_BDAT: do_bdat(&c); break;
    case SMTP_V_RSET: reset_transaction(); out("250 2.0.0 flushed\r\n"); break;
    case SMTP_V_NOOP: out("250 2.0.0 ok\r\n"); break;
    case SMTP_V_QUIT:
      reset_transaction();
      out("221 2.0.0 ");
      out(me);
      out(" closing connection\r\n");
      flush();
      _exit(0);
    case SMTP_V_VRFY:
      if (!c.arglen) { out("501 5.5.4 VRFY needs an argument\r\n"); bad(); break; }
      out("252 2.5.2 cannot verify, send some mail and I'll try my best\r\n");
      break;
    case SMTP_V_HELP:
      out("214 2.0.0 ");
      out(greeting);
      out(" (tern-smtpd): see RFC 5321\r\n");
      break;
    case SMTP_V_EXPN: case SMTP_V_STARTTLS: case SMTP_V_AUTH:
    case SMTP_V_ETRN: case SMTP_V_TURN:
      out("502 5.5.1 not implemented\r\n");
      bad();
      break;
    default:
      out("500 5.5.1 unrecognized command\r\n");
      bad();
      break;
    }
  }
}

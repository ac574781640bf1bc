/* inject: tern-inject and sendmail(8). Builds a well-formed message from
   what a local user hands in and injects it through the queue socket.
   Runs as the calling user. See queue/tern-inject.8. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/types.h>
#include <skalibs/posixplz.h>
#include <skalibs/random.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "common/ctl.h"
#include "common/date822.h"
#include "common/envelope.h"
#include "common/home.h"
#include "common/filters.h"
#include "common/qclient.h"
#include "common/qfn.h"
#include "common/qmsg.h"
#include "common/qqcode.h"
#include "queue/hdr.h"
#include "queue/inject.h"

/* sysexits.h */
#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_OSERR 71
#define EX_IOERR 74
#define EX_TEMPFAIL 75
#define EX_NOPERM 77

#define USAGE "sendmail [-t] [-i|-oi] [-f sender] [-F fullname] [--] [recipient ...]"

static char home[4096];
static char defaulthost[CTL_LINE_MAX];
static char idhost[CTL_LINE_MAX];
static char defaultdomain[CTL_LINE_MAX];
static char plusdomain[CTL_LINE_MAX];
static stralloc rcpts = STRALLOC_ZERO;   /* T addr \0 ... */
static size_t nrcpt = 0;
static int rcpt_err = 0;

static void die_nomem(void) { strerr_dief1x(EX_TEMPFAIL, "out of memory"); }

static void homepath(char *dst, size_t max, const char *rel)
{
  size_t h = strlen(home), r = strlen(rel);
  if (h + 1 + r + 1 > max) strerr_dief1x(EX_SOFTWARE, "installation path too long");
  memcpy(dst, home, h); dst[h] = '/'; memcpy(dst + h + 1, rel, r + 1);
}

static int ctl(const char *rel, char *buf)
{
  char fn[4200];
  size_t len;
  int r;
  homepath(fn, sizeof fn, rel);
  r = ctl_readline(fn, buf, CTL_LINE_MAX, &len);
  if (r < 0) strerr_diefu2sys(EX_TEMPFAIL, "read ", fn);
  return r == 1 && len;
}

static void read_controls(void)
{
  char me[CTL_LINE_MAX];
  int hasme = ctl("control/me", me);
  if (!hasme) {
    if (gethostname(me, sizeof me - 1) < 0 || !me[0]) strcpy(me, "localhost");
    me[sizeof me - 1] = 0;
  }
  if (!ctl("control/defaulthost", defaulthost)) strcpy(defaulthost, me);
  if (!ctl("control/idhost", idhost)) strcpy(idhost, me);
  /* unlike qmail (default: me), only when the administrator sets them:
     Debian's Postfix does not append a domain to dot-less names either */
  if (!ctl("control/defaultdomain", defaultdomain)) defaultdomain[0] = 0;
  if (!ctl("control/plusdomain", plusdomain)) plusdomain[0] = 0;
}

/* an address in internal form, qualified, into sa (no NUL); 0 if too long or bad */
static int qualify(stralloc *sa, const char *a, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++) if (!a[i] || a[i] == '\n' || a[i] == '\r') return 0;
  if (!stralloc_catb(sa, a, len)) die_nomem();
  if (!memchr(a, '@', len)) {
    if (!stralloc_catb(sa, "@", 1) || !stralloc_cats(sa, defaulthost)) die_nomem();
    len += 1 + strlen(defaulthost);
  } else {
    /* qmail-header(5): a host name ending in '+' gets plusdomain in place
       of the '+'; a host name without a dot gets "." defaultdomain;
       address literals are left alone */
    const char *at = a + len;
    size_t hl;
    while (at > a && at[-1] != '@') at--;
    hl = (size_t)(a + len - at);
    if (hl && at[0] != '[') {
      if (at[hl - 1] == '+' && plusdomain[0]) {
        sa->len--; len--;
        if (!stralloc_cats(sa, plusdomain)) die_nomem();
        len += strlen(plusdomain);
      } else if (defaultdomain[0] && at[hl - 1] != '+' && !memchr(at, '.', hl)) {
        if (!stralloc_catb(sa, ".", 1) || !stralloc_cats(sa, defaultdomain)) die_nomem();
        len += 1 + strlen(defaultdomain);
      }
    }
  }
  return len <= ENVELOPE_ADDR_MAX;
}

static int add_rcpt(void *ctx, const char *a, size_t len)
{
  size_t start = rcpts.len;
  (void)ctx;
  if (!len) return 0;
  if (!stralloc_catb(&rcpts, "T", 1)) die_nomem();
  if (!qualify(&rcpts, a, len)) { rcpts.len = start; rcpt_err = 1; return 1; }
  {
    /* "x@" and "@host" name nobody: refuse them now, not as a bounce */
    const char *q = rcpts.s + start + 1;
    size_t ql = rcpts.len - start - 1;
    const char *at = q + ql;
    while (at > q && at[-1] != '@') at--;
    if (at == q + 1 || at == q + ql) { rcpts.len = start; rcpt_err = 1; return 1; }
  }
  if (!stralloc_0(&rcpts)) die_nomem();
  if (++nrcpt > ENVELOPE_RCPT_MAX) { rcpt_err = 2; return 1; }
  return 0;
}

/* drop repeated recipients, keeping the first of each (sort by string,
   then by position, so the first of a run of equals is the earliest) */
static int cmp_off(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int c = strcmp(rcpts.s + x, rcpts.s + y);
  return c ? c : (x < y ? -1 : x > y);
}

static void dedupe(void)
{
  size_t *off, n = 0, i, p;
  stralloc out = STRALLOC_ZERO;
  char *keep;
  if (nrcpt < 2) return;
  off = malloc(nrcpt * sizeof *off);
  keep = malloc(rcpts.len);
  if (!off || !keep) die_nomem();
  for (p = 0; p < rcpts.len; p += strlen(rcpts.s + p) + 1) { off[n++] = p; keep[p] = 1; }
  qsort(off, n, sizeof *off, &cmp_off);
  for (i = 1; i < n; i++)
    if (!strcmp(rcpts.s + off[i - 1], rcpts.s + off[i])) keep[off[i]] = 0;
  nrcpt = 0;
  for (p = 0; p < rcpts.len; p += strlen(rcpts.s + p) + 1)
    if (keep[p]) { if (!stralloc_catb(&out, rcpts.s + p, strlen(rcpts.s + p) + 1)) die_nomem(); nrcpt++; }
  stralloc_free(&rcpts);
  rcpts = out;
  free(off); free(keep);
}

static void addrlist(const char *s, size_t len, int exitcode, const char *what)
{
  int r = hdr_addrlist(s, len, &add_rcpt, 0);
  if (rcpt_err == 2) strerr_dief1x(exitcode, "too many recipients");
  if (rcpt_err || r == -2) strerr_dief2x(exitcode, "bad or too long address in ", what);
  if (r == -1) strerr_dief2x(exitcode, "malformed address list in ", what);
}

/* --- the header -------------------------------------------------------- */

struct field { size_t off, len; int drop; };
static stralloc hbuf = STRALLOC_ZERO;     /* the header fields, LF-terminated lines */
static struct field *fields = 0;
static size_t nfields = 0, afields = 0;

static void field_new(size_t off)
{
  if (nfields == afields) {
    size_t na = afields ? 2 * afields : 64;
    struct field *nf = realloc(fields, na * sizeof *nf);
    if (!nf) die_nomem();
    fields = nf; afields = na;
  }
  fields[nfields].off = off; fields[nfields].len = 0; fields[nfields].drop = 0;
  nfields++;
}

static int has_field(const char *name)
{
  for (size_t i = 0; i < nfields; i++)
    if (hdr_is(hbuf.s + fields[i].off, fields[i].len, name)) return 1;
  return 0;
}

static int inject_message(int t, int dotok, const char *sender, const char *fullname);

struct opts {
  int t, dotok;
  const char *sender;    /* 0: default */
  const char *fullname;  /* 0: none */
};

static void quote_name(stralloc *sa, const char *name)
{
  if (!stralloc_catb(sa, "\"", 1)) die_nomem();
  for (; *name; name++) {
    char c = *name;
    if (c == '\n' || c == '\r') c = ' ';
    if ((c == '"' || c == '\\') && !stralloc_catb(sa, "\\", 1)) die_nomem();
    if (!stralloc_catb(sa, &c, 1)) die_nomem();
  }
  if (!stralloc_catb(sa, "\"", 1)) die_nomem();
}

/* --- the queue ---------------------------------------------------------- */

static struct qclient qc;

static void queue_start(void)
{
  if (qclient_open_source(&qc, FILTERS_LOCAL, 0, 0) < 0) {
    if (errno == EMFILE || errno == ENFILE) strerr_diefu1sys(EX_TEMPFAIL, "create pipes");
    strerr_diefu1sys(EX_TEMPFAIL, "fork");
  }
}

/* finish the injection; exit with the sysexits code for the queue's verdict */
static void queue_finish(const char *env, size_t envlen)
{
  int code = qclient_close(&qc, env, envlen), perm;
  const char *text;
  if (code != QQ_CUSTOM && qc.text[0]) strerr_warnw2x("the queue program said: ", qc.text);
  if (!code) exit(0);
  if (qc.status == -1) strerr_diefu1x(EX_TEMPFAIL, "wait for the queue program");
  if (WIFSIGNALED(qc.status)) strerr_dief1x(EX_TEMPFAIL, "queue program crashed (#4.3.0)");
  if (qc.werr && !WEXITSTATUS(qc.status)) strerr_dief1x(EX_TEMPFAIL, "write error to the queue program (#4.3.0)");
  text = qclient_describe(&qc, code, &perm);
  if (code == 111) strerr_dief1x(EX_TEMPFAIL, text);
  strerr_dief2x(perm ? EX_UNAVAILABLE : EX_TEMPFAIL, "queue: ", text);
}

/* --- modes other than sending ----------------------------------------- */

static void run_bin(const char *prog, const char *env, size_t envlen, const char *what)
{
  char fn[4200];
  char const *argv[2] = { fn, 0 };
  homepath(fn, sizeof fn, prog);
  if (access(fn, X_OK) < 0) strerr_dief3x(EX_UNAVAILABLE, what, " not available: no ", fn);
  xmexec_m(argv, env, envlen);
}

/* sendmail -bs: tern-smtpd behind two pipes. tern-smtpd closes on a client
   that talks before the greeting (RFC 5321 4.3.1), but a local program
   may write a whole session into sendmail -bs at once: its input is held
   back until the greeting (its last line, "220 ...") has gone out, then
   both directions are copied as they come. Exits with tern-smtpd's code. */
static int copyall(int fd, const char *b, size_t n)
{
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    b += w; n -= (size_t)w;
  }
  return 0;
}

static void mode_bs(const char *env, size_t envlen)
{
  char fn[4200], buf[8192];
  char const *argv[2] = { fn, 0 };
  int in[2], out[2], greeted = 0, inopen = 1, st;
  size_t col = 0;
  char c3 = 0;
  pid_t pid;
  homepath(fn, sizeof fn, "bin/tern-smtpd");
  if (access(fn, X_OK) < 0) strerr_dief3x(EX_UNAVAILABLE, "-bs", " not available: no ", fn);
  if (pipe(in) < 0 || pipe(out) < 0) strerr_diefu1sys(EX_TEMPFAIL, "pipe");
  pid = fork();
  if (pid < 0) strerr_diefu1sys(EX_TEMPFAIL, "fork");
  if (!pid) {
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) strerr_diefu1sys(EX_TEMPFAIL, "dup2");
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    xmexec_m(argv, env, envlen);
  }
  close(in[0]); close(out[1]);
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    struct pollfd p[2] = { { out[0], POLLIN, 0 }, { 0, POLLIN, 0 } };
    ssize_t r;
    if (poll(p, greeted && inopen ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      strerr_diefu1sys(EX_TEMPFAIL, "poll");
    }
    if (p[0].revents) {
      r = read(out[0], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;   /* tern-smtpd is done */
      for (ssize_t i = 0; i < r && !greeted; i++) {
        if (col == 3) c3 = buf[i];
        col++;
        if (buf[i] == '\n') { if (c3 != '-') greeted = 1; col = 0; }
      }
      if (copyall(1, buf, (size_t)r) < 0) break;
    }
    if (greeted && inopen && p[1].revents) {
      r = read(0, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || copyall(in[1], buf, (size_t)r) < 0) { inopen = 0; close(in[1]); }
    }
  }
  if (inopen) close(in[1]);
  close(out[0]);
  while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "waitpid");
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : EX_TEMPFAIL);
}

/* exec HOME/bin/tern-queuectl with a1 and a2 (0 for none) if installed */
static void queuectl(const char *a1, const char *a2)
{
  char fn[4200];
  char const *argv[4] = { fn, a1, a2, 0 };
  homepath(fn, sizeof fn, "bin/tern-queuectl");
  if (access(fn, X_OK) == 0) xexec(argv);
}

/* -q: "" or "f" retry every message (the caller's own, for an ordinary
   user), "RDOMAIN" the recipients at DOMAIN, "IID" one message, through
   tern-queuectl; without it, or with anything else (an interval), exit 0:
   the queue is always being run */
static void mode_q(const char *arg)
{
  char t[300];
  if (!arg[0] || !strcmp(arg, "f")) queuectl("retry", "all");
  else if ((arg[0] == 'R' || arg[0] == 'I') && arg[1] && strlen(arg) < sizeof t - 1) {
    if (arg[0] == 'R') { t[0] = '@'; strcpy(t + 1, arg + 1); queuectl("retry", t); }
    else queuectl("retry", arg + 1);
  }
  _exit(0);
}

/* does tern-send answer on HOME/sock/send (tern-queuectl's socket)? */
static int send_up(void)
{
  struct sockaddr_un sa;
  int fd, ok;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(home) + sizeof "/sock/send" > sizeof sa.sun_path) return 0;
  homepath(sa.sun_path, sizeof sa.sun_path, "sock/send");
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

static void mode_bp(void)
{
  char dn[4200];
  unsigned long count = 0;
  DIR *d;
  struct dirent *de;
  if (send_up()) queuectl("list", 0);
  /* tern-send does not answer: only root and group tern may read the queue
     files themselves; anybody else is told why, not given tern-qread's
     permission error */
  homepath(dn, sizeof dn, "queue/" QMSG_DIR);
  if (access(dn, R_OK | X_OK) < 0 && errno == EACCES)
    strerr_dief3x(EX_TEMPFAIL, "tern-send does not answer on ", home,
                  "/sock/send (is the send service up?); without it only root and group tern can list the queue");
  homepath(dn, sizeof dn, "bin/tern-qread");
  if (access(dn, X_OK) == 0) { char const *argv[2] = { dn, 0 }; xexec(argv); }
  homepath(dn, sizeof dn, "queue/" QMSG_DIR);
  d = opendir(dn);
  if (!d) {
    if (errno == EACCES) strerr_dief1x(EX_NOPERM, "the queue is not readable by this user");
    if (errno != ENOENT) strerr_diefu2sys(EX_TEMPFAIL, "open ", dn);
  } else {
    while ((de = readdir(d))) if (de->d_name[0] != '.') count++;
    closedir(d);
  }
  if (!count) buffer_putsflush(buffer_1, "Mail queue is empty\n");
  else {
    char num[UINT64_FMT];
    num[qfn_fmtu64(num, count)] = 0;
    buffer_puts(buffer_1, num);
    buffer_putsflush(buffer_1, count == 1 ? " message in the queue\n" : " messages in the queue\n");
  }
  exit(0);
}

/* --- options ------------------------------------------------------------ */

static void usage(const char *why, const char *what)
{
  strerr_warnw3x(why, what, "");
  strerr_dief1x(EX_USAGE, "usage: " USAGE);
}

/* flags that take an argument (attached or the next word) and are ignored */
static int ignored_arg(char c) { return strchr("BNRVXCOhLeJADpd", c) != 0; }
/* flags without argument that are ignored */
static int ignored_flag(char c) { return strchr("vxnmUGHS78", c) != 0; }

int inject_main(int argc, char const *const *argv)
{
  struct opts o = { 0, 0, 0, 0 };
  const char *me = argv[0] ? argv[0] : "sendmail";
  const char *base = strrchr(me, '/');
  char mode = 'm';
  const char *qarg = 0;   /* -q's argument */
  int i;

  base = base ? base + 1 : me;
  PROG = base;
  sig_ignore(SIGPIPE);
  if (!strcmp(base, "newaliases")) mode = 'a';
  if (!strcmp(base, "mailq")) mode = 'p';

  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || !a[1]) break;
    if (!strcmp(a, "--")) { i++; break; }
    for (size_t j = 1; a[j]; j++) {
      char c = a[j];
      const char *arg = 0;
      if (c == 'f' || c == 'r' || c == 'F' || c == 'b' || c == 'o' || c == 'q' || ignored_arg(c)) {
        if (a[j + 1]) arg = a + j + 1;
        else if (c == 'q') arg = "";
        else if (i + 1 < argc) arg = argv[++i];
        else usage("option requires an argument: -", (char[2]){ c, 0 });
      }
      if (c == 't') { o.t = 1; continue; }
      if (c == 'i') { o.dotok = 1; continue; }
      if (c == 'I') { mode = 'a'; continue; }
      if (ignored_flag(c)) continue;
      if (c == 'f' || c == 'r') o.sender = arg;
      else if (c == 'F') o.fullname = arg;
      else if (c == 'q') {
        if (!strcmp(arg, "R") || !strcmp(arg, "I")) {   /* -qR DOMAIN, -qI ID */
          static char qa[300];
          if (i + 1 >= argc || strlen(argv[i + 1]) >= sizeof qa - 1) usage("option requires an argument: -q", arg);
          qa[0] = arg[0];
          strcpy(qa + 1, argv[++i]);
          arg = qa;
        }
        qarg = arg;
      }
      else if (c == 'o') { if (arg[0] == 'i' && !arg[1]) o.dotok = 1; }
      else if (c == 'b') {
        if (!strcmp(arg, "m")) mode = 'm';
        else if (!strcmp(arg, "s")) mode = 's';
        else if (!strcmp(arg, "p")) mode = 'p';
        else if (!strcmp(arg, "i")) mode = 'a';
        else usage("unsupported mode (daemons run under s6): -b", arg);
      }
      else if (!ignored_arg(c)) usage("unknown option: -", (char[2]){ c, 0 });
      break;  /* the argument used up the rest of the word */
    }
  }

  {
    size_t h = strlen(home_get());
    if (h >= sizeof home) strerr_dief1x(EX_SOFTWARE, "installation path too long");
    memcpy(home, home_get(), h + 1);
  }
  if (qarg) mode_q(qarg);
  if (mode == 'p') mode_bp();
  if (mode == 'a') {  /* newaliases, -bi, -I: rebuild the aliases (Debian policy 11.6) */
    char fn[4200];
    homepath(fn, sizeof fn, "bin/tern-newaliases");
    if (access(fn, X_OK) < 0) return 0;
    run_bin("bin/tern-newaliases", "", 0, "newaliases");
  }
  if (mode == 's')
    mode_bs("RELAYCLIENT=\0PROTO=TCP\0TCPREMOTEIP=127.0.0.1\0TCPLOCALIP=127.0.0.1\0TCPREMOTEINFO=sendmail-bs\0",
            sizeof "RELAYCLIENT=\0PROTO=TCP\0TCPREMOTEIP=127.0.0.1\0TCPLOCALIP=127.0.0.1\0TCPREMOTEINFO=sendmail-bs\0" - 1);

  read_controls();
  for (; i < argc; i++) {
    /* a control character (a newline, say) in an argument is a caller's
       bug, never folding white space: refuse instead of guessing */
    for (const char *c = argv[i]; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f) strerr_dief1x(EX_USAGE, "control character in a recipient argument");
    addrlist(argv[i], strlen(argv[i]), EX_USAGE, "the arguments");
  }
  if (!nrcpt && !o.t) strerr_dief1x(EX_USAGE, "no recipients given (and no -t)");
  return inject_message(o.t, o.dotok, o.sender, o.fullname);
}

/* --- the message ------------------------------------------------------- */

/* the input, read in chunks and filtered (hdr_filter) into fbuf */
static char inbuf[65536], fbuf[65536 + 16];
struct msgin {
  buffer in;
  struct hdr_filter f;
  int eof;
  stralloc bodyhead;        /* the line that ended the header when it was not empty */
  const char *body_start;   /* the rest of fbuf after the header ended */
  size_t body_start_len;
};

/* the next chunk of the input, filtered into fbuf; its length (0 is
   possible before the end). Sets m->eof at the end of the input or at the
   lone dot. A read error ends the injection (the queue program, if
   started, gets no envelope and queues nothing): exit 74. */
static size_t fill_filtered(struct msgin *m)
{
  ssize_t r = buffer_fill(&m->in);
  struct iovec v[2];
  size_t k, used;
  if (r < 0) {
    int e = errno;
    qclient_abort(&qc);
    errno = e;
    strerr_diefu1sys(EX_IOERR, "read the message");
  }
  if (r == 0) { m->eof = 1; return hdr_filter_end(&m->f, fbuf); }
  buffer_rpeek(&m->in, v);
  k = hdr_filter_feed(&m->f, v[0].iov_base, v[0].iov_len, fbuf, &used);
  if (!m->f.ended && v[1].iov_len) k += hdr_filter_feed(&m->f, v[1].iov_base, v[1].iov_len, fbuf + k, &used);
  buffer_rseek(&m->in, v[0].iov_len + v[1].iov_len);
  if (m->f.ended) { m->eof = 1; k += hdr_filter_end(&m->f, fbuf + k); }
  return k;
}

/* the envelope sender ("F" addr NUL into env) and the From address (from):
   the sender, or user@defaulthost for the null sender or none given */
static void make_sender(stralloc *env, stralloc *from, const char *sender)
{
  struct passwd *pw = getpwuid(getuid());
  char user[256];
  int nullsender = 0;
  if (pw && pw->pw_name && strlen(pw->pw_name) < sizeof user) strcpy(user, pw->pw_name);
  else { size_t l = 3; memcpy(user, "uid", 3); user[l + qfn_fmtu64(user + l, (uint64_t)getuid())] = 0; }
  if (!stralloc_catb(env, "F", 1)) die_nomem();
  if (sender) {
    size_t l = strlen(sender);
    if (l >= 2 && sender[0] == '<' && sender[l - 1] == '>') { sender++; l -= 2; }
    if (!l) nullsender = 1;
    else if (!qualify(env, sender, l)) strerr_dief1x(EX_USAGE, "bad or too long sender address");
  } else {
    if (!qualify(env, user, strlen(user))) strerr_dief1x(EX_SOFTWARE, "user name too long");
  }
  if (!stralloc_0(env)) die_nomem();
  if (!nullsender) { if (!stralloc_catb(from, env->s + 1, env->len - 2)) die_nomem(); }
  else if (!qualify(from, user, strlen(user))) strerr_dief1x(EX_SOFTWARE, "user name too long");
}

/* the header: read, filtered, into hbuf and fields[], up to the first
   empty or non-header line; what follows is left in m for the body */
static void read_header(struct msgin *m)
{
  stralloc line = STRALLOC_ZERO;
  int inheader = 1, first = 1;
  while (inheader) {
    size_t k = fill_filtered(m);
    for (size_t p = 0; p < k && inheader; ) {
      const char *nl = memchr(fbuf + p, '\n', k - p);
      size_t n = nl ? (size_t)(nl - (fbuf + p)) + 1 : k - p;
      size_t namelen;
      if (line.len + n > HDR_LINE_MAX) strerr_dief1x(EX_DATAERR, "header line longer than 65536 bytes");
      if (!stralloc_catb(&line, fbuf + p, n)) die_nomem();
      p += n;
      if (!nl) continue;  /* more of this line in the next chunk */
      if (first && line.len >= 5 && !memcmp(line.s, "From ", 5)) { line.len = 0; first = 0; continue; }
      first = 0;
      if (line.len == 1) inheader = 0;  /* the empty line */
      else if ((line.s[0] == ' ' || line.s[0] == '\t') && nfields) {
        fields[nfields - 1].len += line.len;
        if (!stralloc_catb(&hbuf, line.s, line.len)) die_nomem();
      } else if (hdr_field(line.s, line.len, &namelen)) {
        field_new(hbuf.len);
        fields[nfields - 1].len = line.len;
        if (!stralloc_catb(&hbuf, line.s, line.len)) die_nomem();
      } else {
        /* not a header line: the first line of the body */
        inheader = 0;
        if (!stralloc_catb(&m->bodyhead, line.s, line.len)) die_nomem();
      }
      if (hbuf.len > HDR_TOTAL_MAX) strerr_dief1x(EX_DATAERR, "header longer than 1 MiB");
      line.len = 0;
      if (!inheader) { m->body_start = fbuf + p; m->body_start_len = k - p; }
    }
    if (m->eof && inheader) {
      /* the input ended inside the header (the filter ends it with LF) */
      if (line.len && !stralloc_catb(&m->bodyhead, line.s, line.len)) die_nomem();
      inheader = 0;
    }
  }
  stralloc_free(&line);
}

/* recipients from the header (-t); fields that never leave are marked */
static void header_rcpts(int t)
{
  int resent = has_field("Resent-To") || has_field("Resent-Cc") || has_field("Resent-Bcc");
  for (size_t j = 0; j < nfields; j++) {
    const char *s = hbuf.s + fields[j].off;
    size_t l = fields[j].len;
    if (t) {
      const char *names[3] = { "To", "Cc", "Bcc" };
      const char *rnames[3] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
      for (int k = 0; k < 3; k++) {
        const char *nm = resent ? rnames[k] : names[k];
        if (hdr_is(s, l, nm)) addrlist(s + strlen(nm) + 1, l - strlen(nm) - 1, EX_DATAERR, nm);
      }
    }
    if (hdr_is(s, l, "Bcc") || hdr_is(s, l, "Resent-Bcc") || hdr_is(s, l, "Return-Path")
        || hdr_is(s, l, "Content-Length"))
      fields[j].drop = 1;
  }
}

/* --- qualification of the address fields (qmail-header(5)) ------------- */

/* the fields whose addresses tern-inject qualifies, as qmail-inject does */
static const char *const addrfields[] = {
  "Sender", "From", "Reply-To", "Mail-Reply-To", "Mail-Followup-To", "Errors-To",
  "Return-Receipt-To", "To", "Cc", "Bcc", "Apparently-To",
  "Resent-Sender", "Resent-From", "Resent-Reply-To", "Resent-To", "Resent-Cc", "Resent-Bcc", 0
};

struct qual { const char *s; size_t done; stralloc *out; stralloc tmp; };

/* one mailbox: what qualify() adds goes in right after the addr-spec as
   written (a trailing '+' of the host is replaced); anything else is left
   as it is */
static int qual_one(void *ctx, const char *a, size_t alen, size_t end)
{
  struct qual *q = ctx;
  size_t keep = end;
  q->tmp.len = 0;
  if (!qualify(&q->tmp, a, alen) || (q->tmp.len == alen && !memcmp(q->tmp.s, a, alen))) return 0;
  if (q->tmp.len > alen && !memcmp(q->tmp.s, a, alen)) ;   /* only appended to */
  else if (alen && a[alen - 1] == '+' && end && q->s[end - 1] == '+' && !memcmp(q->tmp.s, a, alen - 1)) { keep = end - 1; alen--; }
  else return 0;
  if (!stralloc_catb(q->out, q->s + q->done, keep - q->done)
      || !stralloc_catb(q->out, q->tmp.s + alen, q->tmp.len - alen)) die_nomem();
  q->done = end;
  return 0;
}

/* every address field of the header with its unqualified addresses
   qualified; a malformed field is kept as it is */
static void qualify_fields(void)
{
  stralloc nb = STRALLOC_ZERO;
  struct qual q = { 0, 0, &nb, STRALLOC_ZERO };
  for (size_t j = 0; j < nfields; j++) {
    const char *s = hbuf.s + fields[j].off;
    size_t l = fields[j].len, start = nb.len, k, nl = 0;
    for (k = 0; addrfields[k]; k++) if (hdr_is(s, l, addrfields[k])) break;
    if (addrfields[k]) {
      nl = strlen(addrfields[k]) + 1;
      q.s = s + nl; q.done = 0;
      if (!stralloc_catb(&nb, s, nl)) die_nomem();
      if (hdr_addrlist_pos(s + nl, l - nl, &qual_one, &q) < 0) { nb.len = start; nl = 0; }
      else if (!stralloc_catb(&nb, q.s + q.done, l - nl - q.done)) die_nomem();
    }
    if (!nl && !stralloc_catb(&nb, s, l)) die_nomem();
    fields[j].off = start;
    fields[j].len = nb.len - start;
  }
  stralloc_free(&hbuf);
  stralloc_free(&q.tmp);
  hbuf = nb;
}

/* "Message-ID: <TIME.PID.RANDOM@idhost>\n" onto add */
static void add_msgid(stralloc *add, time_t now)
{
  char num[UINT64_FMT];
  unsigned char rnd[8];
  static const char hex[] = "0123456789abcdef";
  random_buf((char *)rnd, sizeof rnd);
  if (!stralloc_cats(add, "Message-ID: <")) die_nomem();
  if (!stralloc_catb(add, num, qfn_fmtu64(num, (uint64_t)now)) || !stralloc_catb(add, ".", 1)) die_nomem();
  if (!stralloc_catb(add, num, qfn_fmtu64(num, (uint64_t)getpid())) || !stralloc_catb(add, ".", 1)) die_nomem();
  for (size_t j = 0; j < sizeof rnd; j++) {
    char h[2] = { hex[rnd[j] >> 4], hex[rnd[j] & 15] };
    if (!stralloc_catb(add, h, 2)) die_nomem();
  }
  if (!stralloc_catb(add, "@", 1) || !stralloc_cats(add, idhost) || !stralloc_cats(add, ">\n")) die_nomem();
}

#define LINE_MAX_OCTETS 998

/* the fields added when missing: Date, Message-ID, From */
static void added_fields(stralloc *add, const stralloc *from, const char *fullname)
{
  char date[DATE822_MAX];
  time_t now = time(0);
  if (!has_field("Date")) {
    date822_fmt(date, now);
    if (!stralloc_cats(add, "Date: ") || !stralloc_cats(add, date) || !stralloc_catb(add, "\n", 1)) die_nomem();
  }
  if (!has_field("Message-ID")) add_msgid(add, now);
  if (!has_field("From")) {
    size_t start = add->len;
    if (!stralloc_cats(add, "From: ")) die_nomem();
    if (fullname && *fullname) {
      quote_name(add, fullname);
      if (!stralloc_cats(add, " <") || !stralloc_cat(add, from) || !stralloc_cats(add, ">")) die_nomem();
      /* a line may hold 998 octets (RFC 5322 2.1.1): a longer name is
         left out, with a warning, rather than the message refused later */
      if (add->len - start > LINE_MAX_OCTETS) {
        strerr_warnw1x("the full name (-F or NAME) would make the From: line longer than 998 octets; left out");
        add->len = start;
        if (!stralloc_cats(add, "From: ")) die_nomem();
      }
    }
    if (add->len - start == 6 && !stralloc_cat(add, from)) die_nomem();
    if (!stralloc_catb(add, "\n", 1)) die_nomem();
  }
}

/* inject: header, added fields, empty line, the body streamed, then the
   envelope; exits with the queue's verdict */
static void send_message(struct msgin *m, const stralloc *add, const char *env, size_t envlen)
{
  int werr = 0;
  queue_start();
  for (size_t j = 0; j < nfields && !werr; j++)
    if (!fields[j].drop && qclient_write(&qc, hbuf.s + fields[j].off, fields[j].len) < 0) werr = 1;
  if (!werr && qclient_write(&qc, add->s, add->len) < 0) werr = 1;
  if (!werr && qclient_write(&qc, "\n", 1) < 0) werr = 1;
  if (!werr && m->bodyhead.len && qclient_write(&qc, m->bodyhead.s, m->bodyhead.len) < 0) werr = 1;
  if (!werr && m->body_start_len && qclient_write(&qc, m->body_start, m->body_start_len) < 0) werr = 1;
  while (!m->eof && !werr) {
    size_t k = fill_filtered(m);
    if (k && qclient_write(&qc, fbuf, k) < 0) werr = 1;
  }
  queue_finish(env, envlen);
}

static int inject_message(int t, int dotok, const char *sender, const char *fullname)
{
  static struct msgin m = { BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf), HDR_FILTER_ZERO, 0, STRALLOC_ZERO, fbuf, 0 };
  stralloc env = STRALLOC_ZERO, from = STRALLOC_ZERO, add = STRALLOC_ZERO;

  m.f.dotend = !dotok;
  if (!fullname) { const char *n = getenv("NAME"); if (n && *n) fullname = n; }
  make_sender(&env, &from, sender);
  read_header(&m);
  header_rcpts(t);
  qualify_fields();
  if (!nrcpt) strerr_dief1x(EX_USAGE, "no recipients (none given and none found in To, Cc, Bcc)");
  dedupe();
  added_fields(&add, &from, fullname);
  if (!stralloc_cat(&env, &rcpts) || !stralloc_0(&env)) die_nomem();
  send_message(&m, &add, env.s, env.len);
  return EX_SOFTWARE;
}

/* tern-lspawn: the local delivery spawner. Runs as root (started by
   tern-start), reads tern-send's requests on fd 0, looks each recipient up
   (users/cdb, else the password database, else ternalias), runs
   HOME/bin/tern-local as that user with the message on fd 0, and writes one
   reply per request on fd 1. Log on fd 2. See tern-lspawn.8. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/cdb.h>

#include "common/home.h"
#include "common/ctl.h"
#include "common/qfn.h"
#include "common/addr.h"

#define CONCURRENCY 120            /* the start-up byte (reference 2.4: conf-spawn) */
#define FIELD_MAX 1001             /* an address or N with its NUL */
#define REQ_MAX (1 + 2 * FIELD_MAX + 101 * FIELD_MAX + 1)
#define TEXT_MAX 4000              /* reply text cap, bytes */
#define NAME_MAX_PW 32             /* passwd names we try (qmail-getpw: < 32) */

struct slot {
  int busy;
  pid_t pid;         /* 0 once reaped */
  int fd;            /* output pipe, -1 at EOF */
  int status;        /* wait status once reaped */
  size_t len;        /* bytes of text kept */
  int truncated;
  char text[TEXT_MAX + 1];
};

static struct slot slots[CONCURRENCY];
static uid_t ternq_uid;
static char defaultdelivery[CTL_LINE_MAX];
static char localprog[4200];
static char aliashome[1024];

/* ---- replies ---- */

static void reply(unsigned char slot, char letter, const char *text, size_t len)
{
  char head[2];
  head[0] = (char)slot;
  head[1] = letter;
  if (len > TEXT_MAX) len = TEXT_MAX;
  /* text never holds NUL: the caller replaced them */
  if (allwrite(1, head, 2) < 2 || allwrite(1, text, len) < len || allwrite(1, "", 1) < 1)
    strerr_diefu1sys(111, "write to tern-send");
}

static void replys(unsigned char slot, char letter, const char *text)
{
  reply(slot, letter, text, strlen(text));
}

/* ---- the user lookup (reference/qmail.md 6.1, 6.2) ---- */

struct who {
  char user[256];
  uid_t uid;
  gid_t gid;
  char home[1024];
  char dash[8];
  char ext[1100];
};

static int scan_id(const char *s, size_t len, unsigned int *v)
{
  uint64_t u;
  if (!qfn_scanu64(s, len, &u) || u > 0x7fffffffu) return 0;
  *v = (unsigned int)u;
  return 1;
}

/* value user\0uid\0gid\0homedir\0dash\0ext[\0], then rest appended to ext.
   1 ok, 0 malformed */
static int cdb_value(const char *v, size_t vlen, const char *rest, struct who *w)
{
  const char *f[6];
  size_t fl[6];
  size_t pos = 0;
  unsigned int id;
  for (int i = 0; i < 6; i++) {
    size_t start = pos;
    while (pos < vlen && v[pos]) pos++;
    if (pos == vlen && i < 5) return 0;
    f[i] = v + start;
    fl[i] = pos - start;
    pos++;
  }
  if (!fl[0] || fl[0] >= sizeof w->user || !fl[3] || fl[3] >= sizeof w->home || fl[4] >= sizeof w->dash) return 0;
  if (fl[5] + strlen(rest) >= sizeof w->ext) return 0;
  memcpy(w->user, f[0], fl[0]); w->user[fl[0]] = 0;
  if (!scan_id(f[1], fl[1], &id)) return 0;
  w->uid = id;
  if (!scan_id(f[2], fl[2], &id)) return 0;
  w->gid = id;
  memcpy(w->home, f[3], fl[3]); w->home[fl[3]] = 0;
  memcpy(w->dash, f[4], fl[4]); w->dash[fl[4]] = 0;
  memcpy(w->ext, f[5], fl[5]); w->ext[fl[5]] = 0;
  strcat(w->ext, rest);
  return 1;
}

/* 1 found, 0 not found, -1 temporary error (errno) , -2 cdb missing */
static int lookup_cdb(const char *local, size_t llen, struct who *w)
{
  cdb c = CDB_ZERO;
  cdb_data d;
  char key[ADDR_LOCAL_MAX + 3];
  char wild[256];
  size_t nwild = 0;
  int r;
  if (llen > ADDR_LOCAL_MAX) return 0;
  if (!cdb_init(&c, "users/cdb")) return errno == ENOENT ? -2 : -1;
  key[0] = '!';
  for (size_t i = 0; i < llen; i++) {
    char ch = local[i];
    key[i + 1] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
  }
  key[llen + 1] = 0;
  r = cdb_find(&c, &d, key, (uint32_t)(llen + 2));
  if (r < 0) { cdb_free(&c); errno = EIO; return -1; }
  if (r > 0) {
    r = cdb_value(d.s, d.len, "", w) ? 1 : -1;
    if (r < 0) errno = EINVAL;
    cdb_free(&c);
    return r;
  }
  r = cdb_find(&c, &d, "", 0);
  if (r < 0) { cdb_free(&c); errno = EIO; return -1; }
  if (r > 0) {
    nwild = d.len < sizeof wild ? d.len : sizeof wild;
    memcpy(wild, d.s, nwild);
  }
  /* the longest wildcard prefix first; only prefixes whose last character
     ends some wildcard (or the empty prefix) can match */
  for (size_t i = llen + 1; i >= 1; i--) {
    if (i > 1 && !memchr(wild, key[i - 1], nwild)) continue;
    r = cdb_find(&c, &d, key, (uint32_t)i);
    if (r < 0) { cdb_free(&c); errno = EIO; return -1; }
    if (r > 0) {
      r = cdb_value(d.s, d.len, local + (i - 1), w) ? 1 : -1;
      if (r < 0) errno = EINVAL;
      cdb_free(&c);
      return r;
    }
  }
  cdb_free(&c);
  return 0;
}

static int pw_fill(struct passwd *pw, struct who *w, const char *dash, const char *ext, size_t extlen)
{
  if (strlen(pw->pw_name) >= sizeof w->user || strlen(pw->pw_dir) >= sizeof w->home || extlen >= sizeof w->ext) return 0;
  strcpy(w->user, pw->pw_name);
  w->uid = pw->pw_uid;
  w->gid = pw->pw_gid;
  strcpy(w->home, pw->pw_dir);
  strcpy(w->dash, dash);
  memcpy(w->ext, ext, extlen);
  w->ext[extlen] = 0;
  return 1;
}

/* password database (qmail-getpw): 1 found, 0 not found */
static int lookup_pw(const char *local, size_t llen, struct who *w)
{
  char name[NAME_MAX_PW];
  for (size_t i = llen; ; i--) {
    if (i == llen || local[i] == '-') {
      if (i && i < sizeof name) {
        struct passwd *pw;
        struct stat st;
        int ok = 1;
        for (size_t j = 0; j < i; j++) {
          char ch = local[j];
          if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
          if (ch == '/' || ch == 0) ok = 0;
          name[j] = ch;
        }
        name[i] = 0;
        pw = ok ? getpwnam(name) : 0;
        if (pw && pw->pw_uid && pw->pw_dir && pw->pw_dir[0] == '/'
            && !stat(pw->pw_dir, &st) && st.st_uid == pw->pw_uid) {
          if (i == llen) return pw_fill(pw, w, "", "", 0);
          return pw_fill(pw, w, "-", local + i + 1, llen - i - 1);
        }
      }
    }
    if (!i) break;
  }
  return 0;
}

/* ---- requests ---- */

static void start(unsigned char slot, const char *n, const char *sender, const char *rcpt)
{
  struct who w;
  size_t rlen = strlen(rcpt), llen, nlen = strlen(n);
  const char *at = strrchr(rcpt, '@');
  char local[ADDR_LOCAL_MAX + 1];
  char fn[QFN_MAX];
  uint64_t id;
  struct stat st;
  int fd, r, pi[2];
  pid_t pid;

  if (!nlen || nlen > 20 || !qfn_scanu64(n, nlen, &id)) {
    replys(slot, 'D', "Unable to parse message number. (#5.3.5)");
    return;
  }
  if (!at) {
    replys(slot, 'D', "Sorry, address must include host name. (#5.1.3)");
    return;
  }
  llen = (size_t)(at - rcpt);
  if (!llen) { replys(slot, 'K', "Trashed: empty local part.\n"); return; }
  if (llen > ADDR_LOCAL_MAX || rlen > ADDR_MAX) {
    replys(slot, 'D', "Sorry, address too long. (#5.1.3)");
    return;
  }
  memcpy(local, rcpt, llen);
  local[llen] = 0;
  if (memchr(local, '\n', llen)) {
    replys(slot, 'D', "Sorry, address contains a newline. (#5.1.3)");
    return;
  }

  r = lookup_cdb(local, llen, &w);
  if (r == -1) { replys(slot, 'Z', "Unable to read users/cdb. (#4.3.0)"); return; }
  /* not in users/cdb (or no users/cdb): the password database, as
     qmail-lspawn falls through to qmail-getpw */
  if (r == -2 || !r) r = lookup_pw(local, llen, &w);
  if (!r) {
    struct passwd *pw = getpwnam("ternalias");
    char lower[ADDR_LOCAL_MAX + 1];
    for (size_t j = 0; j < llen; j++) lower[j] = (local[j] >= 'A' && local[j] <= 'Z') ? (char)(local[j] + 32) : local[j];
    if (!pw || !pw_fill(pw, &w, "-", lower, llen)) {
      replys(slot, 'Z', "Unable to find the ternalias user. (#4.3.0)");
      return;
    }
    /* the alias user's home is HOME/alias whatever the password database says */
    strcpy(w.home, aliashome);
  }
  if (!w.uid) { replys(slot, 'Z', "Not allowed to perform deliveries as root. (#4.3.0)"); return; }

  qfn_split(fn, "queue/mess", id);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    replys(slot, 'Z', errno == ENOENT ? "Unable to open message file: no such file. (#4.3.0)" : "Unable to open message file. (#4.3.0)");
    return;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ternq_uid) {
    close(fd);
    replys(slot, 'Z', "Message file has wrong type or owner. (#4.3.0)");
    return;
  }
  if (pipecoe(pi) < 0) {
    close(fd);
    replys(slot, 'Z', "Unable to create a pipe. (#4.3.0)");
    return;
  }
  pid = fork();
  if (pid < 0) {
    close(fd); close(pi[0]); close(pi[1]);
    replys(slot, 'Z', "Unable to fork. (#4.3.0)");
    return;
  }
  if (!pid) {
    char const *argv[11];
    gid_t g = w.gid;
    sig_restore(SIGPIPE);
    sig_restore(SIGCHLD);
    if (dup2(fd, 0) < 0 || dup2(pi[1], 1) < 0 || dup2(pi[1], 2) < 0) _exit(111);
    if (fcntl(0, F_SETFL, 0) < 0) _exit(111);
    if (setgroups(1, &g) < 0 || setgid(w.gid) < 0 || setuid(w.uid) < 0) {
      fd_write(2, "Unable to switch to the recipient's user id. (#4.3.0)\n", 54);
      _exit(111);
    }
    if (!getuid() || !geteuid()) _exit(111);
    argv[0] = "tern-local";
    argv[1] = "--";
    argv[2] = w.user;
    argv[3] = w.home;
    argv[4] = local;
    argv[5] = w.dash;
    argv[6] = w.ext;
    argv[7] = at + 1;
    argv[8] = sender;
    argv[9] = defaultdelivery;
    argv[10] = 0;
    execv(localprog, (char *const *)argv);
    fd_write(2, "Unable to run tern-local. (#4.3.0)\n", 35);
    _exit(111);
  }
  close(fd);
  close(pi[1]);
  ndelay_on(pi[0]);
  slots[slot].busy = 1;
  slots[slot].pid = pid;
  slots[slot].fd = pi[0];
  slots[slot].len = 0;
  slots[slot].truncated = 0;
  slots[slot].status = 0;
}

/* one complete request in r[0..len): slot, N, sender, rcpt..., "" */
static void request(const char *r, size_t len)
{
  unsigned char slot = (unsigned char)r[0];
  const char *f[4];
  size_t nf = 0, pos = 1;
  while (pos < len) {
    const char *s = r + pos;
    size_t l = strlen(s);
    pos += l + 1;
    if (nf >= 2 && !l) break;
    if (nf < 4) f[nf] = s;
    nf++;
  }
  if (slot >= CONCURRENCY) {
    strerr_warnw1x("request for a slot out of range");
    replys(slot, 'Z', "Internal error: slot out of range. (#4.3.5)");
    return;
  }
  if (slots[slot].busy) {
    strerr_warnw1x("request for a busy slot");
    replys(slot, 'Z', "Internal error: slot busy. (#4.3.5)");
    return;
  }
  if (nf != 3) {
    replys(slot, 'D', "Internal error: a local request needs exactly one recipient. (#5.3.5)");
    return;
  }
  start(slot, f[0], f[1], f[2]);
}

static void finish(unsigned char i)
{
  struct slot *s = slots + i;
  int st = s->status;
  char letter;
  for (size_t j = 0; j < s->len; j++) if (!s->text[j]) s->text[j] = '_';
  if (WIFSIGNALED(st)) {
    letter = 'Z';
    s->len = 0;
    s->truncated = 0;
    memcpy(s->text, "tern-local crashed.\n", 20);
    s->len = 20;
  } else {
    int e = WEXITSTATUS(st);
    if (!e) letter = 'K';
    else if (e == 111 || e == 71 || e == 74 || e == 75 || (e >= 112 && e <= 121)) letter = 'Z';
    else letter = 'D';
    if (!s->len) {
      const char *t = letter == 'K' ? "" : letter == 'Z' ? "tern-local failed temporarily without saying why. (#4.3.0)\n"
                                                        : "tern-local failed permanently without saying why. (#5.3.0)\n";
      s->len = strlen(t);
      memcpy(s->text, t, s->len);
    }
  }
  if (s->truncated) {
    static const char note[] = "\n[output truncated]\n";
    if (s->len > TEXT_MAX - (sizeof note - 1)) s->len = TEXT_MAX - (sizeof note - 1);
    memcpy(s->text + s->len, note, sizeof note - 1);
    s->len += sizeof note - 1;
  }
  reply(i, letter, s->text, s->len);
  s->busy = 0;
}

static void reap(void)
{
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    for (unsigned i = 0; i < CONCURRENCY; i++)
      if (slots[i].busy && slots[i].pid == pid) {
        slots[i].pid = 0;
        slots[i].status = st;
        if (slots[i].fd < 0) finish((unsigned char)i);
        break;
      }
}

static void drain(unsigned char i)
{
  struct slot *s = slots + i;
  char buf[4096];
  for (;;) {
    ssize_t r = read(s->fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      r = 0;
    }
    if (!r) {
      close(s->fd);
      s->fd = -1;
      if (!s->pid) finish(i);
      return;
    }
    if (s->len < TEXT_MAX) {
      size_t n = (size_t)r;
      if (n > TEXT_MAX - s->len) { n = TEXT_MAX - s->len; s->truncated = 1; }
      memcpy(s->text + s->len, buf, n);
      s->len += n;
    } else s->truncated = 1;
  }
}

int main(void)
{
  static char req[REQ_MAX];
  size_t reqlen = 0;
  int sfd, eof = 0;
  struct passwd *pw;
  size_t ddlen;
  unsigned char c = CONCURRENCY;
  PROG = "tern-lspawn";

  if (chdir(home_get()) < 0) strerr_diefu2sys(111, "chdir to ", home_get());
  if (strlen(home_get()) > sizeof localprog - 20) strerr_dief1x(111, "home directory name too long");
  strcpy(localprog, home_get());
  strcat(localprog, "/bin/tern-local");
  if (strlen(home_get()) + 7 > sizeof aliashome) strerr_dief1x(111, "home directory name too long");
  strcpy(aliashome, home_get());
  strcat(aliashome, "/alias");
  pw = getpwnam("ternq");
  if (!pw) strerr_dief1x(111, "unknown user ternq");
  ternq_uid = pw->pw_uid;
  switch (ctl_readline("control/defaultdelivery", defaultdelivery, sizeof defaultdelivery, &ddlen)) {
    case 1: if (ddlen) break; /* fall through */
    case 0: strcpy(defaultdelivery, "./Maildir/"); break;
    default: strerr_diefu1sys(111, "read control/defaultdelivery");
  }
  sig_ignore(SIGPIPE);
  sfd = selfpipe_init();
  if (sfd < 0 || !selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "set up the self-pipe");
  for (unsigned i = 0; i < CONCURRENCY; i++) slots[i].fd = -1;

  if (allwrite(1, (char *)&c, 1) < 1) strerr_diefu1sys(111, "write to tern-send");

  for (;;) {
    struct pollfd p[CONCURRENCY + 2];
    unsigned char which[CONCURRENCY + 2];
    unsigned n = 0, busy = 0;
    for (unsigned i = 0; i < CONCURRENCY; i++) if (slots[i].busy) busy++;
    if (eof && !busy) return 0;
    p[n].fd = sfd; p[n].events = POLLIN; n++;
    if (!eof) { p[n].fd = 0; p[n].events = POLLIN; n++; }
    for (unsigned i = 0; i < CONCURRENCY; i++)
      if (slots[i].busy && slots[i].fd >= 0) {
        p[n].fd = slots[i].fd; p[n].events = POLLIN; which[n] = (unsigned char)i; n++;
      }
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      strerr_diefu1sys(111, "poll");
    }
    for (unsigned k = eof ? 1 : 2; k < n; k++)
      if (p[k].revents) drain(which[k]);
    if (p[0].revents) {
      int sig;
      while ((sig = selfpipe_read()) > 0) if (sig == SIGCHLD) reap();
      reap();
    }
    if (!eof && p[1].revents) {
      ssize_t r = read(0, req + reqlen, sizeof req - reqlen);
      if (r < 0 && errno != EINTR && errno != EAGAIN) strerr_diefu1sys(111, "read requests");
      if (!r) {
        eof = 1;
        if (reqlen) strerr_warnw1x("truncated request at end of input");
      }
      if (r > 0) {
        size_t pos = 0;
        reqlen += (size_t)r;
        /* split complete requests: slot, then NUL-terminated fields up to an
           empty one after at least N and sender */
        for (;;) {
          size_t q = pos + 1, nf = 0;
          int done = 0;
          if (q > reqlen) break;
          while (q < reqlen) {
            const char *z = memchr(req + q, 0, reqlen - q);
            size_t l;
            if (!z) break;
            l = (size_t)(z - (req + q));
            if (l >= FIELD_MAX) strerr_dief1x(111, "protocol error: field too long");
            q += l + 1;
            nf++;
            if (nf > 103) strerr_dief1x(111, "protocol error: too many fields");
            if (nf >= 3 && !l) { done = 1; break; }
          }
          if (!done) {
            if (reqlen - pos >= REQ_MAX - 1) strerr_dief1x(111, "protocol error: request too long");
            break;
          }
          request(req + pos, q - pos);
          pos = q;
        }
        memmove(req, req + pos, reqlen - pos);
        reqlen -= pos;
      }
    }
  }
}

/* tern-lspawn: the local delivery spawner. Runs as root (started by
   tern-start), reads tern-send's requests on fd 0, looks each recipient up
   (users/cdb, else the password database, else ternalias), forks a child
   that drops to that user and delivers with the message on fd 0 (tern-local's
   delivery, local/deliver.c, called without an exec), and writes one
   reply per request on fd 1. Log on fd 2. See tern-lspawn.8. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/cdb.h>

#include "common/home.h"
#include "common/ctl.h"
#include "common/qfn.h"
#include "common/qmsg.h"
#include "common/addr.h"
#include "common/priv.h"
#include "send/spawn.h"
#include "local/deliver.h"

#define TEXT_MAX 4000              /* reply text cap, bytes */
#define NAME_MAX_PW 32             /* passwd names we try (qmail-getpw: < 32) */

static uid_t ternq_uid;
static char defaultdelivery[CTL_LINE_MAX];
static char aliashome[1024];
static char localprog[4200];   /* HOME/bin/tern-local, run when localexec */
static int localexec;          /* TERN_LOCAL_EXEC set: exec tern-local per delivery */

/* ---- replies ---- */

/* slot, letter, text (cut to TEXT_MAX bytes, never holding NUL: the caller
   replaced them), NUL */
static void reply(unsigned char slot, char letter, const char *text, size_t len)
{
  char b[TEXT_MAX + 2];
  if (len > TEXT_MAX) len = TEXT_MAX;
  b[0] = letter;
  memcpy(b + 1, text, len);
  b[len + 1] = 0;
  spawn_reply(slot, b, len + 2);
}

static void replys(unsigned char slot, char letter, const char *text)
{
  reply(slot, letter, text, strlen(text));
}

/* ---- the user lookup (qmail-users(5), qmail-getpw(8)) ---- */

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

/* deliver as user w in a forked child with fd 0 = the message fd (closed
   here): the child forgets the other deliveries and every other
   descriptor, drops to w's uid, gid and group (priv_drop: checked, never
   root), then runs tern-local's delivery as a function, without an exec
   (with TERN_LOCAL_EXEC in the environment: execs HOME/bin/tern-local, so
   that a wrapper or strace sees one delivery as a program of its own).
   The child's pid, or 0 when a reply was written */
static pid_t deliver(unsigned char slot, const struct who *w, const char *local, const char *domain,
                     const char *sender, int fd, int *outfd)
{
  pid_t pid = spawn_fork(fd, outfd);
  if (pid == -1) { close(fd); replys(slot, 'Z', "Unable to create a pipe. (#4.3.0)"); return 0; }
  if (pid == -2) { close(fd); replys(slot, 'Z', "Unable to fork. (#4.3.0)"); return 0; }
  if (!pid) {
    char const *argv[11];
    gid_t g = w->gid;
    /* domain and sender point into the request buffer spawn_nexec zeroes */
    static char dom[SPAWNREQ_ADDR_MAX + 1], snd[SPAWNREQ_ADDR_MAX + 1];
    strncpy(dom, domain, SPAWNREQ_ADDR_MAX);
    strncpy(snd, sender, SPAWNREQ_ADDR_MAX);
    domain = dom;
    sender = snd;
    spawn_nexec();
    priv_drop("tern-lspawn", w->uid, w->gid, 1, &g);
    PROG = "tern-local";
    argv[0] = "tern-local";
    argv[1] = "--";
    argv[2] = w->user;
    argv[3] = w->home;
    argv[4] = local;
    argv[5] = w->dash;
    argv[6] = w->ext;
    argv[7] = domain;
    argv[8] = sender;
    argv[9] = defaultdelivery;
    argv[10] = 0;
    if (localexec) {
      execv(localprog, (char *const *)argv);
      fd_write(2, "Unable to run tern-local. (#4.3.0)\n", 35);
      _exit(111);
    }
    _exit(local_deliver(10, (char *const *)argv));
  }
  close(fd);
  return pid;
}

/* the recipient's user: 1 found (in *w), 0 a reply was written */
static int lookup(unsigned char slot, const char *local, size_t llen, struct who *w)
{
  int r = lookup_cdb(local, llen, w);
  if (r == -1) { replys(slot, 'Z', "Unable to read users/cdb. (#4.3.0)"); return 0; }
  /* not in users/cdb (or no users/cdb): the password database, as
     qmail-lspawn falls through to qmail-getpw */
  if (r == -2 || !r) r = lookup_pw(local, llen, w);
  if (!r) {
    struct passwd *pw = getpwnam("ternalias");
    char lower[ADDR_LOCAL_MAX + 1];
    for (size_t j = 0; j < llen; j++) lower[j] = (local[j] >= 'A' && local[j] <= 'Z') ? (char)(local[j] + 32) : local[j];
    if (!pw || !pw_fill(pw, w, "-", lower, llen)) {
      replys(slot, 'Z', "Unable to find the ternalias user. (#4.3.0)");
      return 0;
    }
    /* the alias user's home is HOME/alias whatever the password database says */
    strcpy(w->home, aliashome);
  }
  if (!w->uid) { replys(slot, 'Z', "Not allowed to perform deliveries as root. (#4.3.0)"); return 0; }
  return 1;
}

/* the spawn.h start step: check the request, look the recipient up, open
   the message, start tern-local */
static pid_t start(const struct spawnreq *q, int msg, int *outfd)
{
  unsigned char slot = q->slot;
  const char *n = q->num, *rcpt, *at;
  struct who w;
  size_t rlen, llen, nlen = strlen(n);
  char local[ADDR_LOCAL_MAX + 1];
  uint64_t mlen;
  uint64_t id;
  struct stat st;
  int fd;

  (void)msg;   /* tern-lspawn opens the message itself (passfd 0) */
  if (q->nrcpt != 1) {
    replys(slot, 'D', "Internal error: a local request needs exactly one recipient. (#5.3.5)");
    return 0;
  }
  rcpt = q->rcpt[0];
  rlen = strlen(rcpt);
  at = strrchr(rcpt, '@');
  if (!nlen || nlen > 20 || !qfn_scanu64(n, nlen, &id)) {
    replys(slot, 'D', "Unable to parse message number. (#5.3.5)");
    return 0;
  }
  if (!at) {
    replys(slot, 'D', "Sorry, address must include host name. (#5.1.3)");
    return 0;
  }
  llen = (size_t)(at - rcpt);
  if (!llen) { replys(slot, 'K', "Trashed: empty local part.\n"); return 0; }
  if (llen > ADDR_LOCAL_MAX || rlen > ADDR_MAX) {
    replys(slot, 'D', "Sorry, address too long. (#5.1.3)");
    return 0;
  }
  memcpy(local, rcpt, llen);
  local[llen] = 0;
  if (memchr(local, '\n', llen)) {
    replys(slot, 'D', "Sorry, address contains a newline. (#5.1.3)");
    return 0;
  }
  if (!lookup(slot, local, llen, &w)) return 0;

  fd = qmsg_open("queue/", id, 1, &mlen);
  if (fd < 0) {
    replys(slot, 'Z', errno == ENOENT ? "Unable to open message file: no such file. (#4.3.0)" : "Unable to open message file. (#4.3.0)");
    return 0;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ternq_uid) {
    close(fd);
    replys(slot, 'Z', "Message file has wrong type or owner. (#4.3.0)");
    return 0;
  }
  return deliver(slot, &w, local, at + 1, q->sender, fd, outfd);
}

/* the spawn.h refuse step: one Z for the request */
static void refuse(const struct spawnreq *q, int busy)
{
  replys(q->slot, 'Z', busy ? "Internal error: slot busy. (#4.3.5)" : "Internal error: slot out of range. (#4.3.5)");
}

/* the spawn.h done step: tern-local's exit status and output become the reply */
static void done(unsigned char slot, int st, char *text, size_t len, int truncated)
{
  char letter;
  for (size_t j = 0; j < len; j++) if (!text[j]) text[j] = '_';
  if (WIFSIGNALED(st)) {
    letter = 'Z';
    truncated = 0;
    memcpy(text, "tern-local crashed.\n", 20);
    len = 20;
  } else {
    int e = WEXITSTATUS(st);
    if (!e) letter = 'K';
    else if (e == 111 || e == 71 || e == 74 || e == 75 || (e >= 112 && e <= 121)) letter = 'Z';
    else letter = 'D';
    if (!len) {
      const char *t = letter == 'K' ? "" : letter == 'Z' ? "tern-local failed temporarily without saying why. (#4.3.0)\n"
                                                        : "tern-local failed permanently without saying why. (#5.3.0)\n";
      len = strlen(t);
      memcpy(text, t, len);
    }
  }
  if (truncated) {
    static const char note[] = "\n[output truncated]\n";
    if (len > TEXT_MAX - (sizeof note - 1)) len = TEXT_MAX - (sizeof note - 1);
    memcpy(text + len, note, sizeof note - 1);
    len += sizeof note - 1;
  }
  reply(slot, letter, text, len);
}

int main(void)
{
  static const struct spawn_plug plug = { TEXT_MAX, 0, start, refuse, done };
  struct passwd *pw;
  size_t ddlen;
  PROG = "tern-lspawn";

  if (chdir(home_get()) < 0) strerr_diefu2sys(111, "chdir to ", home_get());
  if (strlen(home_get()) + 7 > sizeof aliashome) strerr_dief1x(111, "home directory name too long");
  strcpy(aliashome, home_get());
  if (strlen(home_get()) > sizeof localprog - 20) strerr_dief1x(111, "home directory name too long");
  strcpy(localprog, home_get());
  strcat(localprog, "/bin/tern-local");
  localexec = !!getenv("TERN_LOCAL_EXEC");
  strcat(aliashome, "/alias");
  pw = getpwnam("ternq");
  if (!pw) strerr_dief1x(111, "unknown user ternq");
  ternq_uid = pw->pw_uid;
  switch (ctl_readline("control/defaultdelivery", defaultdelivery, sizeof defaultdelivery, &ddlen)) {
    case 1: if (ddlen) break; /* fall through */
    case 0: strcpy(defaultdelivery, "./Maildir/"); break;
    default: strerr_diefu1sys(111, "read control/defaultdelivery");
  }
  return spawn_main(&plug);
}

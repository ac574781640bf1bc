/* tern-newu: compile HOME/users/assign (qmail-users(5)) into HOME/users/cdb
   with qmail-newu's key/value encoding, and HOME/users/recipients.cdb (the
   deliverable local parts for tern-smtpd's RCPT-time check) from
   users/assign, the password database and HOME/alias/.tern-* files. Run
   by the administrator (root). Each cdb is written to NAME.tmp, fsynced,
   renamed and the directory fsynced. See tern-newu.8. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/cdbmake.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "common/home.h"

#define USAGE "tern-newu [ usersdir [ aliasdir ] ]"
#define ASSIGN_MAX (64u << 20)   /* largest users/assign accepted, bytes */
#define LINE_MAX_ 4096           /* longest line accepted, bytes */

static stralloc recs = STRALLOC_ZERO;   /* (keylen u32, datalen u32, key, data)* */
static stralloc wild = STRALLOC_ZERO;   /* last chars of the + prefixes */
static stralloc rkeys = STRALLOC_ZERO;  /* recipients.cdb keys, each NUL-terminated */

static void nomem(void) { strerr_diefu1sys(111, "allocate memory"); }

static void lower(char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) if (s[i] >= 'A' && s[i] <= 'Z') s[i] = (char)(s[i] + 32);
}

static int numeric(const char *s, size_t n)
{
  if (!n || n > 10) return 0;
  for (size_t i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* one assign line s[0..n) without LF: 0 ok (record appended) or an error text */
static const char *parse_line(const char *s, size_t n)
{
  char key[LINE_MAX_ + 2], data[LINE_MAX_];
  size_t klen, dlen, i, k, colons = 0, fstart[7], flen[6];
  const char *colon;
  uint32_t u;
  if (n > LINE_MAX_) return "line too long";
  if (memchr(s, 0, n)) return "NUL byte";
  if (!n || (s[0] != '=' && s[0] != '+')) return "line must start with = or +";
  colon = memchr(s, ':', n);
  if (!colon) return "no ':'";
  i = (size_t)(colon - s);
  key[0] = '!';
  memcpy(key + 1, s + 1, i - 1);
  klen = i;
  lower(key + 1, klen - 1);
  if (s[0] == '=') key[klen++] = 0;
  else if (i >= 2) {
    char lc = s[i - 1];
    lower(&lc, 1);
    if (!memchr(wild.s ? wild.s : "", lc, wild.len) && !stralloc_catb(&wild, &lc, 1)) nomem();
  }
  dlen = n - i - 1;
  memcpy(data, s + i + 1, dlen);
  fstart[0] = 0;
  for (k = 0; k < dlen; k++)
    if (data[k] == ':') {
      data[k] = 0;
      flen[colons] = k - fstart[colons];
      fstart[colons + 1] = k + 1;
      if (++colons == 6) break;
    }
  if (colons < 6) return "fewer than 7 ':'-separated fields";
  dlen = k;   /* up to (not including) the sixth ':' */
  if (!flen[0]) return "empty user name";
  if (!numeric(data + fstart[1], flen[1]) || !numeric(data + fstart[2], flen[2]))
    return "uid and gid must be decimal numbers";
  if (!flen[3] || data[fstart[3]] != '/') return "home directory must be absolute";
  /* recipients.cdb: "=local", "+prefix", or "*" for the empty prefix */
  if (s[0] == '+' && klen == 1) { if (!stralloc_catb(&rkeys, "*", 2)) nomem(); }
  else if (!stralloc_catb(&rkeys, s[0] == '=' ? "=" : "+", 1) || !stralloc_catb(&rkeys, key + 1, i - 1)
           || !stralloc_0(&rkeys)) nomem();
  u = (uint32_t)klen;
  if (!stralloc_catb(&recs, (char *)&u, 4)) nomem();
  u = (uint32_t)dlen;
  if (!stralloc_catb(&recs, (char *)&u, 4) || !stralloc_catb(&recs, key, klen) || !stralloc_catb(&recs, data, dlen)) nomem();
  return 0;
}

/* add key type+name (lowercased, ':' -> '.' when colons) to rkeys */
static void rkey(const char *type, const char *name, size_t n, int colons)
{
  size_t at = rkeys.len;
  if (!stralloc_cats(&rkeys, type) || !stralloc_catb(&rkeys, name, n) || !stralloc_0(&rkeys)) nomem();
  lower(rkeys.s + at, rkeys.len - at);
  if (colons) for (size_t k = at; k < rkeys.len; k++) if (rkeys.s[k] == ':') rkeys.s[k] = '.';
}

/* the password database: users tern-lspawn would deliver to (uid not 0,
   absolute home that is a directory owned by the user) */
static void pw_keys(void)
{
  struct passwd *pw;
  struct stat st;
  setpwent();
  for (;;) {
    errno = 0;
    pw = getpwent();
    if (!pw) break;
    if (!pw->pw_uid || !pw->pw_name || !pw->pw_name[0] || !pw->pw_dir || pw->pw_dir[0] != '/') continue;
    if (strlen(pw->pw_name) > 255) continue;
    if (stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != pw->pw_uid) continue;
    rkey("u", pw->pw_name, strlen(pw->pw_name), 0);
  }
  if (errno && errno != ENOENT && errno != ESRCH) strerr_diefu1sys(111, "read the password database");
  endpwent();
}

/* HOME/alias/.tern-NAME files: .tern-default -> "*", .tern-NAME-default ->
   "+name-", others "aNAME"; ':' in NAME stands for '.' */
static void alias_keys(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  if (!d) {
    if (errno == ENOENT) return;
    strerr_diefu2sys(111, "open ", dir);
  }
  for (;;) {
    const char *n;
    size_t len;
    struct stat st;
    int dfd;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (strncmp(de->d_name, ".tern-", 6)) continue;
    n = de->d_name + 6;
    len = strlen(n);
    if (!len || len > 255) continue;
    if (!strcmp(n, "newaliases-list")) continue;   /* tern-newaliases' bookkeeping */
    dfd = dirfd(d);
    if (fstatat(dfd, de->d_name, &st, 0) < 0) {
      if (errno == ENOENT) continue;
      strerr_diefu4sys(111, "stat ", dir, "/", de->d_name);
    }
    if (!S_ISREG(st.st_mode)) continue;
    if (!strcmp(n, "default")) rkey("*", "", 0, 0);
    else if (len > 8 && !strcmp(n + len - 8, "-default")) rkey("+", n, len - 7, 1);
    else rkey("a", n, len, 1);
  }
  if (errno) strerr_diefu2sys(111, "read ", dir);
  closedir(d);
}

/* write fn from tmp atomically: keys from rkeys with empty values */
static void write_recipients(const char *tmp, const char *fn)
{
  cdbmaker c = CDBMAKER_ZERO;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) strerr_diefu2sys(111, "create ", tmp);
  if (!cdbmake_start(&c, fd)) { unlink(tmp); strerr_diefu2sys(111, "write ", tmp); }
  for (size_t pos = 0; pos < rkeys.len;) {
    size_t kl = strlen(rkeys.s + pos);
    if (!cdbmake_add(&c, rkeys.s + pos, (unsigned int)kl, "", 0)) { unlink(tmp); strerr_diefu2sys(111, "write ", tmp); }
    pos += kl + 1;
  }
  if (!cdbmake_finish(&c)) { unlink(tmp); strerr_diefu2sys(111, "write ", tmp); }
  if (fsync(fd) < 0) { unlink(tmp); strerr_diefu2sys(111, "fsync ", tmp); }
  if (fchmod(fd, 0644) < 0 || close(fd) < 0) { unlink(tmp); strerr_diefu2sys(111, "close ", tmp); }
  if (rename(tmp, fn) < 0) { unlink(tmp); strerr_diefu4sys(111, "rename ", tmp, " to ", fn); }
}

int main(int argc, char const *const *argv)
{
  stralloc dir = STRALLOC_ZERO, fn = STRALLOC_ZERO, tmp = STRALLOC_ZERO, cdbfn = STRALLOC_ZERO, sa = STRALLOC_ZERO;
  cdbmaker c = CDBMAKER_ZERO;
  size_t pos = 0, line = 0;
  int fd, ended = 0;
  char nbuf[UINT64_FMT];
  struct stat st;
  PROG = "tern-newu";
  stralloc adir = STRALLOC_ZERO, rtmp = STRALLOC_ZERO, rfn = STRALLOC_ZERO;
  if (argc > 3) strerr_dieusage(100, USAGE);
  if (!stralloc_cats(&dir, argc >= 2 ? argv[1] : home_get())) nomem();
  if (argc < 2 && !stralloc_cats(&dir, "/users")) nomem();
  if (!stralloc_0(&dir)) nomem();
  dir.len--;
  if (!stralloc_copy(&fn, &dir) || !stralloc_cats(&fn, "/assign") || !stralloc_0(&fn)) nomem();
  if (!stralloc_copy(&tmp, &dir) || !stralloc_cats(&tmp, "/cdb.tmp") || !stralloc_0(&tmp)) nomem();
  if (!stralloc_copy(&cdbfn, &dir) || !stralloc_cats(&cdbfn, "/cdb") || !stralloc_0(&cdbfn)) nomem();
  if (!stralloc_copy(&rtmp, &dir) || !stralloc_cats(&rtmp, "/recipients.cdb.tmp") || !stralloc_0(&rtmp)) nomem();
  if (!stralloc_copy(&rfn, &dir) || !stralloc_cats(&rfn, "/recipients.cdb") || !stralloc_0(&rfn)) nomem();
  if (argc == 3) { if (!stralloc_cats(&adir, argv[2])) nomem(); }
  else if (!stralloc_cats(&adir, home_get()) || !stralloc_cats(&adir, "/alias")) nomem();
  if (!stralloc_0(&adir)) nomem();

  fd = open(fn.s, O_RDONLY | O_CLOEXEC);
  if (fd < 0) strerr_diefu2sys(111, "open ", fn.s);
  if (fstat(fd, &st) < 0) strerr_diefu2sys(111, "stat ", fn.s);
  if ((unsigned long long)st.st_size > ASSIGN_MAX) strerr_dief2x(100, fn.s, " is larger than 64 MiB");
  if (!slurp(&sa, fd)) strerr_diefu2sys(111, "read ", fn.s);
  close(fd);

  /* Parse everything before touching cdb.tmp: a bad line leaves cdb as it was. */
  while (pos < sa.len) {
    size_t e = pos;
    const char *err;
    line++;
    while (e < sa.len && sa.s[e] != '\n') e++;
    if (e > pos && sa.s[pos] == '.') { ended = 1; break; }
    if (e == sa.len) err = "last line has no newline (and no final '.' line)";
    else err = parse_line(sa.s + pos, e - pos);
    if (err) {
      nbuf[uint64_fmt(nbuf, line)] = 0;
      strerr_dief5x(100, fn.s, ": line ", nbuf, ": ", err);
    }
    pos = e + 1;
  }
  if (!ended) {
    nbuf[uint64_fmt(nbuf, line + 1)] = 0;
    strerr_dief4x(100, fn.s, ": line ", nbuf, ": missing final '.' line");
  }

  /* everything recipients.cdb needs is gathered before anything is written */
  pw_keys();
  alias_keys(adir.s);

  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) strerr_diefu2sys(111, "create ", tmp.s);
  if (!cdbmake_start(&c, fd)) strerr_diefu2sys(111, "write ", tmp.s);
  for (pos = 0; pos < recs.len;) {
    uint32_t kl, dl;
    memcpy(&kl, recs.s + pos, 4);
    memcpy(&dl, recs.s + pos + 4, 4);
    pos += 8;
    if (!cdbmake_add(&c, recs.s + pos, kl, recs.s + pos + kl, dl)) { unlink(tmp.s); strerr_diefu2sys(111, "write ", tmp.s); }
    pos += kl + dl;
  }
  if (!cdbmake_add(&c, "", 0, wild.s ? wild.s : "", (unsigned int)wild.len)
   || !cdbmake_finish(&c)) { unlink(tmp.s); strerr_diefu2sys(111, "write ", tmp.s); }
  if (fsync(fd) < 0) { unlink(tmp.s); strerr_diefu2sys(111, "fsync ", tmp.s); }
  if (fchmod(fd, 0644) < 0 || close(fd) < 0) { unlink(tmp.s); strerr_diefu2sys(111, "close ", tmp.s); }
  if (rename(tmp.s, cdbfn.s) < 0) { unlink(tmp.s); strerr_diefu4sys(111, "rename ", tmp.s, " to ", cdbfn.s); }
  write_recipients(rtmp.s, rfn.s);
  fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) strerr_diefu2sys(111, "fsync ", dir.s);
  close(fd);
  return 0;
}

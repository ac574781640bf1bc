/* priv: the privilege drop of tern-start, tern-lspawn and tern-listen
   (see priv.h): set groups, gid, uid, in that order (the groups and the gid
   can only be changed while still root), then check instead of trusting
   the return codes. */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include "common/priv.h"

#define PRIV_GROUPS_MAX 64   /* supplementary groups read back for the check */

static size_t fmtid(char *d, unsigned long u)
{
  char t[24];
  size_t n = 0;
  do t[n++] = (char)('0' + u % 10); while (u /= 10);
  for (size_t i = 0; i < n; i++) d[i] = t[n - 1 - i];
  return n;
}

static size_t cat(char *d, size_t at, size_t cap, const char *s)
{
  size_t l = strlen(s);
  if (l > cap - at) l = cap - at;
  memcpy(d + at, s, l);
  return at + l;
}

static void die(const char *prog, uid_t uid, gid_t gid, const char *why, int e)
{
  char b[512], num[24];
  size_t n = 0;
  n = cat(b, n, sizeof b - 1, prog);
  n = cat(b, n, sizeof b - 1, ": fatal: unable to drop privileges to uid ");
  num[fmtid(num, (unsigned long)uid)] = 0;
  n = cat(b, n, sizeof b - 1, num);
  n = cat(b, n, sizeof b - 1, " gid ");
  num[fmtid(num, (unsigned long)gid)] = 0;
  n = cat(b, n, sizeof b - 1, num);
  n = cat(b, n, sizeof b - 1, ": ");
  n = cat(b, n, sizeof b - 1, why);
  if (e) {
    n = cat(b, n, sizeof b - 1, ": ");
    n = cat(b, n, sizeof b - 1, strerror(e));
  }
  b[n++] = '\n';
  (void)!write(2, b, n);
  _exit(111);
}

/* 1 if the process's supplementary groups are exactly groups[0..n) */
static int groups_are(size_t n, const gid_t *groups)
{
  gid_t have[PRIV_GROUPS_MAX];
  int k = getgroups(PRIV_GROUPS_MAX, have);
  if (k < 0) return 0;
  for (int i = 0; i < k; i++) {
    size_t j = 0;
    while (j < n && groups[j] != have[i]) j++;
    if (j == n) return 0;
  }
  for (size_t j = 0; j < n; j++) {
    int i = 0;
    while (i < k && have[i] != groups[j]) i++;
    if (i == k) return 0;
  }
  return 1;
}

void priv_drop(const char *prog, uid_t uid, gid_t gid, size_t n, const gid_t *groups)
{
  int root = !geteuid();
  if (!uid) die(prog, uid, gid, "uid 0 is root", 0);
  if (root && setgroups(n, groups) == -1) die(prog, uid, gid, "setgroups", errno);
  if (setgid(gid) == -1) die(prog, uid, gid, "setgid", errno);
  if (setuid(uid) == -1) die(prog, uid, gid, "setuid", errno);
  if (getuid() != uid || geteuid() != uid) die(prog, uid, gid, "uid not changed", 0);
  if (getgid() != gid || getegid() != gid) die(prog, uid, gid, "gid not changed", 0);
  if (root && !groups_are(n, groups)) die(prog, uid, gid, "supplementary groups not changed", 0);
  /* the saved uid (and gid): a process that can go back is still root */
  if (setuid(0) != -1) die(prog, uid, gid, "still able to become root", 0);
  if (gid && setgid(0) != -1) die(prog, uid, gid, "still able to take gid 0", 0);
}

/* tern-rspawn: start one tern-remote per request from tern-send and turn its
   reports into spawner replies. Runs as ternr (not in group tern: it
   cannot open anything in the queue), cwd HOME, started by tern-start;
   each request comes with the message as an open descriptor from
   tern-send. Core program (skalibs only). See tern-rspawn.8. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "common/home.h"
#include "common/qfn.h"
#include "send/rreport.h"
#include "send/spawn.h"

/* what tern-rspawn keeps per slot while tern-remote runs */
struct job {
  size_t nrcpt;                  /* recipients in the request */
  char pre[RREPORT_RCPT_MAX];    /* letter decided before running (D/Z), 0 = sent to tern-remote */
  const char *pretext[RREPORT_RCPT_MAX];
};
static struct job jobs[SPAWN_SLOTS];
static char remote[4096];
static uid_t ternq;

static char outbuf[RREPORT_OUT_MAX(RREPORT_RCPT_MAX)];

/* reply for a request that never reached tern-remote: letter+text for each recipient */
static void replyall(unsigned char slot, size_t nrcpt, char letter, const char *text)
{
  size_t n = rreport_all(outbuf, nrcpt, letter, text);
  spawn_reply(slot, outbuf, n);
}

/* the spawn.h done step: the recipients decided before running keep their
   letter, the others get tern-remote's converted reports */
static void done(unsigned char slot, int wstat, char *out, size_t len, int overflow)
{
  static char conv[RREPORT_OUT_MAX(RREPORT_RCPT_MAX)];
  struct job *j = jobs + slot;
  size_t nsent = 0, w = 0, cl, cp = 0;
  int ok = 1;
  for (size_t i = 0; i < j->nrcpt; i++) if (!j->pre[i]) nsent++;
  if (WIFSIGNALED(wstat)) cl = rreport_all(conv, nsent, 'Z', "tern-remote crashed. (#4.3.0)");
  else if (WEXITSTATUS(wstat) == 100) cl = rreport_all(conv, nsent, 'D', "Unable to run tern-remote. (#5.3.5)");
  else if (WEXITSTATUS(wstat)) cl = rreport_all(conv, nsent, 'Z', "Unable to run tern-remote. (#4.3.0)");
  else cl = rreport_reply(conv, out, len, overflow, nsent, &ok);
  if (!ok) strerr_warnw1x("tern-remote produced malformed output");
  for (size_t i = 0; i < j->nrcpt; i++) {
    size_t n;
    if (j->pre[i]) {
      outbuf[w++] = j->pre[i];
      n = strlen(j->pretext[i]);
      memcpy(outbuf + w, j->pretext[i], n); w += n;
      outbuf[w++] = 0;
      continue;
    }
    n = strlen(conv + cp) + 1;   /* letter, text, NUL: no NUL inside */
    if (cp + n > cl) break;
    memcpy(outbuf + w, conv + cp, n);
    w += n; cp += n;
  }
  spawn_reply(slot, outbuf, w);
}

/* the spawn.h refuse step: Z for every recipient */
static void refuse(const struct spawnreq *q, int busy)
{
  replyall(q->slot, q->nrcpt, 'Z', busy ? "Internal error: slot busy. (#4.3.5)" : "Internal error: bad slot. (#4.3.5)");
}

/* the checks before running: D or Z per recipient in j; the domain of the
   first good recipient (0 if none) */
static const char *precheck(const struct spawnreq *q, struct job *j)
{
  const char *domain = 0;
  size_t dlen = 0;
  memset(j, 0, sizeof *j);
  j->nrcpt = q->nrcpt;
  for (size_t i = 0; i < q->nrcpt; i++) {
    const char *at = strrchr(q->rcpt[i], '@');
    if (!at || !at[1]) { j->pre[i] = 'D'; j->pretext[i] = "Sorry, address must include host name. (#5.1.3)"; continue; }
    if (!domain) { domain = at + 1; dlen = strlen(domain); }
    else if (strlen(at + 1) != dlen || strncasecmp(at + 1, domain, dlen)) {
      j->pre[i] = 'Z'; j->pretext[i] = "Internal error: recipient at another domain in this request. (#4.3.5)";
      continue;
    }
  }
  return domain;
}

/* every recipient was decided before running */
static void replypre(unsigned char slot, const struct job *j)
{
  size_t w = 0;
  for (size_t i = 0; i < j->nrcpt; i++) {
    size_t l = strlen(j->pretext[i]);
    outbuf[w++] = j->pre[i];
    memcpy(outbuf + w, j->pretext[i], l); w += l;
    outbuf[w++] = 0;
  }
  spawn_reply(slot, outbuf, w);
}

/* the spawn.h start step: check the request and the message descriptor
   tern-send sent with it, start tern-remote domain sender size
   recipient... with the message on fd 0 */
static pid_t start(const struct spawnreq *q, int fd, int *outfd)
{
  unsigned char slot = q->slot;
  struct job *j = jobs + slot;
  uint64_t num;
  const char *domain;
  const char *argv[RREPORT_RCPT_MAX + 5];
  size_t argc = 0;
  char sizebuf[24];
  struct stat st;
  off_t off;
  pid_t pid;

  if (!qfn_scanu64(q->num, strlen(q->num), &num)) { replyall(slot, q->nrcpt, 'D', "Internal error: bad message number. (#5.3.5)"); return 0; }
  domain = precheck(q, j);
  if (!domain) { replypre(slot, j); return 0; }
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != ternq) {
    replyall(slot, q->nrcpt, 'Z', "Message file has the wrong type or owner. (#4.3.0)");
    return 0;
  }
  /* the message runs from the descriptor's offset (tern-send positioned
     it there, common/qmsg.h) to the end of the file */
  off = lseek(fd, 0, SEEK_CUR);
  if (off == -1 || off > st.st_size) {
    replyall(slot, q->nrcpt, 'Z', "Message file has the wrong type or owner. (#4.3.0)");
    return 0;
  }
  sizebuf[qfn_fmtu64(sizebuf, (uint64_t)(st.st_size - off))] = 0;
  argv[argc++] = "tern-remote";
  argv[argc++] = domain;
  argv[argc++] = q->sender;
  argv[argc++] = sizebuf;
  for (size_t i = 0; i < q->nrcpt; i++) if (!j->pre[i]) argv[argc++] = q->rcpt[i];
  argv[argc] = 0;
  pid = spawn_fork(fd, outfd);
  if (!pid) {
    execv(remote, (char *const *)argv);
    _exit(111);
  }
  if (pid == -1) { replyall(slot, q->nrcpt, 'Z', "Out of resources: unable to start tern-remote. (#4.3.0)"); return 0; }
  if (pid == -2) { replyall(slot, q->nrcpt, 'Z', "Unable to fork tern-remote. (#4.3.0)"); return 0; }
  return pid;
}

int main(void)
{
  static const struct spawn_plug plug = { RREPORT_IN_MAX, 1, start, refuse, done };
  struct passwd *pw;
  PROG = "tern-rspawn";
  /* the tern-remote children run as the same user and parse what remote
     servers say: none of them may trace this process (and take the
     descriptors tern-send passes it) */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) strerr_diefu1sys(111, "prctl PR_SET_DUMPABLE");
  {
    const char *h = home_get();
    size_t hl = strlen(h);
    if (hl + sizeof "/bin/tern-remote" > sizeof remote) strerr_dief1x(111, "home too long");
    memcpy(remote, h, hl);
    memcpy(remote + hl, "/bin/tern-remote", sizeof "/bin/tern-remote");
    if (chdir(h) == -1) strerr_diefu2sys(111, "chdir to ", h);
  }
  pw = getpwnam("ternq");
  if (!pw) strerr_dief1x(111, "unknown user ternq");
  ternq = pw->pw_uid;
  return spawn_main(&plug);
}

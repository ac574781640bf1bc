/* tern-rspawn: start one tern-remote per request from tern-send and turn its
   reports into spawner replies. Runs as ternr, cwd HOME, started by
   tern-start; core program (skalibs only). See tern-rspawn.8 and plan.md
   "Spawner protocol". */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/selfpipe.h>
#include <skalibs/strerr.h>

#include "common/home.h"
#include "common/qfn.h"
#include "send/rreport.h"

#define CONCURRENCY 120          /* the start-up byte: most tern-remote at once */
#define ADDRMAX 1000             /* bytes per address (plan.md) */
#define NMAX 20                  /* digits of a message number */
#define REQ_MAX (1 + NMAX + 1 + (ADDRMAX + 1) * (RREPORT_RCPT_MAX + 1) + 1)

struct job {
  pid_t pid;                     /* 0: free */
  unsigned char slot;
  int fd;                        /* read end of tern-remote's stdout+stderr, -1 at EOF */
  int reaped, wstat;
  char *out; size_t len; int overflow;
  size_t nrcpt;                  /* recipients in the request */
  char pre[RREPORT_RCPT_MAX];    /* letter decided before running (D/Z), 0 = sent to tern-remote */
  char *pretext[RREPORT_RCPT_MAX];
};
static struct job jobs[CONCURRENCY];
static char remote[4096];
static uid_t ternq;

static char reqbuf[REQ_MAX];
static size_t reqlen;

static void reply(unsigned char slot, const char *body, size_t len)
{
  if (allwrite(1, (const char *)&slot, 1) != 1 || allwrite(1, body, len) != len)
    strerr_diefu1sys(111, "write to tern-send");
}

static char outbuf[1 + RREPORT_OUT_MAX(RREPORT_RCPT_MAX)];

/* reply for a request that never reached tern-remote: letter+text for each recipient */
static void replyall(unsigned char slot, size_t nrcpt, char letter, const char *text)
{
  size_t n = rreport_all(outbuf, nrcpt, letter, text);
  reply(slot, outbuf, n);
}

static void jobdone(struct job *j)
{
  static char conv[RREPORT_OUT_MAX(RREPORT_RCPT_MAX)];
  size_t nsent = 0, w = 0, cl, cp = 0;
  int ok = 1;
  for (size_t i = 0; i < j->nrcpt; i++) if (!j->pre[i]) nsent++;
  if (WIFSIGNALED(j->wstat)) cl = rreport_all(conv, nsent, 'Z', "tern-remote crashed. (#4.3.0)");
  else if (WEXITSTATUS(j->wstat) == 100) cl = rreport_all(conv, nsent, 'D', "Unable to run tern-remote. (#5.3.5)");
  else if (WEXITSTATUS(j->wstat)) cl = rreport_all(conv, nsent, 'Z', "Unable to run tern-remote. (#4.3.0)");
  else cl = rreport_reply(conv, j->out, j->len, j->overflow, nsent, &ok);
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
  reply(j->slot, outbuf, w);
  free(j->out);
  j->out = 0;
  j->pid = 0;
}

static void run(void)
{
  /* reqbuf: slot, N\0, sender\0, rcpt\0 ..., \0 */
  unsigned char slot = (unsigned char)reqbuf[0];
  const char *n = reqbuf + 1;
  const char *sender = n + strlen(n) + 1;
  const char *r = sender + strlen(sender) + 1;
  const char *rc[RREPORT_RCPT_MAX];
  size_t nrcpt = 0;
  struct job *j;
  uint64_t num;
  char fn[QFN_MAX];
  const char *domain = 0;
  size_t dlen = 0;
  const char *argv[RREPORT_RCPT_MAX + 5];
  size_t argc = 0;
  char sizebuf[24];
  struct stat st;
  int fd, p[2];

  while (*r) { rc[nrcpt++] = r; r += strlen(r) + 1; }
  if (slot >= CONCURRENCY) { replyall(slot, nrcpt, 'Z', "Internal error: bad slot. (#4.3.5)"); return; }
  j = &jobs[slot];
  if (j->pid) { replyall(slot, nrcpt, 'Z', "Internal error: slot busy. (#4.3.5)"); return; }
  if (!qfn_scanu64(n, strlen(n), &num)) { replyall(slot, nrcpt, 'D', "Internal error: bad message number. (#5.3.5)"); return; }
  memset(j, 0, sizeof *j);
  j->slot = slot;
  j->fd = -1;
  j->nrcpt = nrcpt;
  for (size_t i = 0; i < nrcpt; i++) {
    const char *at = strrchr(rc[i], '@');
    if (!at || !at[1]) { j->pre[i] = 'D'; j->pretext[i] = "Sorry, address must include host name. (#5.1.3)"; continue; }
    if (!domain) { domain = at + 1; dlen = strlen(domain); }
    else if (strlen(at + 1) != dlen || strncasecmp(at + 1, domain, dlen)) {
      j->pre[i] = 'Z'; j->pretext[i] = "Internal error: recipient at another domain in this request. (#4.3.5)";
      continue;
    }
  }
  if (!domain) goto allpre;
  qfn_split(fn, "queue/mess", num);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd == -1) { replyall(slot, nrcpt, 'Z', "Unable to open the message file. (#4.3.0)"); return; }
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != ternq) {
    close(fd);
    replyall(slot, nrcpt, 'Z', "Message file has the wrong type or owner. (#4.3.0)");
    return;
  }
  {
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  sizebuf[qfn_fmtu64(sizebuf, (uint64_t)st.st_size)] = 0;
  argv[argc++] = "tern-remote";
  argv[argc++] = domain;
  argv[argc++] = sender;
  argv[argc++] = sizebuf;
  for (size_t i = 0; i < nrcpt; i++) if (!j->pre[i]) argv[argc++] = rc[i];
  argv[argc] = 0;
  j->out = malloc(RREPORT_IN_MAX);
  if (!j->out || pipecoe(p) == -1) {
    close(fd); free(j->out); j->out = 0;
    replyall(slot, nrcpt, 'Z', "Out of resources: unable to start tern-remote. (#4.3.0)");
    return;
  }
  j->pid = fork();
  if (j->pid == -1) {
    close(fd); close(p[0]); close(p[1]); free(j->out); j->out = 0; j->pid = 0;
    replyall(slot, nrcpt, 'Z', "Unable to fork tern-remote. (#4.3.0)");
    return;
  }
  if (!j->pid) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);   /* selfpipe blocked SIGCHLD */
    signal(SIGPIPE, SIG_DFL);
    if (dup2(fd, 0) == -1 || dup2(p[1], 1) == -1 || dup2(p[1], 2) == -1) _exit(111);
    execv(remote, (char *const *)argv);
    _exit(111);
  }
  close(fd);
  close(p[1]);
  ndelay_on(p[0]);
  j->fd = p[0];
  return;
allpre:
  {
    size_t w = 0;
    for (size_t i = 0; i < nrcpt; i++) {
      size_t l = strlen(j->pretext[i]);
      outbuf[w++] = j->pre[i];
      memcpy(outbuf + w, j->pretext[i], l); w += l;
      outbuf[w++] = 0;
    }
    reply(slot, outbuf, w);
  }
}

/* consume request bytes; returns 0, or dies on a protocol violation */
static unsigned fields, rfield;   /* fields done in this request; length of the current one */
static void feed(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (reqlen >= sizeof reqbuf) strerr_dief1x(111, "request from tern-send too long");
    reqbuf[reqlen++] = c;
    if (reqlen == 1) { fields = 0; rfield = 0; continue; }   /* the slot byte */
    if (c) {
      rfield++;
      if ((fields == 0 && rfield > NMAX) || rfield > ADDRMAX) strerr_dief1x(111, "field in request from tern-send too long");
      continue;
    }
    if (!rfield && fields >= 2) { run(); reqlen = 0; continue; }   /* empty field: end */
    if (!rfield && fields == 0) strerr_dief1x(111, "empty message number in request from tern-send");
    rfield = 0;
    fields++;
    if (fields > 2 + RREPORT_RCPT_MAX) strerr_dief1x(111, "too many recipients in request from tern-send");
  }
}

int main(void)
{
  struct passwd *pw;
  int sfd, infd = 0;
  unsigned char conc = CONCURRENCY;
  PROG = "tern-rspawn";
  {
    const char *h = home_get();
    size_t hl = strlen(h);
    if (hl + sizeof "/bin/tern-remote" > sizeof remote) strerr_dief1x(111, "home too long");
    memcpy(remote, h, hl);
    memcpy(remote + hl, "/bin/tern-remote", sizeof "/bin/tern-remote");
    if (chdir(h) == -1) strerr_diefu2sys(111, "chdir to ", h);
  }
  pw = getpwnam("ternq");
  if (pw) ternq = pw->pw_uid;
  else {
    struct stat st;
    if (stat("queue/mess", &st) == -1) strerr_diefu1sys(111, "find user ternq or stat queue/mess");
    ternq = st.st_uid;
  }
  sfd = selfpipe_init();
  if (sfd == -1) strerr_diefu1sys(111, "selfpipe_init");
  if (!selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "trap SIGCHLD");
  signal(SIGPIPE, SIG_IGN);
  if (allwrite(1, (const char *)&conc, 1) != 1) strerr_diefu1sys(111, "write to tern-send");

  for (;;) {
    struct pollfd pf[2 + CONCURRENCY];
    int map[2 + CONCURRENCY];
    unsigned np = 0, active = 0;
    pf[np].fd = sfd; pf[np].events = POLLIN; map[np++] = -1;
    if (infd >= 0) { pf[np].fd = infd; pf[np].events = POLLIN; map[np++] = -2; }
    for (int i = 0; i < CONCURRENCY; i++) {
      if (!jobs[i].pid) continue;
      active++;
      if (jobs[i].fd >= 0) { pf[np].fd = jobs[i].fd; pf[np].events = POLLIN; map[np++] = i; }
    }
    if (infd < 0 && !active) return 0;
    if (poll(pf, np, -1) == -1) { if (errno == EINTR) continue; strerr_diefu1sys(111, "poll"); }
    for (unsigned k = 0; k < np; k++) {
      if (!pf[k].revents) continue;
      if (map[k] == -1) {
        int sig;
        while ((sig = selfpipe_read()) > 0) ;
        for (;;) {
          int w;
          pid_t pid = waitpid(-1, &w, WNOHANG);
          if (pid <= 0) break;
          for (int i = 0; i < CONCURRENCY; i++) if (jobs[i].pid == pid) { jobs[i].reaped = 1; jobs[i].wstat = w; }
        }
      } else if (map[k] == -2) {
        char b[4096];
        ssize_t r = read(infd, b, sizeof b);
        if (r > 0) feed(b, (size_t)r);
        else if (!r || (errno != EINTR && errno != EAGAIN)) {
          if (reqlen) strerr_warnw1x("tern-send closed the command pipe in the middle of a request");
          infd = -1;
        }
      } else {
        struct job *j = &jobs[map[k]];
        char b[4096];
        ssize_t r = read(j->fd, b, sizeof b);
        if (r > 0) {
          size_t n = (size_t)r;
          if (j->len + n > RREPORT_IN_MAX) { n = RREPORT_IN_MAX - j->len; j->overflow = 1; }
          memcpy(j->out + j->len, b, n);
          j->len += n;
        } else if (!r || (errno != EINTR && errno != EAGAIN)) { close(j->fd); j->fd = -1; }
      }
    }
    for (int i = 0; i < CONCURRENCY; i++)
      if (jobs[i].pid && jobs[i].reaped && jobs[i].fd < 0) jobdone(&jobs[i]);
  }
}

/* tern-send's command socket (ctl.h; the protocol in common/qctl.h; the
   commands and the policy in tern-queuectl.8). Everything here acts
   through tern-send's own state: the message table (msgs.h) with the
   recipients it delivers from, the journal (a deleted recipient is marked
   done as a delivery marks it) and msg/N, which it already reads for
   bounces. The policy: root and the members of group tern (the client's
   gid, or a supplementary group of its user) see and act on every
   message; any other user sees (list, show) and may delete and retry only
   the messages it injected (the envelope's u record); hold, release and
   the domain and "delete all" forms are for root and group tern only. */
#define _GNU_SOURCE 1   /* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>

#include "common/qctl.h"
#include "common/qfn.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/bounce.h"
#include "send/msgs.h"
#include "send/ctl.h"

#define HOLD_DIR "hold"

struct client {
  int fd;                  /* -1: a free slot */
  int ip;                  /* index in the poll set, -1 none */
  uid_t uid;
  gid_t gid;
  int admin;               /* root or group tern */
  char in[QCTL_LINE_MAX];
  size_t inlen;
  int replying;
  stralloc out;
  size_t pos;              /* bytes of out written */
  int passfd;              /* sent with the first bytes of the reply, -1 none */
  int64_t deadline;        /* CLOCK_MONOTONIC ms */
};
static struct client cl[CTL_CLIENTS];
static stralloc holds = STRALLOC_ZERO;   /* ids of hold/ not yet in the table: "ID\0"... */
static int ctl_on, ip_listen = -1;
static gid_t tern_gid;
static int tern_gid_known;

void ctl_probe(void)
{
  int v = 0;
  socklen_t len = sizeof v;
  ctl_on = getsockopt(FD_CTL, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
  for (int k = 0; k < CTL_CLIENTS; k++) { cl[k].fd = cl[k].passfd = -1; cl[k].ip = -1; }
  if (ctl_on) ndelay_on(FD_CTL);
}

/* ---- the reply ---- */

static void put(struct client *c, const char *s)
{
  if (!stralloc_cats(&c->out, s)) die_nomem();
}

static void putn(struct client *c, unsigned n, const char *const *v)
{
  for (unsigned k = 0; k < n; k++) put(c, v[k]);
}

/* "queuectl: WHAT msg ID by uid U" (and more) */
static void logcmd(const struct client *c, const char *what, const struct msg *m, const char *more)
{
  char u[24];
  const char *v[] = { "queuectl: ", what, " msg ", m->qid, more, " by uid ", fmtu(u, c->uid) };
  logn(7, v);
}

/* ---- messages and their recipients ---- */

static int visible(const struct client *c, const struct msg *m)
{
  return m->used && (c->admin || m->uid == (uint64_t)c->uid);
}

/* the message with id q that c may see: 1 and *i, or 0 with the reply */
static int find(struct client *c, const char *q, size_t *i)
{
  for (size_t k = 0; k < MSG_N(); k++)
    if (visible(c, MSG(k)) && !strcmp(MSG(k)->qid, q)) { *i = k; return 1; }
  putn(c, 3, (const char *const[]){ "no: ", q, ": no such message of yours in the queue\n" });
  return 0;
}

/* channel c's recipient records of message m in tern-send's memory
   (msgs.h: T, D, I, O), or 0 when it has none */
static const char *chan_read(const struct msg *m, int c, size_t *len)
{
  if (!m->cb[c].len) return 0;
  *len = m->cb[c].len;
  return m->cb[c].s;
}

/* the next record at *pos of buf[0..len): its type and value, or 0 */
static int rec_next(const char *buf, size_t len, size_t *pos, char *type, const char **v)
{
  const char *z;
  if (*pos >= len) return 0;
  z = memchr(buf + *pos, 0, len - *pos);
  if (!z) return 0;
  *type = buf[*pos];
  *v = buf + *pos + 1;
  *pos = (size_t)(z - buf) + 1;
  return 1;
}

static const char *why_of(const struct msg *m, const char *rcpt)
{
  for (size_t p = 0; p < m->whylen; ) {
    const char *a = m->why + p, *t = a + strlen(a) + 1;
    if (!strcmp(a, rcpt)) return t;
    p = (size_t)(t + strlen(t) + 1 - m->why);
  }
  return 0;
}

void ctl_deferred(struct msg *m, const char *rcpt, const char *text, size_t tlen)
{
  char t[CTL_WHY_MAX + 1];
  size_t rl = strlen(rcpt), tl = tlen < CTL_WHY_MAX ? tlen : CTL_WHY_MAX;
  const char *old = why_of(m, rcpt);
  /* printable as it is: a line end becomes '/', other controls '_' */
  for (size_t k = 0; k < tl; k++) t[k] = text[k] == '\n' ? '/' : (text[k] < 0x20 || text[k] > 0x7e) ? '_' : text[k];
  while (tl && t[tl - 1] == '/') tl--;
  t[tl] = 0;
  if (old) {   /* drop the old pair */
    size_t a = (size_t)(old - m->why) - rl - 1, b = (size_t)(old - m->why) + strlen(old) + 1;
    memmove(m->why + a, m->why + b, m->whylen - b);
    m->whylen -= b - a;
  }
  if (m->whylen + rl + tl + 2 > CTL_WHYS_MAX) return;
  m->why = xrealloc(m->why, m->whylen + rl + tl + 2);
  memcpy(m->why + m->whylen, rcpt, rl + 1);
  memcpy(m->why + m->whylen + rl + 1, t, tl + 1);
  m->whylen += rl + tl + 2;
}

/* one recipient line: "  to <A> local|remote: done|waiting[ (last deferral: T)]" */
static void rcpt_line(struct client *c, const struct msg *m, int ch, char type, const char *a, const char *orig)
{
  char sa[TEXT_MAX + 1];
  const char *why = type == 'T' ? why_of(m, a) : 0;
  putn(c, 5, (const char *const[]){ "  to <", safe(sa, orig, strlen(orig)), ">", ch ? " remote: " : " local: ",
                                    type == 'T' ? "waiting" : "done" });
  if (why) putn(c, 3, (const char *const[]){ " (last deferral: ", why, ")" });
  put(c, "\n");
}

/* the recipients of message m, channel by channel */
static void rcpt_lines(struct client *c, const struct msg *m)
{
  for (int ch = 0; ch < 2; ch++) {
    size_t len, pos = 0;
    const char *buf = chan_read(m, ch, &len), *a = 0, *v;
    char type = 0, t;
    if (!buf) continue;
    for (;;) {
      int more = rec_next(buf, len, &pos, &t, &v);
      if (more && t == 'I') continue;   /* the envelope index: not shown */
      if (a && (!more || t != 'O')) rcpt_line(c, m, ch, type, a, a);
      else if (a) rcpt_line(c, m, ch, type, a, v);
      a = 0;
      if (!more) break;
      if (t == 'T' || t == 'D') { type = t; a = v; }
    }
  }
}

/* "ID  age A  size N  uid U  from <S>[  held]" and the recipients */
static void describe(struct client *c, const struct msg *m)
{
  char age[24], size[24], uid[24], ss[TEXT_MAX + 1];
  uint64_t mlen = 0;
  time_t now = time(0);
  int fd = open_mess(m->id, &mlen);   /* the size of the message itself */
  if (fd >= 0) close(fd);
  qctl_age(age, now > m->birth ? (uint64_t)(now - m->birth) : 0);
  putn(c, 10, (const char *const[]){ m->qid, "  age ", age, "  size ", fmtu(size, mlen), "  uid ",
                                     m->uid == UINT64_MAX ? "?" : fmtu(uid, m->uid), "  from <",
                                     safe(ss, m->sender, strlen(m->sender)), m->held ? ">  held\n" : ">\n" });
  rcpt_lines(c, m);
}

static void do_list(struct client *c)
{
  char n[24];
  size_t count = 0;
  put(c, "ok\n");
  for (size_t i = 0; i < MSG_N(); i++)
    if (visible(c, MSG(i))) { describe(c, MSG(i)); put(c, "\n"); count++; }
  if (!count) put(c, "Mail queue is empty\n");
  else putn(c, 3, (const char *const[]){ "-- ", fmtu(n, count), count == 1 ? " message\n" : " messages\n" });
}

static void do_show(struct client *c, const char *q)
{
  size_t i;
  uint64_t mlen;
  if (!find(c, q, &i)) return;
  /* positioned at the message: tern-queuectl prints it from there */
  c->passfd = open_mess(MSG(i)->id, &mlen);
  if (c->passfd < 0) { put(c, "error: unable to open the message\n"); return; }
  put(c, "ok\n");
  describe(c, MSG(i));
  put(c, "\n");
}

/* ---- hold ---- */

static int hold_file(const struct msg *m, int on)
{
  char fn[sizeof HOLD_DIR + QID_MAX + 1] = HOLD_DIR "/";
  strcat(fn, m->qid);
  if (on) {
    int fd = open(fn, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || fsync(fd) < 0) { if (fd >= 0) close(fd); return 0; }
    close(fd);
  } else if (unlink(fn) < 0 && errno != ENOENT) return 0;
  return fsync_dir(HOLD_DIR) == 0;
}

static void retry_msg(struct msg *m, size_t i)
{
  for (int ch = 0; ch < 2; ch++)
    if (m->ch[ch].has && !m->ch[ch].active) { m->ch[ch].next = time(0); msg_due(i, ch); }
}

static void do_hold(struct client *c, const char *q, int on)
{
  size_t i;
  struct msg *m;
  if (!c->admin) { put(c, "no: only root and group tern may hold and release messages\n"); return; }
  if (!find(c, q, &i)) return;
  m = MSG(i);
  if (!hold_file(m, on)) {
    logcmd(c, on ? "unable to hold" : "unable to release", m, " (queue/hold)");
    put(c, "error: unable to write HOME/queue/hold\n");
    return;
  }
  m->held = on;
  if (!on) retry_msg(m, i);
  logcmd(c, on ? "hold" : "release", m, "");
  put(c, "ok\n");
}

/* at start-up, before the first message enters the table: the ids of
   hold/, each held once its message comes (ctl_adopt) */
void ctl_start(void)
{
  DIR *d;
  struct group *gr = getgrnam("tern");
  if (gr) { tern_gid = gr->gr_gid; tern_gid_known = 1; }
  if (!ctl_on) log1("warning: no command socket on fd 9; tern-queuectl will not work");
  d = opendir(HOLD_DIR);
  if (!d) { if (errno != ENOENT) log1("warning: unable to read queue/hold; no message is held"); return; }
  for (;;) {
    struct dirent *de;
    errno = 0;
    if (!(de = readdir(d))) break;
    if (qid_ok(de->d_name, strlen(de->d_name)) && !stralloc_catb(&holds, de->d_name, strlen(de->d_name) + 1)) die_nomem();
  }
  closedir(d);
}

void ctl_adopt(size_t i)
{
  struct msg *m = MSG(i);
  for (size_t p = 0; p < holds.len; p += strlen(holds.s + p) + 1) {
    size_t n = strlen(holds.s + p) + 1;
    if (strcmp(holds.s + p, m->qid)) continue;
    m->held = 1;
    log2("held msg ", m->qid);
    memmove(holds.s + p, holds.s + p + n, holds.len - p - n);
    holds.len -= n;
    return;
  }
}

void ctl_ended(const struct msg *m)
{
  if (m->held) hold_file(m, 0);
}

/* ---- delete and retry ---- */

/* postsuper -d: the whole message goes, without a bounce (bounce/N, the
   failures recorded so far, goes first). 1 done, 0 a delivery runs */
static int delete_msg(struct client *c, size_t i)
{
  struct msg *m = MSG(i);
  char fn[QFN_MAX];
  if (m->ch[0].active || m->ch[1].active) return 0;
  logcmd(c, "delete", m, "");
  qfn_flat(fn, "bounce", m->id);
  unlink(fn);
  m->ch[0].has = m->ch[1].has = 0;
  messdone(i);
  return 1;
}

/* the recipients of message i at domain d: marked done without delivery
   (when del) or counted. The number of them; *left: recipients still to
   do in each channel */
static size_t rcpts_at(struct client *c, size_t i, const char *d, int del, size_t left[2])
{
  struct msg *m = MSG(i);
  size_t n = 0;
  for (int ch = 0; ch < 2; ch++) {
    size_t len, pos = 0, at;
    const char *buf = chan_read(m, ch, &len), *v;
    char t;
    left[ch] = 0;
    if (!buf) continue;
    for (at = pos; rec_next(buf, len, &pos, &t, &v); at = pos) {
      if (t != 'T') continue;
      if (!qctl_domain_is(v, strlen(v), d)) { left[ch]++; continue; }
      n++;
      if (!del) continue;
      msg_rcptdone(i, ch, at);   /* done without delivery, as a delivery marks it */
      {
        char sa[TEXT_MAX + 1];
        const char *more[] = { " to <", safe(sa, v, strlen(v)), ">" };
        char line[TEXT_MAX + 16];
        strcpy(line, more[0]); strcat(line, more[1]); strcat(line, more[2]);
        logcmd(c, "delete", m, line);
      }
    }
  }
  return n;
}

/* one message of a delete or retry with target r->target (domain r->arg):
   *done counts what was done, *busy what a running delivery kept */
static void act_one(struct client *c, const struct qctl_req *r, size_t i, size_t *done, size_t *busy)
{
  struct msg *m = MSG(i);
  size_t left[2];
  if (r->cmd == QCTL_RETRY) {
    if (m->held || (r->target == QCTL_DOMAIN && !rcpts_at(c, i, r->arg, 0, left))) return;
    logcmd(c, "retry", m, "");
    retry_msg(m, i);
    (*done)++;
  } else if (r->target != QCTL_DOMAIN) {
    if (delete_msg(c, i)) (*done)++; else (*busy)++;
  } else {
    if (m->ch[0].active || m->ch[1].active) { if (rcpts_at(c, i, r->arg, 0, left)) (*busy)++; return; }
    *done += rcpts_at(c, i, r->arg, 1, left);
    for (int ch = 0; ch < 2; ch++) if (!left[ch]) m->ch[ch].has = 0;
    if (!m->ch[0].has && !m->ch[1].has) messdone(i);
  }
}

static void do_many(struct client *c, const struct qctl_req *r)
{
  char a[24], b[24];
  size_t done = 0, busy = 0, i;
  if (!c->admin && (r->target == QCTL_DOMAIN || (r->target == QCTL_ALL && r->cmd == QCTL_DELETE))) {
    put(c, "no: only root and group tern may act on a domain or delete every message\n");
    return;
  }
  if (r->target == QCTL_ID) {
    if (!find(c, r->arg, &i)) return;
    if (r->cmd == QCTL_RETRY && MSG(i)->held) { put(c, "no: the message is held: release it instead\n"); return; }
    act_one(c, r, i, &done, &busy);
    if (busy) { put(c, "busy: a delivery of the message is running\n"); return; }
  } else
    for (i = 0; i < MSG_N(); i++)
      if (visible(c, MSG(i))) act_one(c, r, i, &done, &busy);
  putn(c, 5, (const char *const[]){ "ok\n", r->cmd == QCTL_RETRY ? "retrying " : "deleted ", fmtu(a, done),
                                    r->target == QCTL_DOMAIN && r->cmd == QCTL_DELETE ? " recipient" : " message",
                                    done == 1 ? "" : "s" });
  if (busy) putn(c, 3, (const char *const[]){ "; ", fmtu(b, busy), " kept by a running delivery (try again)" });
  put(c, "\n");
}

/* ---- clients ---- */

static int in_group_tern(uid_t uid, gid_t gid)
{
  struct passwd *pw;
  gid_t g[256];
  int n = 256;
  if (!tern_gid_known) return 0;
  if (gid == tern_gid) return 1;
  pw = getpwuid(uid);
  if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, g, &n) < 0) return 0;
  for (int k = 0; k < n; k++) if (g[k] == tern_gid) return 1;
  return 0;
}

static void drop(struct client *c)
{
  close(c->fd);
  if (c->passfd >= 0) close(c->passfd);
  c->fd = c->passfd = c->ip = -1;
  stralloc_free(&c->out);
}

/* may an ordinary user (not root, not group tern) uid have a slot? One at
   a time per uid, and never the last free one: one local user holding
   connections open cannot shut root and group tern out of list, show or
   delete (nor other users for longer than CTL_DEADLINE_MS per slot) */
static int user_slot(uid_t uid)
{
  int users = 0;
  for (int k = 0; k < CTL_CLIENTS; k++) {
    if (cl[k].fd < 0 || cl[k].admin) continue;
    if (cl[k].uid == uid) return 0;
    users++;
  }
  return users < CTL_CLIENTS - 1;
}

static void new_client(void)
{
  struct ucred cr;
  socklen_t len = sizeof cr;
  struct client *c = 0;
  int admin, fd = accept(FD_CTL, 0, 0);
  if (fd < 0) return;
  for (int k = 0; k < CTL_CLIENTS; k++) if (cl[k].fd < 0) { c = cl + k; break; }
  if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof cr) { close(fd); return; }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  ndelay_on(fd);
  admin = cr.uid == 0 || in_group_tern(cr.uid, cr.gid);
  if (!admin && !user_slot(cr.uid)) {
    static const char busy[] = "no: busy (one request at a time per user; try again)\n";
    (void)!write(fd, busy, sizeof busy - 1);
    close(fd);
    return;
  }
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->passfd = c->ip = -1;
  c->uid = cr.uid;
  c->gid = cr.gid;
  c->admin = admin;
  c->deadline = mono_ms() + CTL_DEADLINE_MS;
}

static void client_read(struct client *c)
{
  struct qctl_req r;
  size_t used;
  int k;
  ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { drop(c); return; }
  c->inlen += (size_t)n;
  k = qctl_parse(c->in, c->inlen, &r, &used);
  if (!k) return;
  c->replying = 1;
  if (k < 0) { put(c, "no: malformed request (see tern-queuectl(8))\n"); return; }
  if (r.cmd == QCTL_LIST) do_list(c);
  else if (r.cmd == QCTL_SHOW) do_show(c, r.arg);
  else if (r.cmd == QCTL_HOLD || r.cmd == QCTL_RELEASE) do_hold(c, r.arg, r.cmd == QCTL_HOLD);
  else do_many(c, &r);
}

/* the reply's next bytes; the first ones carry the descriptor, if any */
static void client_write(struct client *c)
{
  struct iovec iov = { c->out.s + c->pos, c->out.len - c->pos };
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr mh;
  ssize_t n;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (c->passfd >= 0) {
    memset(&u, 0, sizeof u);
    mh.msg_control = u.b;
    mh.msg_controllen = sizeof u.b;
    u.h.cmsg_level = SOL_SOCKET;
    u.h.cmsg_type = SCM_RIGHTS;
    u.h.cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(&u.h), &c->passfd, sizeof(int));
  }
  n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { drop(c); return; }
  if (c->passfd >= 0) { close(c->passfd); c->passfd = -1; }
  c->pos += (size_t)n;
  if (c->pos == c->out.len) drop(c);
}

void ctl_prepare(struct loop *l)
{
  int free_slot = 0;
  ip_listen = -1;
  if (!ctl_on) return;
  for (int k = 0; k < CTL_CLIENTS; k++) {
    struct client *c = cl + k;
    if (c->fd < 0) { free_slot = 1; continue; }
    c->ip = loop_add(l, c->fd, c->replying ? POLLOUT : POLLIN);
    if (c->deadline < l->wake_ms) l->wake_ms = c->deadline;
  }
  if (free_slot) ip_listen = loop_add(l, FD_CTL, POLLIN);
}

void ctl_run(const struct loop *l)
{
  int64_t now = mono_ms();
  if (!ctl_on) return;
  for (int k = 0; k < CTL_CLIENTS; k++) {
    struct client *c = cl + k;
    if (c->fd < 0) continue;
    if (c->deadline <= now) { drop(c); continue; }
    if (!loop_ready(l, c->ip)) continue;
    if (c->replying) client_write(c);
    else client_read(c);
    if (c->fd >= 0 && c->replying && c->pos < c->out.len) client_write(c);
  }
  if (loop_ready(l, ip_listen)) new_client();
}

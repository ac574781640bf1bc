/* tern-smtpd: RFC 5321 server on fd 0/1, one process per connection, as
   user ternd. Reads HOME/control and HOME/users/recipients.cdb, writes each
   accepted message to the queue program and log lines to fd 2. See
   tern-smtpd.8. Edge program: libowfat + libc + common/ only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "cdb.h"

#include "common/addr.h"
#include "common/ctl.h"
#include "common/home.h"
#include "common/qclient.h"
#include "common/qqcode.h"
#include "smtpd/client.h"
#include "smtpd/phase.h"
#include "smtpd/rcpt.h"
#include "smtpd/session.h"
#include "smtpd/smtp.h"
#include "smtpd/trace.h"

/* exit codes (house rule): 0 the session ended normally (QUIT, EOF, a
   421 we chose to send), 100 a permanent configuration error, 111 a
   temporary failure (timeout, lost client, unreadable controls) */
#define EXIT_TEMP 111
#define EXIT_PERM 100

/* ---- configuration (HOME/control, the environment) ---- */
static struct config {
  char me[CTL_LINE_MAX];
  char greeting[CTL_LINE_MAX];
  char localiphost[CTL_LINE_MAX];
  struct ctl_list rcpthosts, badmailfrom, badrcptto, locals, vdoms;
  struct cdb mrh, rcpts;              /* mapped once per connection */
  unsigned long databytes, maxrcpt, timeoutsmtpd, timeoutsession, maxbadcmds, greetdelay;
  struct rcpt_policy policy;
} cfg;
static struct client client = { "unknown", 0, 0, 0, 1 };
static struct session sess;

/* ---- I/O ---- */
static time_t deadline;                 /* whole session */
static char inbuf[8192];
static char outbuf[4096];
static buffer bin, bout;

static void die_quiet(int code)
{
  qclient_abort(&sess.tx.q);
  _exit(code);
}

static void warn(const char *what) { trace_warn(&client, what); }

static int wait_fd(int fd, short ev)
{
  for (;;) {
    time_t now = time(0);
    long t = (long)cfg.timeoutsmtpd;
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
  if (wait_fd(fd, POLLOUT) < 0) { warn("write timeout or error, closing"); die_quiet(EXIT_TEMP); }
  r = write(fd, buf, len);
  if (r <= 0) {
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    warn("write error, closing");
    die_quiet(EXIT_TEMP);
  }
  return r;
}

/* flush our replies before we would block reading (RFC 2920 3.2) */
static ssize_t saferead(int fd, char *buf, size_t len)
{
  ssize_t r;
  if (buffer_flush(&bout) < 0) die_quiet(EXIT_TEMP);
  if (wait_fd(fd, POLLIN) < 0) return -1;
  do r = read(fd, buf, len); while (r < 0 && errno == EINTR);
  return r;
}

static void out(const char *s) { buffer_puts(&bout, s); }
static void flush(void) { buffer_flush(&bout); }
static void reply(const char *line) { out(line); out("\r\n"); }

/* ---- configuration ---- */
static char pbuf[4200];
static const char *pathof(const char *dir, const char *name)
{
  const char *h = home_get();
  size_t hl = strlen(h), dl = strlen(dir), nl = strlen(name);
  if (hl + dl + nl + 1 > sizeof pbuf) { pbuf[0] = 0; return pbuf; }
  memcpy(pbuf, h, hl);
  memcpy(pbuf + hl, dir, dl);
  memcpy(pbuf + hl + dl, name, nl + 1);
  return pbuf;
}
static const char *path(const char *name) { return pathof("/control/", name); }

/* why: a reason errno cannot give (a permanent configuration error), or 0 */
static void ctlfail(const char *name, const char *why)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: fatal: unable to read control/");
  lg_cats(&l, name);
  lg_cats(&l, ": ");
  lg_cats(&l, why ? why : strerror(errno));
  lg_log(&l);
  reply("421 4.3.0 unable to read controls");
  flush();
  _exit(why ? EXIT_PERM : EXIT_TEMP);
}

static int readline_ctl(const char *name, char *dst, const char *def)
{
  size_t len;
  int r = ctl_readline(path(name), dst, CTL_LINE_MAX, &len);
  if (r < 0) ctlfail(name, 0);
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
  int r = ctl_readlist(path(name), l);
  if (r < 0) ctlfail(name, 0);
  return r;
}

static unsigned long readulong_ctl(const char *name, unsigned long def)
{
  unsigned long v;
  int r = ctl_readulong(path(name), &v, def);
  if (r == -1) ctlfail(name, 0);
  if (r == -2) ctlfail(name, "not an unsigned decimal number");
  return v;
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

/* a cdb lookup for the recipient policy: 1 found, 0 not, -1 error */
static int cdb_lookup(void *ctx, const char *k, size_t n)
{
  int r = cdb_find(ctx, (const unsigned char *)k, (unsigned long)n);
  return r < 0 ? -1 : r > 0;
}

/* map an optional cdb: 1 mapped, 0 absent; fails the session otherwise */
static int cdb_map(struct cdb *c, const char *p, const char *name)
{
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    ctlfail(name, 0);
  }
  /* libowfat's cdb_init() starts with cdb_free(): c->map must be 0 */
  memset(c, 0, sizeof *c);
  cdb_init(c, fd);
  return 1;
}

/* the greeting and our name: qmail's rule, no me and no greeting: refuse */
static void setup_names(void)
{
  readline_ctl("me", cfg.me, "");
  if (cfg.me[0]) {
    readline_ctl("smtpgreeting", cfg.greeting, cfg.me);
    return;
  }
  readline_ctl("smtpgreeting", cfg.greeting, "");
  if (!cfg.greeting[0]) ctlfail("me", "missing or empty, and no control/smtpgreeting");
  {
    size_t k = 0;
    while (cfg.greeting[k] && cfg.greeting[k] != ' ' && k < sizeof cfg.me - 1) { cfg.me[k] = cfg.greeting[k]; k++; }
    cfg.me[k] = 0;
  }
}

/* the recipient policy's controls (tern-smtpd.8 RECIPIENT CHECK) */
static void setup_policy(void)
{
  struct rcpt_policy *p = &cfg.policy;
  int have = readlist_ctl("rcpthosts", &cfg.rcpthosts);
  readline_ctl("localiphost", cfg.localiphost, cfg.me);
  readlist_ctl("badmailfrom", &cfg.badmailfrom);
  readlist_ctl("badrcptto", &cfg.badrcptto);
  /* locals, else me */
  if (readlist_ctl("locals", &cfg.locals) <= 0 || !cfg.locals.n) {
    size_t ml = strlen(cfg.me) + 1;
    ctl_listfree(&cfg.locals);
    cfg.locals.s = malloc(ml);
    if (!cfg.locals.s) { errno = ENOMEM; ctlfail("locals", 0); }
    memcpy(cfg.locals.s, cfg.me, ml);
    cfg.locals.len = ml;
    cfg.locals.n = 1;
  }
  readlist_ctl("virtualdomains", &cfg.vdoms);
  memset(p, 0, sizeof *p);
  p->me = cfg.me;
  p->localiphost = cfg.localiphost;
  p->have_rcpthosts = have > 0;
  p->rcpthosts = &cfg.rcpthosts;
  p->badrcptto = &cfg.badrcptto;
  p->locals = &cfg.locals;
  p->vdoms = &cfg.vdoms;
  if (readulong_ctl("rcptcheck", 1)
      && cdb_map(&cfg.rcpts, pathof("/users/", "recipients.cdb"), "../users/recipients.cdb")) {
    p->recipients = cdb_lookup;
    p->rcpts_ctx = &cfg.rcpts;
  }
  if (have > 0 && cdb_map(&cfg.mrh, path("morercpthosts.cdb"), "morercpthosts.cdb")) {
    p->morercpthosts = cdb_lookup;
    p->mrh_ctx = &cfg.mrh;
  }
}

/* ::ffff:a.b.c.d is a.b.c.d */
static const char *unmap(const char *ip)
{
  if (ip && !strncmp(ip, "::ffff:", 7) && strchr(ip + 7, '.') && !strchr(ip + 7, ':')) return ip + 7;
  return ip;
}

static void setup_client(void)
{
  const char *x = getenv("DATABYTES");
  if (x) { unsigned long v; if (scan_env_ulong(x, &v)) cfg.databytes = v; }
  x = getenv("TCPREMOTEIP");
  if (x && *x) client.remoteip = unmap(x);
  x = getenv("TCPREMOTEHOST");
  if (x && *x) client.remotehost = x;
  x = getenv("TCPLOCALIP");
  if (x && *x) client.localip = unmap(x);
  client.relayclient = getenv("RELAYCLIENT");
  client.unverified = !client_verified();
  cfg.policy.localip = client.localip;
  cfg.policy.relayclient = client.relayclient;
}

static void setup(void)
{
  setup_names();
  cfg.databytes = readulong_ctl("databytes", 26214400);  /* 25 MiB; 0 = no limit */
  cfg.maxrcpt = readulong_ctl("maxrcpt", 100);
  cfg.timeoutsmtpd = readulong_ctl("timeoutsmtpd", 1200);
  cfg.timeoutsession = readulong_ctl("timeoutsession", 3600);
  cfg.maxbadcmds = readulong_ctl("maxbadcmds", 20);
  cfg.greetdelay = readulong_ctl("greetdelay", 0);
  if (cfg.timeoutsmtpd == 0) cfg.timeoutsmtpd = 1;
  if (cfg.timeoutsession == 0) cfg.timeoutsession = 1;
  if (cfg.maxrcpt == 0) cfg.maxrcpt = 1;
  if (cfg.greetdelay > 60) cfg.greetdelay = 60;
  setup_policy();
  setup_client();
}

/* ---- the transaction ---- */
/* The one end of a transaction (RSET, HELO/EHLO, QUIT, the reply to the
   end of a message): a queue program still running is told to queue
   nothing, and the session is back to before MAIL. */
static void tx_reset(struct session *s)
{
  struct tx *t = &s->tx;
  qclient_abort(&t->q);
  t->badmailfrom = 0;
  t->envlen = t->rcptoff = 0;
  t->nrcpt = 0;
  t->firstrcpt[0] = 0;
  s->phase = phase_reset(s->phase);
}

/* room for n more envelope bytes, and the final NUL: 1, or 0 (no memory) */
static int env_room(struct tx *t, size_t n)
{
  size_t nc;
  char *p;
  if (t->envlen + n + 1 <= t->envcap) return 1;
  nc = t->envcap ? t->envcap * 2 : 4096;
  while (nc < t->envlen + n + 1) nc *= 2;
  p = realloc(t->env, nc);
  if (!p) return 0;
  t->env = p;
  t->envcap = nc;
  return 1;
}

/* "T" s "\0" to the envelope (after "F" sender "\0", written with the first) */
static int rcpt_add(struct tx *t, const char *s, size_t n)
{
  if (!t->envlen) {
    if (!env_room(t, t->from.len + 2)) return 0;
    t->env[0] = 'F';
    memcpy(t->env + 1, t->from.s, t->from.len);
    t->env[t->from.len + 1] = 0;
    t->envlen = t->rcptoff = t->from.len + 2;
  }
  if (!env_room(t, n + 2)) return 0;
  t->env[t->envlen++] = 'T';
  memcpy(t->env + t->envlen, s, n);
  t->envlen += n;
  t->env[t->envlen++] = 0;
  if (!t->nrcpt) { memcpy(t->firstrcpt, s, n); t->firstrcpt[n] = 0; }
  t->nrcpt++;
  return 1;
}

static void bad(struct session *s)
{
  if (++s->badcmds >= cfg.maxbadcmds) {
    reply("421 4.7.0 too many errors, closing connection");
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

/* ---- the message ---- */
/* Start the queue program and write the Received line: 0, or -1 (the
   transaction holds no queue program) */
static int message_start(struct session *s, int mode)
{
  struct lg l;
  struct tx *t = &s->tx;
  time_t now = time(0);
  /* the whole injection may last as long as the session may, and the end
     of the message one timeoutsmtpd more */
  unsigned long timeout = (unsigned long)(deadline > now ? deadline - now : 0) + cfg.timeoutsmtpd;
  if (qclient_open(&t->q, getenv("QMAILQUEUE"), QCLIENT_WANTID, (unsigned)timeout) < 0) return -1;
  trace_received(&l, s, &client, cfg.me, now);
  qclient_write(&t->q, l.s, l.n);
  smtp_data_init(&t->data, mode, cfg.databytes);
  return 0;
}

/* the reply to a message whose content ended with flags: 0 to queue it */
static const char *content_refusal(unsigned flags)
{
  if (flags & SMTP_D_TOOBIG) return "552 5.3.4 sorry, that message size exceeds my databytes limit";
  if (flags & (SMTP_D_BARELF | SMTP_D_BARECR))
    return "554 5.6.0 bare CR or LF in message data, lines must end in CRLF (RFC 5321 2.3.8)";
  if (flags & SMTP_D_NUL) return "554 5.6.0 NUL byte in message data";
  if (flags & SMTP_D_LONGLINE) return "554 5.6.0 message line longer than 1000 octets (RFC 5321 4.5.3.1.6)";
  if (flags & SMTP_D_HOPS) return "554 5.4.6 too many hops, this message is looping";
  return 0;
}

/* what the queue program said on fd 2 that was not its id (s6-sudo's
   errors, a filter's complaints): logged */
static void queue_said(const char *text)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: warning: ");
  lg_cats(&l, client.remoteip);
  lg_cats(&l, " the queue program said: ");
  lg_cats(&l, text);
  lg_log(&l);
}

/* reply to the end of a message; the transaction is over afterwards */
static void message_end(struct session *s)
{
  struct tx *t = &s->tx;
  const char *r = content_refusal(t->data.flags);
  char rbuf[300];
  pid_t qp = t->q.pid;
  if (!r) {
    int perm, code;
    struct lg l;
    t->env[t->envlen] = 0;   /* env_room() kept a byte for it */
    code = qclient_close(&t->q, t->env, t->envlen + 1);
    l.n = 0;
    if (code == 0) {
      lg_cats(&l, "250 2.0.0 ok ");
      lg_cats(&l, t->q.id[0] ? t->q.id : t->id);
    } else {
      const char *d = qclient_describe(&t->q, code, &perm);
      lg_cats(&l, perm ? "554 5.3.0 " : "451 4.3.0 ");
      lg_cat(&l, d, strlen(d) > 200 ? 200 : strlen(d));
    }
    if (t->q.text[0] && code != QQ_CUSTOM) queue_said(t->q.text);
    memcpy(rbuf, l.s, l.n);
    rbuf[l.n] = 0;
    r = rbuf;
  }
  trace_transaction(s, &client, r, t->data.size, qp);
  reply(r);
  tx_reset(s);
}

/* the client went away or timed out while sending content */
static void message_lost(struct session *s, ssize_t r, const char *cmd)
{
  struct lg l;
  l.n = 0;
  if (r < 0 && errno == ETIMEDOUT) {
    reply("421 4.4.2 timeout");
    flush();
    lg_cats(&l, "421 timeout in ");
  } else
    lg_cats(&l, "connection lost in ");
  lg_cats(&l, cmd);
  l.s[l.n] = 0;
  trace_transaction(s, &client, l.s, s->tx.data.size, s->tx.q.pid);
  die_quiet(EXIT_TEMP);
}

/* ---- commands: each runs only when phase_check() let it ---- */
static void sethelo(struct session *s, const struct smtp_cmd *c, int esmtp)
{
  size_t n = c->arglen > HELO_MAX ? HELO_MAX : c->arglen;
  tx_reset(s);
  memcpy(s->helo, c->arg, n);
  s->helo[n] = 0;
  s->helolen = n;
  s->esmtp = esmtp;
  s->phase = PHASE_GREETED;
}

static void do_helo(struct session *s, const struct smtp_cmd *c)
{
  sethelo(s, c, 0);
  out("250 ");
  reply(cfg.me);
}

static void do_ehlo(struct session *s, const struct smtp_cmd *c)
{
  struct lg l;
  sethelo(s, c, 1);
  out("250-");
  out(cfg.me);
  out("\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE");
  if (cfg.databytes) {
    l.n = 0;
    lg_cats(&l, " ");
    lg_ulong(&l, cfg.databytes);
    l.s[l.n] = 0;
    out(l.s);
  }
  out("\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
}

static void do_mail(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  int aerr;
  switch (smtp_parse_mail(c->arg, c->arglen, &t->from, &t->mailp, &aerr)) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    out("501 5.1.7 bad sender address: ");
    reply(addr_strerror(aerr));
    bad(s);
    return;
  case SMTP_E_PARAM: reply("555 5.5.4 unsupported MAIL parameter"); bad(s); return;
  case SMTP_E_PARAMVAL: reply("501 5.5.4 bad MAIL parameter value"); bad(s); return;
  case SMTP_E_UTF8: reply("553 5.6.7 non-ASCII address needs SMTPUTF8"); return;
  default: reply("501 5.5.4 syntax: MAIL FROM:<address>"); bad(s); return;
  }
  if (t->mailp.has_size && cfg.databytes && t->mailp.size > cfg.databytes) {
    reply("552 5.3.4 sorry, that message size exceeds my databytes limit");
    return;
  }
  if (t->from.flags & ADDR_F_UTF8 && !s->esmtp) { reply("553 5.6.7 SMTPUTF8 needs EHLO"); return; }
  s->ntrans++;
  trace_transid(t->id, time(0), getpid(), s->ntrans);
  t->badmailfrom = !(t->from.flags & ADDR_F_NULL) && rcpt_listed(&cfg.badmailfrom, &t->from);
  s->phase = PHASE_MAIL;
  reply("250 2.1.0 ok");
}

static void do_rcpt(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  struct addr a;
  int aerr, r;
  switch (smtp_parse_rcpt(c->arg, c->arglen, t->mailp.smtputf8, &a, &aerr)) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    out("501 5.1.3 bad recipient address: ");
    reply(addr_strerror(aerr));
    bad(s);
    return;
  case SMTP_E_PARAM: reply("555 5.5.4 unsupported RCPT parameter"); bad(s); return;
  case SMTP_E_UTF8: reply("553 5.6.7 non-ASCII address needs SMTPUTF8 on MAIL"); return;
  default: reply("501 5.5.4 syntax: RCPT TO:<address>"); bad(s); return;
  }
  if (t->nrcpt >= cfg.maxrcpt) { reply("452 4.5.3 too many recipients"); return; }
  r = rcpt_check(&cfg.policy, &a, t->badmailfrom);
  if (r == RCPT_E_MRH) { errno = EIO; ctlfail("morercpthosts.cdb", 0); }
  if (r == RCPT_E_CHECK) warn("unable to read users/recipients.cdb");
  if (rcpt_logwhat(r)) trace_refusal(s, &client, rcpt_logwhat(r), &a);
  if (r != RCPT_OK) { reply(rcpt_reply(r)); return; }
  if (!rcpt_add(t, a.s, a.len)) { reply("421 4.3.0 out of memory"); flush(); die_quiet(EXIT_TEMP); }
  if (s->phase == PHASE_MAIL) s->phase = PHASE_RCPT;
  reply(rcpt_reply(RCPT_OK));
}

static char dbuf[8192 + 1];

static void do_data(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  (void)c;
  if (message_start(s, SMTP_MODE_DATA) < 0) { reply("451 4.3.0 qqt failure"); return; }
  /* the 354 goes out with the first read (saferead flushes) */
  reply("354 go ahead, end with <CRLF>.<CRLF>");
  while (!t->data.done) {
    ssize_t r = buffer_feed(&bin);
    size_t used, o;
    if (r <= 0) message_lost(s, r, "DATA");
    used = smtp_data_feed(&t->data, buffer_peek(&bin), (size_t)r, dbuf, &o);
    buffer_seek(&bin, used);
    if (o && !t->data.flags) qclient_write(&t->q, dbuf, o);
  }
  message_end(s);
}

/* Read n octets of a chunk: into the message when keep is 1, else only
   swallowed (a refused chunk's octets are never commands, RFC 3030 3). */
static void bdat_read(struct session *s, uint64_t n, int keep)
{
  struct tx *t = &s->tx;
  while (n) {
    ssize_t r = buffer_feed(&bin);
    size_t k, o;
    if (r <= 0) {
      if (keep) message_lost(s, r, "BDAT");
      if (r < 0 && errno == ETIMEDOUT) { reply("421 4.4.2 timeout"); flush(); }
      die_quiet(EXIT_TEMP);
    }
    k = (size_t)r;
    if ((uint64_t)k > n) k = (size_t)n;
    if (keep) {
      smtp_data_feed(&t->data, buffer_peek(&bin), k, dbuf, &o);
      if (o && !t->data.flags) qclient_write(&t->q, dbuf, o);
    }
    buffer_seek(&bin, k);
    n -= k;
  }
}

/* BDAT's argument, parsed before the phase is checked (the chunk follows
   the command whatever the reply): 1 ok, 0 refused here. The octets of a
   refused chunk are never commands (RFC 3030 3): when its size can still
   be read they are swallowed, else the connection is closed (RFC 3030 4.1). */
static int parse_bdat(struct session *s, const struct smtp_cmd *c)
{
  uint64_t n;
  if (smtp_parse_bdat(c->arg, c->arglen, &s->tx.chunk, &s->tx.chunklast)) return 1;
  if (!smtp_bdat_count(c->arg, c->arglen, &n)) {
    reply("421 4.5.4 BDAT without a readable chunk size, closing connection");
    flush();
    warn("BDAT without a readable chunk size, closing");
    die_quiet(0);
  }
  bdat_read(s, n, 0);
  reply("501 5.5.4 syntax: BDAT octets [LAST]");
  bad(s);
  return 0;
}

/* a BDAT refused by its phase: its chunk is swallowed first */
static void refused_bdat(struct session *s) { bdat_read(s, s->tx.chunk, 0); }

static void do_bdat(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  (void)c;
  if (s->phase != PHASE_BDAT) {
    if (message_start(s, SMTP_MODE_BDAT) < 0) {
      bdat_read(s, t->chunk, 0);
      s->phase = PHASE_BDATFAIL;
      reply("451 4.3.0 qqt failure");
      return;
    }
    s->phase = PHASE_BDAT;
  }
  bdat_read(s, t->chunk, 1);
  if (!t->chunklast) {
    reply("250 2.0.0 chunk received");
    return;
  }
  smtp_data_finish(&t->data);
  message_end(s);
}

static void do_rset(struct session *s, const struct smtp_cmd *c)
{
  (void)c;
  tx_reset(s);
  reply("250 2.0.0 flushed");
}

static void do_noop(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  reply("250 2.0.0 ok");
}

static void do_quit(struct session *s, const struct smtp_cmd *c)
{
  (void)c;
  tx_reset(s);
  out("221 2.0.0 ");
  out(cfg.me);
  reply(" closing connection");
  flush();
  _exit(0);
}

static void do_vrfy(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  reply("252 2.5.2 cannot verify, send some mail and I'll try my best");
}

static void do_help(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  out("214 2.0.0 ");
  out(cfg.greeting);
  reply(" (tern-smtpd): see RFC 5321");
}

/* The commands tern-smtpd runs. phase_check() decides, in one place and
   before any of these runs, whether the command may run now; parse, when
   there is one, reads an argument that must be read whatever the phase;
   refused undoes what the command's syntax already started. */
static const struct command {
  int verb;
  void (*run)(struct session *, const struct smtp_cmd *);
  int (*parse)(struct session *, const struct smtp_cmd *);
  void (*refused)(struct session *);
} commands[] = {
  { SMTP_V_HELO, do_helo, 0, 0 },
  { SMTP_V_EHLO, do_ehlo, 0, 0 },
  { SMTP_V_MAIL, do_mail, 0, 0 },
  { SMTP_V_RCPT, do_rcpt, 0, 0 },
  { SMTP_V_DATA, do_data, 0, 0 },
  { SMTP_V_BDAT, do_bdat, parse_bdat, refused_bdat },
  { SMTP_V_RSET, do_rset, 0, 0 },
  { SMTP_V_NOOP, do_noop, 0, 0 },
  { SMTP_V_QUIT, do_quit, 0, 0 },
  { SMTP_V_VRFY, do_vrfy, 0, 0 },
  { SMTP_V_HELP, do_help, 0, 0 },
};

static void dispatch(struct session *s, const struct smtp_cmd *c)
{
  const struct command *k = 0;
  const struct phase_refusal *no;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].verb == c->verb) k = &commands[i];
  if (k && k->parse && !k->parse(s, c)) return;
  no = phase_check(c->verb, s->phase, c->arglen);
  if (!no && !k) no = phase_check(SMTP_V_UNKNOWN, s->phase, 0);
  if (no) {
    if (k && k->refused) k->refused(s);
    reply(no->reply);
    if (no->bad) bad(s);
    return;
  }
  k->run(s, c);
}

/* a client that talks before the greeting is not speaking SMTP
   (RFC 5321 4.3.1; pipelining before the greeting) */
static void greet(void)
{
  struct pollfd p;
  p.fd = 0;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, (int)cfg.greetdelay * 1000) > 0) {
    reply("554 5.5.0 SMTP protocol synchronization error (input before greeting)");
    flush();
    warn("input before greeting, closing");
    _exit(0);
  }
  out("220 ");
  out(cfg.greeting);
  reply(" ESMTP");
}

/* read one command line and run it */
static void command(struct session *s)
{
  char line[SMTP_CMD_MAX + 1];
  size_t n = 0;
  struct smtp_cmd c;
  int r = getcmd(line, &n);
  if (r == 0) die_quiet(0);
  if (r == -1) {
    if (errno == ETIMEDOUT) {
      reply("421 4.4.2 timeout, closing connection");
      flush();
      warn("timeout, closing");
    }
    die_quiet(EXIT_TEMP);
  }
  if (r == -2) { reply("500 5.5.6 line too long"); bad(s); return; }
  if (r == -3) { reply("500 5.5.2 command line ended by a bare LF, use CRLF"); bad(s); return; }
  if (!smtp_cmd_parse(line, n, &c)) { reply("500 5.5.2 bad bytes in command"); bad(s); return; }
  dispatch(s, &c);
}

int main(void)
{
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the queue for us */
  buffer_init(&bin, (ssize_t (*)())saferead, 0, inbuf, sizeof inbuf);
  buffer_init(&bout, (ssize_t (*)())safewrite, 1, outbuf, sizeof outbuf);
  deadline = time(0) + 60;   /* a 421 from setup() (unreadable controls) must get out */
  setup();
  deadline = time(0) + (time_t)cfg.timeoutsession;
  sess.phase = PHASE_START;
  greet();
  for (;;) command(&sess);
}

/* tern-smtpd: RFC 5321 server on fd 0/1, one process per connection, as
   user ternd. Reads HOME/control and HOME/users/recipients.cdb, writes each
   accepted message to the queue program and log lines to fd 2. See
   tern-smtpd.8. Edge program: libowfat + libc + common/ only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
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
#include "common/checkpw.h"
#include "common/ctl.h"
#include "common/home.h"
#include "common/filters.h"
#include "common/qclient.h"
#include "common/qqcode.h"
#include "common/ucspitls.h"
#include "smtpd/auth.h"
#include "smtpd/authfail.h"
#include "smtpd/authrun.h"
#include "smtpd/authsender.h"
#include "smtpd/client.h"
#include "smtpd/config.h"
#include "smtpd/io.h"
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

static struct session sess;

static void die_quiet(int code)
{
  qclient_abort(&sess.tx.q);
  _exit(code);
}

static void warn(const char *what) { trace_warn(&client, what); }

/* a write failed or timed out: nobody is listening any more */
static void io_failed(const char *what)
{
  warn(what);
  die_quiet(EXIT_TEMP);
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
    io_reply("421 4.7.0 too many errors, closing connection");
    io_flush();
    warn("too many bad commands, closing");
    die_quiet(0);
  }
}

/* ---- the message ---- */
/* the Delivered-To lines tern-local would write for the recipients: 0, or
   -1 without memory */
static int loop_start(struct tx *t)
{
  struct sched_ctl sc = { &cfg.locals, &cfg.vdoms, 0, cfg.me };
  size_t pos = t->rcptoff;
  dtscan_init(&t->dt);
  t->dtset.len = t->dtset.n = 0;
  while (pos < t->envlen) {
    size_t k = strlen(t->env + pos + 1);
    if (!dtscan_rcpt(&t->dtset, t->env + pos + 1, k, &sc)) return -1;
    pos += k + 2;
  }
  return 0;
}

/* content bytes for the queue (and the loop scan) */
static void content(struct tx *t, const char *s, size_t n)
{
  if (!n || t->data.flags) return;
  qclient_write(&t->q, s, n);
  dtscan_feed(&t->dt, s, n, &t->dtset);
}

/* the control/filters source of each listener */
static const int sources[] = { [L_MX] = FILTERS_SMTP, [L_SUBMISSION] = FILTERS_SUBMISSION, [L_SMTPS] = FILTERS_SMTPS };

/* what the filters learn of the session besides TCPREMOTEIP (set by
   tern-listen): TERN_LISTENER, TERN_HELO, TERN_TRANSID (the transaction
   id of the log lines), TERN_AUTHUSER (unset when the client has not
   authenticated). 0, or -1 out of memory */
static int filter_env(const struct session *s)
{
  static const char *const lnames[] = { [L_MX] = "mx", [L_SUBMISSION] = "submission", [L_SMTPS] = "smtps" };
  if (setenv("TERN_LISTENER", lnames[cfg.listener], 1) < 0 || setenv("TERN_HELO", s->helo, 1) < 0
      || setenv("TERN_TRANSID", s->tx.id, 1) < 0) return -1;
  if (s->user[0]) return setenv("TERN_AUTHUSER", s->user, 1);
  return unsetenv("TERN_AUTHUSER");
}

/* Start the queue program and write the Received line: 0, or -1 (the
   transaction holds no queue program) */
static int message_start(struct session *s, int mode)
{
  struct lg l;
  struct tx *t = &s->tx;
  time_t now = time(0);
  /* the whole injection may last as long as the session may, and the end
     of the message one timeoutsmtpd more */
  unsigned long timeout = (unsigned long)(io_deadline > now ? io_deadline - now : 0) + cfg.timeoutsmtpd;
  if (loop_start(t) < 0) return -1;
  if (filter_env(s) < 0) return -1;
  if (qclient_open_source(&t->q, sources[cfg.listener], QCLIENT_WANTID, (unsigned)timeout) < 0) return -1;
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

/* 1 if a filter's text d starts with its own enhanced status code (RFC
   3463: "5.x.y " when permanent, "4.x.y " when temporary; x and y 1 to 3
   digits), which then stands in the reply instead of 5.3.0 or 4.3.0 */
static int has_status(const char *d, int perm)
{
  size_t i = 2;
  if (d[0] != (perm ? '5' : '4') || d[1] != '.') return 0;
  for (int part = 0; part < 2; part++) {
    size_t k = 0;
    while (d[i + k] >= '0' && d[i + k] <= '9' && k < 4) k++;
    if (k < 1 || k > 3) return 0;
    i += k;
    if (d[i] != (part ? ' ' : '.')) return 0;
    i++;
  }
  return 1;
}

/* reply to the end of a message; the transaction is over afterwards */
static void message_end(struct session *s)
{
  struct tx *t = &s->tx;
  const char *r = content_refusal(t->data.flags);
  char rbuf[300];
  /* a loop tern-local would find: refused now, never bounced later */
  if (!r && t->dt.hit) r = "554 5.4.6 this message is looping: it already has a Delivered-To line of its recipient";
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
      lg_cats(&l, perm ? "554 " : "451 ");
      if (!(code == QQ_CUSTOM && has_status(d, perm))) lg_cats(&l, perm ? "5.3.0 " : "4.3.0 ");
      lg_cat(&l, d, strlen(d) > 200 ? 200 : strlen(d));
    }
    if (t->q.text[0] && code != QQ_CUSTOM) queue_said(t->q.text);
    memcpy(rbuf, l.s, l.n);
    rbuf[l.n] = 0;
    r = rbuf;
  }
  trace_transaction(s, &client, r, t->data.size, qp);
  io_reply(r);
  tx_reset(s);
}

/* the client went away or timed out while sending content */
static void message_lost(struct session *s, ssize_t r, const char *cmd)
{
  struct lg l;
  l.n = 0;
  if (r < 0 && errno == ETIMEDOUT) {
    io_reply("421 4.4.2 timeout");
    io_flush();
    lg_cats(&l, "421 timeout in ");
  } else
    lg_cats(&l, "connection lost in ");
  lg_cats(&l, cmd);
  l.s[l.n] = 0;
  trace_transaction(s, &client, l.s, s->tx.data.size, s->tx.q.pid);
  die_quiet(EXIT_TEMP);
}

/* ---- TLS (RFC 3207, RFC 8314) ---- */
static void tls_fail(const char *what)
{
  warn(what);
  die_quiet(EXIT_TEMP);
}

/* read the TLS process's one reply line into s->tlsinfo */
static void tls_reply(struct session *s)
{
  char buf[UCSPITLS_REPLY_MAX];
  size_t n = 0;
  while (!n || buf[n - 1] != '\n') {
    ssize_t r;
    if (n == sizeof buf) tls_fail("TLS control reply too long, closing");
    if (io_wait(cfg.sslctl, POLLIN) < 0) tls_fail("no TLS control reply in time, closing");
    r = read(cfg.sslctl, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) tls_fail("TLS handshake failed (no control reply), closing");
    n += (size_t)r;
  }
  if (ucspitls_parse(buf, n, &s->tlsinfo) < 0) tls_fail("bad TLS control reply, closing");
  if (!s->tlsinfo.ok) {
    char w[UCSPITLS_FIELD_MAX + 40];
    snprintf(w, sizeof w, "TLS handshake failed: %s", s->tlsinfo.reason);
    tls_fail(w);
  }
}

/* Ask the TLS process to start: 1 when it is ready for the handshake
   (UCSPITLS_READY), 0 when it cannot (its ERR line or end of file: the
   reason logged). The client has not been told to begin yet. */
static int tls_ask(void)
{
  char buf[UCSPITLS_REPLY_MAX];
  struct ucspitls_info i;
  size_t n = 0;
  ssize_t r;
  do r = write(cfg.sslctl, "Y", 1); while (r < 0 && errno == EINTR);
  if (r != 1) { warn("TLS not available (unable to write to the TLS control socket)"); return 0; }
  while (!n || (buf[0] != UCSPITLS_READY && buf[n - 1] != '\n')) {
    if (n == sizeof buf || io_wait(cfg.sslctl, POLLIN) < 0) break;
    r = read(cfg.sslctl, buf + n, n ? sizeof buf - n : 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  if (n == 1 && buf[0] == UCSPITLS_READY) return 1;
  if (n && ucspitls_parse(buf, n, &i) == 0 && !i.ok) {
    char w[UCSPITLS_FIELD_MAX + 40];
    snprintf(w, sizeof w, "TLS not available: %s", i.reason);
    warn(w);
  } else warn("TLS not available (no answer from the TLS process)");
  return 0;
}

/* TLS will not come: STARTTLS is no longer offered in this session */
static void tls_off(void)
{
  close(cfg.sslctl);
  if (cfg.sslread > 2) close(cfg.sslread);
  if (cfg.sslwrite > 2 && cfg.sslwrite != cfg.sslread) close(cfg.sslwrite);
  cfg.sslctl = cfg.sslread = cfg.sslwrite = -1;
}

/* Ask the TLS process for the handshake and then talk through it. Every
   byte read but not yet used is dropped (nothing sent before the handshake
   is answered inside TLS: RFC 3207 4.2) and the session is as right after
   the greeting: no HELO, no transaction, no AUTH. */
static void tls_start(struct session *s)
{
  tls_reply(s);
  if (dup2(cfg.sslread, 0) < 0 || dup2(cfg.sslwrite, 1) < 0) tls_fail("unable to switch to TLS, closing");
  if (cfg.sslread > 2) close(cfg.sslread);
  if (cfg.sslwrite > 2 && cfg.sslwrite != cfg.sslread) close(cfg.sslwrite);
  close(cfg.sslctl);
  io_init();
  tx_reset(s);
  s->phase = PHASE_START;
  s->esmtp = 0;
  s->helo[0] = 0;
  s->helolen = 0;
  s->user[0] = 0;
  cfg.policy.relayclient = client.relayclient;
  s->tls = 1;
  trace_tls(s, &client);
}

static int can_starttls(const struct session *s)
{
  return cfg.sslctl >= 0 && !s->tls && cfg.listener != L_SMTPS;
}

/* ---- AUTH (RFC 4954) ---- */
/* may AUTH run without TLS? only for the addresses in control/authplaintext */
static int plain_ok(void)
{
  const char *e;
  size_t pos = 0;
  if (client.unverified) return 0;
  while ((e = ctl_listnext(&cfg.authplain, &pos)))
    if (!strcmp(e, client.remoteip)) return 1;
  return 0;
}

static int auth_offered(const struct session *s)
{
  return cfg.authargv[0] && (s->tls || plain_ok());
}

/* one response to a 334 challenge (base64 text), decoded into out: its
   length, AUTH_CANCEL or AUTH_SYNTAX */
static long auth_answer(const char *challenge, char *out)
{
  static char line[AUTH_RESPONSE_MAX + 2];
  size_t n = 0;
  long m;
  int r;
  io_out("334 ");
  io_reply(challenge);
  r = io_getline(line, sizeof line, &n);
  if (r == 0) die_quiet(0);
  if (r == -1) {
    if (errno == ETIMEDOUT) { io_reply("421 4.4.2 timeout, closing connection"); io_flush(); }
    die_quiet(EXIT_TEMP);
  }
  if (r < 0) return AUTH_SYNTAX;
  m = auth_response(line, n, out);
  explicit_bzero(line, n);   /* a password, base64-encoded */
  return m;
}

/* the user and password of mechanism mech: 0, or AUTH_CANCEL,
   AUTH_SYNTAX, AUTH_AUTHZID */
static int auth_read(int mech, const char *ir, size_t irlen, char *user, char *pass)
{
  char dec[AUTH_DECODED_MAX];
  long m;
  int r;
  if (mech == AUTH_PLAIN) {
    m = irlen ? auth_response(ir, irlen, dec) : auth_answer("", dec);
    r = m < 0 ? (int)m : auth_plain(dec, (size_t)m, user, pass);
  } else {
    m = irlen ? auth_response(ir, irlen, dec) : auth_answer("VXNlcm5hbWU6", dec);   /* "Username:" */
    r = m < 0 ? (int)m : auth_login_field(dec, (size_t)m, user, CHECKPW_USER_MAX, 1);
    if (!r) {
      m = auth_answer("UGFzc3dvcmQ6", dec);   /* "Password:" */
      r = m < 0 ? (int)m : auth_login_field(dec, (size_t)m, pass, CHECKPW_PASS_MAX, 0);
    }
  }
  explicit_bzero(dec, sizeof dec);
  return r;
}

/* the 421 that ends a session from an address with too many failures */
static void auth_blocked(struct session *s, const char *user, const char *mech)
{
  const char *r = "421 4.7.0 too many failed authentications from your address, closing connection";
  trace_auth(s, &client, user, mech, r);
  io_reply(r);
  io_flush();
  die_quiet(0);
}

/* a wrong user or password: counted (or already counted before the
   check: *pre), delayed, answered (or 421) */
static void auth_failed(struct session *s, const char *user, const char *mech, const struct authfail *pre)
{
  struct authfail f;
  const char *r = "535 5.7.8 authentication credentials invalid";
  if (pre) f = *pre;
  else authfail_add(cfg.faildir, client.remoteip, user, cfg.authfailwindow, &f);
  if (f.ip >= cfg.authfailmax) auth_blocked(s, user, mech);
  trace_auth(s, &client, user, mech, r);
  io_flush();
  sleep((unsigned)authfail_delay(&f, cfg.authfaildelay));
  io_reply(r);
}

/* ask the checker about user and pass: the reply */
static void auth_check(struct session *s, const char *user, const char *pass, const char *mech)
{
  char req[CHECKPW_REQ_MAX], stamp[CHECKPW_STAMP_MAX + 1];
  struct authfail f;
  size_t n;
  int r;
  /* the attempt counts before the checker runs (under the count's lock),
     and is taken back when it succeeds or fails temporarily: sessions
     from one address in parallel cannot all pass the check in do_auth
     and then have more passwords tried than control/authfailmax */
  authfail_add(cfg.faildir, client.remoteip, user, cfg.authfailwindow, &f);
  if (f.ip > cfg.authfailmax) auth_blocked(s, user, mech);
  snprintf(stamp, sizeof stamp, "<%ld.%ld@tern-smtpd>", (long)getpid(), (long)time(0));
  n = checkpw_format(req, user, strlen(user), pass, strlen(pass), stamp);
  r = n ? authrun(cfg.authargv, req, n, (unsigned)cfg.timeoutauth) : CHECKPW_BAD;
  explicit_bzero(req, sizeof req);
  if (r == CHECKPW_BAD) { auth_failed(s, user, mech, &f); return; }
  authfail_undo(cfg.faildir, client.remoteip, user, cfg.authfailwindow);
  if (r != CHECKPW_OK) {
    const char *t = "454 4.7.0 temporary authentication failure";
    trace_auth(s, &client, user, mech, t);
    io_reply(t);
    return;
  }
  memcpy(s->user, user, strlen(user) + 1);
  if (!cfg.policy.relayclient) cfg.policy.relayclient = "";   /* an authenticated client may relay */
  authfail_clear(cfg.faildir, user);
  trace_auth(s, &client, user, mech, "235 2.7.0 authentication successful");
  io_reply("235 2.7.0 authentication successful");
}

static void do_auth(struct session *s, const struct smtp_cmd *c)
{
  char user[CHECKPW_USER_MAX + 1], pass[CHECKPW_PASS_MAX + 1];
  const char *ir, *mech;
  size_t irlen;
  struct authfail f;
  int m, r;
  if (!cfg.authargv[0]) { io_reply("502 5.5.1 AUTH not available"); bad(s); return; }
  if (!auth_offered(s)) { io_reply("530 5.7.0 must issue a STARTTLS command first"); bad(s); return; }
  if (s->user[0]) { io_reply("503 5.5.1 already authenticated"); bad(s); return; }
  m = auth_command(c->arg, c->arglen, &ir, &irlen);
  if (m == AUTH_UNKNOWN) { io_reply("504 5.5.4 unrecognized authentication mechanism"); bad(s); return; }
  if (m < 0) { io_reply("501 5.5.2 syntax: AUTH mechanism [initial-response]"); bad(s); return; }
  mech = m == AUTH_PLAIN ? "PLAIN" : "LOGIN";
  authfail_get(cfg.faildir, client.remoteip, 0, cfg.authfailwindow, &f);
  if (f.ip >= cfg.authfailmax) auth_blocked(s, "-", mech);
  user[0] = pass[0] = 0;
  r = auth_read(m, ir, irlen, user, pass);
  if (r == AUTH_CANCEL) io_reply("501 5.0.0 authentication cancelled");
  else if (r == AUTH_SYNTAX) { io_reply("501 5.5.2 cannot decode the response"); bad(s); }
  else if (r == AUTH_AUTHZID) auth_failed(s, user, mech, 0);
  else auth_check(s, user, pass, mech);
  explicit_bzero(pass, sizeof pass);
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
  io_out("250 ");
  io_reply(cfg.me);
}

static void do_ehlo(struct session *s, const struct smtp_cmd *c)
{
  struct lg l;
  sethelo(s, c, 1);
  io_out("250-");
  io_out(cfg.me);
  io_out("\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE");
  if (cfg.databytes) {
    l.n = 0;
    lg_cats(&l, " ");
    lg_ulong(&l, cfg.databytes);
    l.s[l.n] = 0;
    io_out(l.s);
  }
  io_out("\r\n");
  if (can_starttls(s)) io_out("250-STARTTLS\r\n");
  if (auth_offered(s)) io_out("250-AUTH PLAIN LOGIN\r\n");
  io_out("250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
}

static void do_mail(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  int aerr;
  /* submission (RFC 6409 4.3, RFC 8314): TLS, then AUTH, then MAIL */
  if (cfg.listener == L_SUBMISSION && !s->tls && !plain_ok()) {
    io_reply("530 5.7.0 must issue a STARTTLS command first");
    return;
  }
  if (cfg.listener == L_SUBMISSION && !s->user[0]) { io_reply("530 5.7.0 authentication required"); return; }
  switch (smtp_parse_mail(c->arg, c->arglen, &t->from, &t->mailp, &aerr)) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    io_out("501 5.1.7 bad sender address: ");
    io_reply(addr_strerror(aerr));
    bad(s);
    return;
  case SMTP_E_PARAM: io_reply("555 5.5.4 unsupported MAIL parameter"); bad(s); return;
  case SMTP_E_PARAMVAL: io_reply("501 5.5.4 bad MAIL parameter value"); bad(s); return;
  case SMTP_E_UTF8: io_reply("553 5.6.7 non-ASCII address needs SMTPUTF8"); return;
  default: io_reply("501 5.5.4 syntax: MAIL FROM:<address>"); bad(s); return;
  }
  if (t->mailp.has_size && cfg.databytes && t->mailp.size > cfg.databytes) {
    io_reply("552 5.3.4 sorry, that message size exceeds my databytes limit");
    return;
  }
  if (t->from.flags & ADDR_F_UTF8 && !s->esmtp) { io_reply("553 5.6.7 SMTPUTF8 needs EHLO"); return; }
  if (s->user[0] && !authsender_ok(&cfg.authsenders, &cfg.locals, s->user, t->from.s, t->from.len)) {
    trace_refusal(s, &client, "sender not owned by the AUTH user", &t->from);
    io_reply("553 5.7.1 sender address not owned by the authenticated user");
    return;
  }
  s->ntrans++;
  trace_transid(t->id, time(0), getpid(), s->ntrans);
  t->badmailfrom = !(t->from.flags & ADDR_F_NULL) && rcpt_listed(&cfg.badmailfrom, &t->from);
  s->phase = PHASE_MAIL;
  io_reply("250 2.1.0 ok");
}

static void do_rcpt(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  struct addr a;
  int aerr, r;
  switch (smtp_parse_rcpt(c->arg, c->arglen, t->mailp.smtputf8, &a, &aerr)) {
  case SMTP_OK: break;
  case SMTP_E_ADDR:
    io_out("501 5.1.3 bad recipient address: ");
    io_reply(addr_strerror(aerr));
    bad(s);
    return;
  case SMTP_E_PARAM: io_reply("555 5.5.4 unsupported RCPT parameter"); bad(s); return;
  case SMTP_E_UTF8: io_reply("553 5.6.7 non-ASCII address needs SMTPUTF8 on MAIL"); return;
  default: io_reply("501 5.5.4 syntax: RCPT TO:<address>"); bad(s); return;
  }
  if (t->nrcpt >= cfg.maxrcpt) { io_reply("452 4.5.3 too many recipients"); return; }
  r = rcpt_check(&cfg.policy, &a, t->badmailfrom);
  if (r == RCPT_E_MRH) { errno = EIO; ctlfail("morercpthosts.cdb", 0); }
  if (r == RCPT_E_CHECK) warn("unable to read users/recipients.cdb");
  if (rcpt_logwhat(r)) trace_refusal(s, &client, rcpt_logwhat(r), &a);
  if (r != RCPT_OK) { io_reply(rcpt_reply(r)); return; }
  if (!rcpt_add(t, a.s, a.len)) { io_reply("421 4.3.0 out of memory"); io_flush(); die_quiet(EXIT_TEMP); }
  if (s->phase == PHASE_MAIL) s->phase = PHASE_RCPT;
  io_reply(rcpt_reply(RCPT_OK));
}

static char dbuf[8192 + 1];

static void do_data(struct session *s, const struct smtp_cmd *c)
{
  struct tx *t = &s->tx;
  (void)c;
  if (message_start(s, SMTP_MODE_DATA) < 0) { io_reply("451 4.3.0 qqt failure"); return; }
  /* the 354 goes out with the first read (saferead flushes) */
  io_reply("354 go ahead, end with <CRLF>.<CRLF>");
  while (!t->data.done) {
    ssize_t r = buffer_feed(&io_bin);
    size_t used, o;
    if (r <= 0) message_lost(s, r, "DATA");
    used = smtp_data_feed(&t->data, buffer_peek(&io_bin), (size_t)r, dbuf, &o);
    buffer_seek(&io_bin, used);
    content(t, dbuf, o);
  }
  message_end(s);
}

/* Read n octets of a chunk: into the message when keep is 1, else only
   swallowed (a refused chunk's octets are never commands, RFC 3030 3). */
static void bdat_read(struct session *s, uint64_t n, int keep)
{
  struct tx *t = &s->tx;
  while (n) {
    ssize_t r = buffer_feed(&io_bin);
    size_t k, o;
    if (r <= 0) {
      if (keep) message_lost(s, r, "BDAT");
      if (r < 0 && errno == ETIMEDOUT) { io_reply("421 4.4.2 timeout"); io_flush(); }
      die_quiet(EXIT_TEMP);
    }
    k = (size_t)r;
    if ((uint64_t)k > n) k = (size_t)n;
    if (keep) {
      smtp_data_feed(&t->data, buffer_peek(&io_bin), k, dbuf, &o);
      content(t, dbuf, o);
    }
    buffer_seek(&io_bin, k);
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
    io_reply("421 4.5.4 BDAT without a readable chunk size, closing connection");
    io_flush();
    warn("BDAT without a readable chunk size, closing");
    die_quiet(0);
  }
  bdat_read(s, n, 0);
  io_reply("501 5.5.4 syntax: BDAT octets [LAST]");
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
      io_reply("451 4.3.0 qqt failure");
      return;
    }
    s->phase = PHASE_BDAT;
  }
  bdat_read(s, t->chunk, 1);
  if (!t->chunklast) {
    io_reply("250 2.0.0 chunk received");
    return;
  }
  smtp_data_finish(&t->data);
  message_end(s);
}

static void do_starttls(struct session *s, const struct smtp_cmd *c)
{
  (void)c;
  if (s->tls) { io_reply("503 5.5.1 TLS already active"); bad(s); return; }
  if (!can_starttls(s)) { io_reply("502 5.5.1 STARTTLS not available"); bad(s); return; }
  if (!tls_ask()) { tls_off(); io_reply("454 4.7.0 TLS not available due to temporary reason"); return; }
  io_reply("220 2.0.0 ready to start TLS");
  io_flush();
  tls_start(s);
}

static void do_rset(struct session *s, const struct smtp_cmd *c)
{
  (void)c;
  tx_reset(s);
  io_reply("250 2.0.0 flushed");
}

static void do_noop(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  io_reply("250 2.0.0 ok");
}

static void do_quit(struct session *s, const struct smtp_cmd *c)
{
  (void)c;
  tx_reset(s);
  io_out("221 2.0.0 ");
  io_out(cfg.me);
  io_reply(" closing connection");
  io_flush();
  _exit(0);
}

static void do_vrfy(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  io_reply("252 2.5.2 cannot verify, send some mail and I'll try my best");
}

static void do_help(struct session *s, const struct smtp_cmd *c)
{
  (void)s; (void)c;
  io_out("214 2.0.0 ");
  io_out(cfg.greeting);
  io_reply(" (tern-smtpd): see RFC 5321");
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
  { SMTP_V_STARTTLS, do_starttls, 0, 0 },
  { SMTP_V_AUTH, do_auth, 0, 0 },
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
    io_reply(no->reply);
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
    io_reply("554 5.5.0 SMTP protocol synchronization error (input before greeting)");
    io_flush();
    warn("input before greeting, closing");
    _exit(0);
  }
  io_out("220 ");
  io_out(cfg.greeting);
  io_reply(" ESMTP");
}

/* read one command line and run it */
static void command(struct session *s)
{
  char line[SMTP_CMD_MAX + 1];
  size_t n = 0;
  struct smtp_cmd c;
  int r = io_getline(line, SMTP_CMD_MAX, &n);
  if (r == 0) die_quiet(0);
  if (r == -1) {
    if (errno == ETIMEDOUT) {
      io_reply("421 4.4.2 timeout, closing connection");
      io_flush();
      warn("timeout, closing");
    }
    die_quiet(EXIT_TEMP);
  }
  if (r == -2) { io_reply("500 5.5.6 line too long"); bad(s); return; }
  if (r == -3) { io_reply("500 5.5.2 command line ended by a bare LF, use CRLF"); bad(s); return; }
  if (!smtp_cmd_parse(line, n, &c)) { io_reply("500 5.5.2 bad bytes in command"); bad(s); return; }
  dispatch(s, &c);
}

int main(void)
{
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the queue for us */
  io_fail = io_failed;
  io_timeout = 60;
  io_init();
  io_deadline = time(0) + 60;   /* a 421 from setup() (unreadable controls) must get out */
  config_setup();
  io_deadline = time(0) + (time_t)cfg.timeoutsession;
  io_timeout = cfg.timeoutsmtpd;
  sess.phase = PHASE_START;
  if (cfg.listener == L_SMTPS) {   /* RFC 8314 3.3: TLS first */
    if (!tls_ask()) die_quiet(EXIT_TEMP);   /* no TLS, no session on 465 (logged) */
    tls_start(&sess);
  }
  greet();
  for (;;) command(&sess);
}

/* tern-remote: deliver one message to the recipients at one domain over SMTP.
   Runs as ternr, started by tern-rspawn; edge program (libowfat for DNS and
   sockets, never skalibs). Reports on fd 1 in qmail-remote's format and
   always exits 0. See tern-remote.8.
   This file: arguments, control files, reports, the message scan and the
   SMTP dialogue (one connection in phases: greeting, EHLO, STARTTLS,
   envelope, body, QUIT). Where to connect: remote-route.c; the reply
   parser: remote-reply.c; the timeout table: remote-tcpto.c; the TLS
   policy file: remote-tlspol.c; tern-tlsc, which does TLS in a process of
   its own: remote-tls.c; DANE: remote-dane.c, remote-dns.c; relay
   credentials: remote-auth.c; the message's measure: remote-msg.c; the
   connection's I/O: remote-conn.c; report texts: remote-text.c; MTA-STS:
   remote-mtasts.c, mtasts.c; the TLS-RPT record: remote-rptlog.c. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "socket.h"
#include "ip4.h"
#include "ip6.h"

#include "common/addr.h"
#include "common/base64.h"
#include "common/ctl.h"
#include "common/home.h"
#include "send/remote-auth.h"
#include "send/remote-conn.h"
#include "send/remote-dane.h"
#include "send/remote-msg.h"
#include "send/remote-mtasts.h"
#include "send/remote-reply.h"
#include "send/remote-rptlog.h"
#include "send/remote-route.h"
#include "send/remote-tcpto.h"
#include "send/remote-text.h"
#include "send/remote-tls.h"
#include "send/remote-tlspol.h"

#define RCPT_MAX 1000            /* recipients per invocation */

/* ---------- reports (qmail-remote(8) format; texts: remote-text.c) ---------- */

static int nrcpt;
static const char **rcpt;
static const char *sender;
static char *rletter;            /* 'r', 'h', 's' or 0 (no report) */
static struct txt *rtext;

static void writeall(const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(1, s, n);
    if (w < 0) { if (errno == EINTR) continue; _exit(0); }
    s += w; n -= (size_t)w;
  }
}

/* write every recipient report that exists, then the message report; exit 0 */
static void finish(char letter, const struct txt *t)
{
  for (int i = 0; i < nrcpt; i++) {
    if (!rletter[i]) continue;
    writeall(&rletter[i], 1);
    writeall(rtext[i].s, rtext[i].n + 1);
  }
  writeall(&letter, 1);
  writeall(t->s, t->n + 1);
  _exit(0);
}
static void finish1(char letter, const char *s)
{
  static struct txt t;
  t.n = 0; t.s[0] = 0;
  tcat(&t, s);
  finish(letter, &t);
}

/* ---------- control files ---------- */

static char helohost[CTL_LINE_MAX];
unsigned long timeoutconnect = 60, timeoutremote = 1200;   /* send/remote-conn.h */
char outip[16];
int haveoutip;
static unsigned long timeoutdns = 120;
static struct ctl_list routes = CTL_LIST_ZERO, moreipme = CTL_LIST_ZERO, notipme = CTL_LIST_ZERO;
static int family;               /* 0 any, 4 IPv4 only, 6 IPv6 only */
static struct ctl_list tlsfile = CTL_LIST_ZERO;
static char cafile[CTL_LINE_MAX] = "/etc/ssl/certs/ca-certificates.crt";
static char probename[CTL_LINE_MAX] = "org";   /* control/dnssecprobe; "" no probe */

static void ctlfail(const char *fn)
{
  static struct txt t;
  tcat(&t, "Unable to read control/"); tcat(&t, fn); tcat(&t, ". (#4.3.0)");
  finish('Z', &t);
}

static void ctlulong(const char *fn, unsigned long *v, unsigned long def, unsigned long min)
{
  char path[64] = "control/";
  strcat(path, fn);
  if (ctl_readulong(path, v, def) < 0 || *v < min) ctlfail(fn);
}

static void readcontrols(void)
{
  size_t len;
  char buf[CTL_LINE_MAX];
  int r = ctl_readline("control/helohost", helohost, sizeof helohost, &len);
  if (r < 0) ctlfail("helohost");
  if (r != 1 || !len) {
    /* qmail-remote: helohost, else me; with neither every delivery defers
       (never a made-up name like "localhost") */
    r = ctl_readline("control/me", helohost, sizeof helohost, &len);
    if (r < 0) ctlfail("me");
    if (r != 1 || !len) ctlfail("helohost or control/me (both missing or empty)");
  }
  ctlulong("timeoutconnect", &timeoutconnect, 60, 1);
  ctlulong("timeoutremote", &timeoutremote, 1200, 1);
  ctlulong("timeoutdns", &timeoutdns, 120, 1);
  r = ctl_readline("control/outgoingip", buf, sizeof buf, &len);
  if (r < 0) ctlfail("outgoingip");
  if (r && len) { if (!route_scanip(buf, outip)) ctlfail("outgoingip"); haveoutip = 1; }
  r = ctl_readline("control/remotefamily", buf, sizeof buf, &len);
  if (r < 0) ctlfail("remotefamily");
  if (r && len) {
    if (!strcmp(buf, "ipv4")) family = 4;
    else if (!strcmp(buf, "ipv6")) family = 6;
    else if (strcmp(buf, "any")) ctlfail("remotefamily");
  }
  /* control/dnscacheip: the resolver for a service started with env - */
  if (!getenv("DNSCACHEIP")) {
    r = ctl_readline("control/dnscacheip", buf, sizeof buf, &len);
    if (r < 0 || (r && (len > 255 || strspn(buf, "0123456789abcdefABCDEF:. ") != len))) ctlfail("dnscacheip");
    if (r && len && setenv("DNSCACHEIP", buf, 1) == -1) ctlfail("dnscacheip");
  }
  if (ctl_readlist("control/smtproutes", &routes) < 0) ctlfail("smtproutes");
  if (ctl_readlist("control/moreipme", &moreipme) < 0) ctlfail("moreipme");
  if (ctl_readlist("control/notipme", &notipme) < 0) ctlfail("notipme");
  if (ctl_readlist("control/tlspolicy", &tlsfile) < 0) ctlfail("tlspolicy");
  r = ctl_readline("control/dnssecprobe", buf, sizeof buf, &len);
  if (r < 0 || (r && (len > 253 || strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len)))
    ctlfail("dnssecprobe");
  if (r) memcpy(probename, buf, len + 1);
  r = ctl_readline("control/tlscafile", buf, sizeof buf, &len);
  if (r < 0) ctlfail("tlscafile");
  if (r && len) memcpy(cafile, buf, len + 1);
}

/* ---------- the message on fd 0 ---------- */

static struct msgscan msg;       /* send/remote-msg.c */
static off_t msgstart;           /* fd 0's offset at start-up: the queue file is positioned at its message */

static void scanmessage(void)
{
  char buf[8192];
  size_t line = 0;
  int cr = 0;
  if ((msgstart = lseek(0, 0, SEEK_CUR)) < 0) finish1('Z', "Unable to rewind the message (fd 0 must be a file). (#4.3.0)");
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; finish1('Z', "Unable to read message. (#4.3.0)"); }
    if (!r) break;
    msg_feed(&msg, buf, (size_t)r, &cr, &line);
  }
  msg_end(&msg, cr, line);
  if (lseek(0, msgstart, SEEK_SET) != msgstart) finish1('Z', "Unable to rewind the message (fd 0 must be a file). (#4.3.0)");
}

/* ---------- where to connect (send/remote-route.c) ---------- */

static struct route_target tg[ROUTE_TARGET_MAX];
static int ntg;
static char host[ADDR_DOMAIN_MAX + 1];

static void lower(char *s) { for (; *s; s++) if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32); }

static void route(void)
{
  static struct route_fail f;
  struct route_ctl rc = { &routes, &moreipme, &notipme, family, timeoutdns };
  ntg = route_targets(host, &rc, tg, &f);
  if (ntg == -1) finish1(f.letter, f.text);
}

/* ---------- one SMTP connection ---------- */

static struct route_target *cur;
static int tcptofd = -1;
static struct tlspol pol;        /* control/tlspolicy for host */
static struct rtls tlsc = { 0, -1, -1, { 0 } };
static int netfd = -1;           /* the socket while c.fd is tern-tlsc's channel */
static int nogo;                 /* 1: the handshake failed under may: next connection in plaintext */
static struct txt nogowhy;       /* why, for the delivery line */
static char dnsip[16];           /* the validating resolver, for DANE */
static int mxsecure;             /* DANE: the MX RRset is validated (or a configured relay) */
static struct dane dn;           /* DANE: the TLSA records of dnname */
static char dnname[ADDR_DOMAIN_MAX + 1];
static uint16_t dnport;
static int curlvl;               /* the level for cur (danelevel) */
static struct rmts sts;          /* MTA-STS: the domain's policy (mode none: no policy) */
static enum mtasts_mode cursts;  /* the mode for cur: none where DANE or control/tlspolicy rules */
static int stsmiss;              /* cur is not in the policy's mx list */
static int dfltdane;             /* no control/tlspolicy line: dane, as the resolver validates */
static char myip[IP6_FMT];       /* our address on the connection, for TLS-RPT */

static void fmtip(struct txt *t, const struct route_target *x)
{
  char b[IP6_FMT];
  size_t n = ip6_isv4mapped(x->ip) ? fmt_ip4(b, x->ip + 12) : fmt_ip6(b, x->ip);
  tcatb(t, b, n);
}

/* "Remote host said: ..." with the reply text, or what went wrong */
static void said(struct txt *t, int code)
{
  if (code >= 200) {
    tcat(t, "Remote host said: ");
    tcatb(t, rep.text, rep.textlen);
    if (rep.truncated) tcat(t, " [...]");
  } else if (code == R_EOF) tcat(t, "The connection was closed.");
  else if (code == R_BAD) { tcat(t, "It sent a malformed reply: "); tcat(t, reply_strerror(rep.err)); tcat(t, "."); }
  else if (errno == ETIMEDOUT) tcat(t, "Timed out.");
  else { tcat(t, "I/O error: "); tcat(t, strerror(errno)); tcat(t, "."); }
}

/* " (#c.x.y)": the enhanced status code (RFC 3463) at the start of the
   server's reply text if it has class c, else c.0.0; c from the result */
static void status(struct txt *t, char cls)
{
  const char *p = rep.text + 4, *e = rep.text + rep.textlen;
  size_t n = 0;
  if (rep.textlen > 4 && rep.text[3] == ' ' && *p == cls && p + 1 < e && p[1] == '.') {
    const char *q = p + 2;
    int parts = 0;
    while (parts < 2) {
      size_t d = 0;
      while (q < e && *q >= '0' && *q <= '9' && d < 4) { q++; d++; }
      if (!d || d > 3) break;
      parts++;
      if (parts == 1) { if (q < e && *q == '.') q++; else break; }
    }
    if (parts == 2 && (q == e || *q == ' ' || *q == '\n')) n = (size_t)(q - p);
  }
  tcat(t, " (#");
  if (n) tcatb(t, p, n);
  else { tcatb(t, &cls, 1); tcat(t, ".0.0"); }
  tcat(t, ")");
}

static void hostip(struct txt *t)
{
  tcatsafe(t, cur->name); tcat(t, "[");
  fmtip(t, cur);
  tcat(t, "]");
}

/* QUIT (not after a failed handshake: the stream is no SMTP any more),
   then close the connection and end tern-tlsc */
static void quit(int sendquit)
{
  c.outlen = 0;
  if (sendquit) { (void)puts_("QUIT\r\n"); (void)flush(); }
  if (c.fd != tlsc.data) close(c.fd);
  c.fd = -1;
  if (netfd >= 0) close(netfd);
  netfd = -1;
  rtls_end(&tlsc);
}

/* TLS-RPT (RFC 8460): one session's outcome for the policy domain host,
   appended to HOME/tlsrpt (send/remote-rptlog.h; no directory, no
   record). Relays from control/smtproutes and address literals are no
   policy domain's: nothing is recorded for them. */
static void rptnote(const char *result, const char *info)
{
  static struct rptlog r;
  static struct txt ip;
  int tlsa = cur && mxsecure && !strcmp(dnname, cur->name) && dnport == cur->port && dn.state != DANE_NONE;
  if (!result || (cur && cur->routed) || host[0] == '[') return;
  memset(&r, 0, sizeof r);
  ip.n = 0; ip.s[0] = 0;
  if (cur) fmtip(&ip, cur);
  r.time = (long long)time(0);
  strcpy(r.ptype, tlsa ? "tlsa" : cursts ? "sts" : "no-policy-found");
  if (!tlsa && cursts) rptlog_sts(r.policy, &sts.pol);   /* the MTA-STS policy applied */
  memcpy(r.domain, host, strlen(host) + 1);
  if (cur) memcpy(r.mx, cur->name, strlen(cur->name) + 1);
  strncpy(r.result, result, RPTLOG_WORD_MAX);
  if (cur) memcpy(r.sendip, myip, sizeof myip);
  memcpy(r.rcvip, ip.s, ip.n + 1 > sizeof r.rcvip ? sizeof r.rcvip - 1 : ip.n + 1);
  if (info) strncpy(r.info, info, RPTLOG_INFO_MAX);
  (void)rptlog_append(RPTLOG_DIR, &r);
}

/* ---------- the SMTP dialogue, in phases ---------- */

/* One connection goes through these in order; each phase's function
   returns the next one. Every way out, success or failure, goes through
   P_QUIT, which sends QUIT and then either writes the result and exits
   (session.letter set) or returns so that main tries the next address
   (why set). */
enum phase {
  P_GREETING,   /* the server's 2xx greeting */
  P_EHLO,       /* EHLO, else HELO: what the server offers */
  P_STARTTLS,   /* STARTTLS (RFC 3207) as control/tlspolicy says; then EHLO again */
  P_AUTH,       /* AUTH PLAIN or LOGIN to a relay with credentials, in verified TLS only */
  P_ENVELOPE,   /* MAIL and RCPT, pipelined with DATA when offered (RFC 2920) */
  P_BODY,       /* DATA's 354, the message, the reply to the final dot */
  P_QUIT        /* QUIT, then the result or the next address */
};

struct session {
  struct ehlo e;          /* what EHLO offered; all zero after HELO */
  int sutf8;              /* MAIL gets SMTPUTF8 */
  int idx[RCPT_MAX];      /* the recipients sent (indices into rcpt) */
  int nidx;
  int accepted;           /* RCPTs answered 2xx */
  int datacode;           /* the reply to a pipelined DATA, else 0 */
  int lvl;                /* the policy for this connection; dane and dane-only
                             resolved by the TLSA records (TLSPOL_DANE: DANE
                             authentication required); -1 the lookup failed,
                             -2 dane-only without validated TLSA */
  int tlson;              /* TLS is up: tls says how */
  struct ucspitls_info tls;
  const char *notls;      /* without TLS: why */
  int noquit;             /* the handshake failed: no QUIT */
  const char *rpt;        /* TLS-RPT: success or a result-type; 0 nothing to record */
  const char *rptinfo;    /* and what went wrong */
  char letter;            /* the result for P_QUIT: K, Z or D; 0 next address */
  struct txt t;           /* its text */
};

/* the connection failed before the message was handed over: why, and on to the next address */
static struct txt why;
static enum phase next(const char *stage, int code)
{
  why.n = 0; why.s[0] = 0;
  tcat(&why, "Connected to "); hostip(&why); tcat(&why, " but "); tcat(&why, stage); tcat(&why, ".\n");
  said(&why, code);
  return P_QUIT;
}

/* the final result for the message: its letter; the caller writes its text */
static struct txt *ending(struct session *s, char letter)
{
  s->letter = letter;
  s->t.n = 0; s->t.s[0] = 0;
  return &s->t;
}

/* whether the connection was in TLS, how, and how the peer was verified */
static void tlsnote(struct txt *t, const struct session *s)
{
  int ca = s->tlson && !strcmp(s->tls.peer, "CA");
  if (!s->tlson) { tcat(t, "No TLS: "); tcat(t, s->notls ? s->notls : "STARTTLS not offered"); }
  else {
    tcat(t, "TLS: "); tcat(t, s->tls.protocol); tcat(t, " "); tcat(t, s->tls.cipher); tcat(t, " ");
    tcatu(t, s->tls.bits); tcat(t, " bits, ");
    if (!strcmp(s->tls.peer, "none") || !s->tls.peer[0]) tcat(t, "peer not verified");
    else { tcat(t, "peer verified by "); tcat(t, cursts && ca ? "MTA-STS" : s->tls.peer); }
    if (s->tls.note[0]) { tcat(t, " ("); tcat(t, s->tls.note); tcat(t, ")"); }
  }
  tcat(t, "; policy ");
  if (cursts) { tcat(t, "MTA-STS "); tcat(t, mtasts_mode_name(cursts)); }
  else tcat(t, tlspol_name(pol.level));
  tcat(t, dfltdane && !cursts ? " (default: the resolver validates)." : ".");
  if (cursts == MTASTS_TESTING && (!ca || stsmiss)) {   /* RFC 8461 5: testing only reports */
    tcat(t, " MTA-STS testing for "); tcatsafe(t, host); tcat(t, ": enforce would have deferred: ");
    tcat(t, stsmiss ? "the MX host is not in the policy" : !s->tlson ? "no TLS" : "the certificate did not verify");
    tcat(t, ".");
  } else if (sts.warn) { tcat(t, " MTA-STS for "); tcatsafe(t, host); tcat(t, ": "); tcat(t, sts.note); tcat(t, "."); }
}

/* a final result after a reply: the host, what happened, TLS, what it said */
static enum phase result(struct session *s, char letter, const char *what, int code, const char *stat)
{
  struct txt *t = ending(s, letter);
  hostip(t); tcat(t, " "); tcat(t, what); tcat(t, " "); tlsnote(t, s); tcat(t, "\n");
  said(t, code);
  if (stat) { tcat(t, " "); tcat(t, stat); }
  else if (code >= 200) status(t, letter == 'K' ? '2' : letter == 'Z' ? '4' : '5');
  return P_QUIT;
}

static int utf8(const char *s) { for (; *s; s++) if ((unsigned char)*s >= 0x80) return 1; return 0; }

static int sendaddr(const char *cmd, const char *a)
{
  size_t n = strlen(a);
  char *q = malloc(2 * n + 3);
  int r;
  if (!q) return -1;
  q[addr_quote(q, a, n)] = 0;
  r = puts_(cmd) == -1 || puts_(q) == -1 || puts_(">") == -1 ? -1 : 0;
  free(q);
  return r;
}

/* send the body: LF -> CRLF, stray CR -> SP, leading '.' doubled, final ".\r\n" */
static int sendbody(void)
{
  char buf[8192];
  int bol = 1, cr = 0;
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; return -2; }
    if (!r) break;
    for (ssize_t i = 0; i < r; i++) {
      char ch = buf[i];
      if (cr) {
        cr = 0;
        if (ch != '\n') { if (put(" ", 1) == -1) return -1; bol = 0; }
      }
      if (ch == '\r') { cr = 1; continue; }
      if (ch == '\n') { if (put("\r\n", 2) == -1) return -1; bol = 1; continue; }
      if (bol && ch == '.' && put(".", 1) == -1) return -1;
      if (put(&ch, 1) == -1) return -1;
      bol = 0;
    }
  }
  if (cr) { if (put(" ", 1) == -1) return -1; bol = 0; }
  if (!bol && put("\r\n", 2) == -1) return -1;
  if (puts_(".\r\n") == -1) return -1;
  return flush();
}

/* record the reply to RCPT for recipient i; 1 if accepted */
static int rcptresult(int i, int code)
{
  rtext[i].n = 0; rtext[i].s[0] = 0;
  if (code >= 400) {
    rletter[i] = code >= 500 ? 'h' : 's';
    hostip(&rtext[i]); tcat(&rtext[i], " does not like recipient.\n"); said(&rtext[i], code);
    status(&rtext[i], code >= 500 ? '5' : '4');
    return 0;
  }
  rletter[i] = 'r';
  return 1;
}

static enum phase greeting(struct session *s)
{
  int code = getreply();
  (void)s;
  if (code < 200 || code >= 300) return next("the greeting failed", code);
  return P_EHLO;
}

static int hello(const char *verb)
{
  return puts_(verb) == -1 || puts_(helohost) == -1 || puts_("\r\n") == -1 ? -1 : 0;
}

static enum phase ehlo(struct session *s)
{
  int code;
  if (hello("EHLO ") == -1) return next("the connection died", R_IO);
  code = getreply();
  if (code >= 200 && code < 300) { reply_ehlo(&rep, &s->e); return P_STARTTLS; }
  if (code < 400) return next("the connection died", code);
  memset(&s->e, 0, sizeof s->e);
  if (hello("HELO ") == -1) return next("the connection died", R_IO);
  code = getreply();
  if (code < 200 || code >= 300) return next("my name was rejected", code);
  return P_STARTTLS;
}

/* this address does not meet control/tlspolicy: why (lead: "Connected
   to" or "Did not connect to"), and on to the next address */
static enum phase policywhy(const char *lead, const char *what, const char *detail)
{
  why.n = 0; why.s[0] = 0;
  tcat(&why, lead); tcat(&why, " "); hostip(&why);
  if (cursts) { tcat(&why, "; the MTA-STS policy of "); tcatsafe(&why, host); tcat(&why, " (mode enforce) requires verified TLS and "); }
  else {
    tcat(&why, "; control/tlspolicy says "); tcat(&why, tlspol_name(pol.level)); tcat(&why, " for ");
    tcatsafe(&why, host); tcat(&why, " and ");
  }
  tcat(&why, what);
  if (detail) { tcat(&why, ": "); tcat(&why, detail); }
  tcat(&why, ".");
  return P_QUIT;
}
static enum phase policyfail(const char *what, const char *detail) { return policywhy("Connected to", what, detail); }

static int hasletter(const char *n) { for (; *n; n++) if ((*n | 32) >= 'a' && (*n | 32) <= 'z') return 1; return 0; }

/* start tern-tlsc on the connection: SNI (the host's name unless it is an
   address), and under verify the CA file and the names to check. 0 TLS
   is up; -1 it failed, tlsc.info.reason says why */
static int tlsgo(struct session *s)
{
  const char *args[RTLS_ARGS_MAX + 1];
  static struct txt secs;
  int n = 0;
  secs.n = 0; tcatu(&secs, timeoutremote > 86400 ? 86400 : timeoutremote);
  args[n++] = "-t"; args[n++] = secs.s; args[n++] = "-T"; args[n++] = secs.s;
  if (hasletter(cur->name) && !strchr(cur->name, ':')) { args[n++] = "-s"; args[n++] = cur->name; }
  if (s->lvl == TLSPOL_DANE) {
    args[n++] = "-d"; args[n++] = cur->name;
    for (int k = 0; k < dn.n; k++) { args[n++] = "-a"; args[n++] = dn.arg[k]; }
  }
  if (s->lvl == TLSPOL_VERIFY || cursts) {   /* MTA-STS: the MX host's name only (RFC 8461 4.2) */
    args[n++] = "-C"; args[n++] = cafile;
    for (int k = 0; !cursts && k < pol.nnames; k++) { args[n++] = "-n"; args[n++] = pol.names[k]; }
    if (!pol.nnames || cursts) { args[n++] = "-n"; args[n++] = cur->name; }
  }
  args[n] = 0;
  if (rtls_start(&tlsc, c.fd, (const char *const *)args, timeoutremote) < 0) return -1;
  netfd = c.fd;
  c.fd = tlsc.data;
  c.inpos = c.inlen = 0;
  s->tlson = 1;
  s->tls = tlsc.info;
  return 0;
}

/* the level for this connection: dane and dane-only become what the
   validated TLSA records of this host say (RFC 7672 2.2) */
static int danelevel(void)
{
  if (pol.level != TLSPOL_DANE && pol.level != TLSPOL_DANE_ONLY) return (int)pol.level;
  if (mxsecure && (strcmp(dnname, cur->name) || dnport != cur->port)) {
    dane_tlsa(dnsip, cur->name, cur->port, timeoutdns, &dn);
    strcpy(dnname, cur->name);
    dnport = cur->port;
  }
  switch (mxsecure ? dn.state : DANE_NONE) {
    case DANE_USABLE: return TLSPOL_DANE;
    case DANE_UNUSABLE: return TLSPOL_ENCRYPT;
    case DANE_FAIL: return -1;
    default: return pol.level == TLSPOL_DANE ? TLSPOL_MAY : -2;
  }
}

/* MTA-STS where DANE and control/tlspolicy leave may (RFC 8461 2): under
   enforce an MX host the policy does not list is skipped (-1, why set)
   and the others need verified TLS; testing only notes what enforce
   would have done */
static int stsmx(void)
{
  if ((cursts = curlvl == TLSPOL_MAY ? sts.mode : MTASTS_NONE) == MTASTS_NONE) return 0;
  stsmiss = !mtasts_mx_match(&sts.pol, cur->name);
  if (cursts == MTASTS_TESTING) return 0;
  if (stsmiss) {
    why.n = 0; why.s[0] = 0;
    tcat(&why, "Skipped "); hostip(&why); tcat(&why, ": the MTA-STS policy of "); tcatsafe(&why, host);
    tcat(&why, " (mode enforce) does not list it as an MX host.");
    return -1;
  }
  curlvl = TLSPOL_VERIFY;
  return 0;
}

/* the address's level does not allow a connection: why */
static void lvlfail(int lvl)
{
  myip[0] = 0;
  rptnote(lvl == -1 ? "dnssec-invalid" : "dane-required",
          lvl == -1 ? "the TLSA lookup failed"
          : mxsecure ? "no DNSSEC-validated TLSA records" : "the MX records are not DNSSEC-validated");
  if (lvl == -1) policywhy("Did not connect to", "the TLSA lookup for this host failed", 0);
  else policywhy("Did not connect to", mxsecure ? "this host has no DNSSEC-validated TLSA records"
                                                : "the MX records are not DNSSEC-validated", 0);
}

/* after the handshake: does the peer's verification meet the level */
static enum phase checkpeer(struct session *s, enum phase ok)
{
  s->rptinfo = s->tls.note;
  if ((s->lvl == TLSPOL_VERIFY || cursts == MTASTS_TESTING) && strcmp(s->tls.peer, "CA")) {
    s->rpt = strstr(s->tls.note, "ostname mismatch") ? "certificate-host-mismatch"
           : strstr(s->tls.note, "expired") ? "certificate-expired" : "certificate-not-trusted";
    if (s->lvl != TLSPOL_VERIFY) return ok;   /* MTA-STS testing: reported, not enforced (RFC 8461 5) */
    return policyfail("its certificate did not verify", s->tls.note);
  }
  if (s->lvl == TLSPOL_DANE && strncmp(s->tls.peer, "DANE-", 5)) {
    s->rpt = "tlsa-invalid";
    return policyfail("its certificate matched no TLSA record", s->tls.note);
  }
  s->rpt = "success";
  return ok;
}

/* STARTTLS (RFC 3207) as control/tlspolicy says: under may plaintext when
   it is not offered or refused, and after a failed handshake the next
   connection (TLS NO-GO); under encrypt and verify never plaintext. After
   the handshake, EHLO again, forgetting what the first EHLO said (4.2). */
static enum phase starttls(struct session *s)
{
  int code, may = s->lvl == TLSPOL_MAY;
  if (s->tlson) return P_AUTH;
  if (s->lvl == TLSPOL_NONE) { s->notls = "not asked for"; return P_AUTH; }
  if (nogo) { s->notls = nogowhy.s; return P_AUTH; }
  if (!s->e.starttls) {
    s->rpt = "starttls-not-supported";
    if (may) { s->notls = "STARTTLS not offered"; return P_AUTH; }
    return policyfail("it does not offer STARTTLS", 0);
  }
  if (puts_("STARTTLS\r\n") == -1) return next("the connection died", R_IO);
  code = getreply();
  if (code < 200) return next("the connection died", code);
  if (code != 220) {
    s->rpt = "starttls-not-supported";
    s->rptinfo = "STARTTLS refused";
    if (may) { s->notls = "STARTTLS refused"; return P_AUTH; }
    return policyfail("it refused STARTTLS", 0);
  }
  if (tlsgo(s) < 0) {
    s->noquit = 1;
    s->rpt = "validation-failure";
    s->rptinfo = tlsc.info.reason;
    if (!may) return policyfail("the TLS handshake failed", tlsc.info.reason);
    nogo = 1;
    nogowhy.n = 0;
    tcat(&nogowhy, "TLS NO-GO, the handshake failed ("); tcat(&nogowhy, tlsc.info.reason); tcat(&nogowhy, ")");
    why.n = 0; why.s[0] = 0;
    tcat(&why, "TLS NO-GO: the TLS handshake with "); hostip(&why); tcat(&why, " failed: ");
    tcat(&why, tlsc.info.reason); tcat(&why, "; retrying in plaintext (policy may).");
    return P_QUIT;
  }
  memset(&s->e, 0, sizeof s->e);
  return checkpeer(s, P_EHLO);
}

/* one step of AUTH LOGIN: the base64 of s; the reply's code */
static int loginstep(const char *s)
{
  char b[BASE64_ENCODED_LEN(RAUTH_FIELD_MAX) + 1];
  int code;
  base64_encode(s, strlen(s), b);
  code = puts_(b) == -1 || puts_("\r\n") == -1 ? R_IO : getreply();
  explicit_bzero(b, sizeof b);
  explicit_bzero(c.out, sizeof c.out);
  return code;
}

/* AUTH (RFC 4954) to a relay whose control/smtproutes entry names
   credentials: PLAIN (RFC 4616), else LOGIN; only in TLS whose peer
   verified (the policy is verify for such a route). A refusal defers
   with the server's text. */
static enum phase auth(struct session *s)
{
  static struct rauth a;
  char plain[RAUTH_PLAIN_MAX];
  int code, r;
  if (!cur->auth[0]) return P_ENVELOPE;
  if (!s->tlson || strcmp(s->tls.peer, "CA")) return policyfail("a password goes only to a relay whose certificate verified", 0);
  r = rauth_load(cur->auth, &a);
  if (r != 1) {
    struct txt *t = ending(s, 'Z');
    tcat(t, r == -3 ? "HOME/" RAUTH_PATH " may be read by others than ternr; not using it. (#4.3.0)"
            : r == -2 ? "Unable to read HOME/" RAUTH_PATH ". (#4.3.0)"
            : r == -1 ? "The entry for this relay in HOME/" RAUTH_PATH " is malformed. (#4.3.0)"
            : "HOME/" RAUTH_PATH " has no entry named by control/smtproutes. (#4.3.0)");
    return P_QUIT;
  }
  if (s->e.authplain) {
    rauth_plain(&a, plain);
    code = puts_("AUTH PLAIN ") == -1 || puts_(plain) == -1 || puts_("\r\n") == -1 ? R_IO : getreply();
    explicit_bzero(plain, sizeof plain);
    explicit_bzero(c.out, sizeof c.out);
  } else if (s->e.authlogin) {
    code = puts_("AUTH LOGIN\r\n") == -1 ? R_IO : getreply();
    if (code == 334) code = loginstep(a.user);
    if (code == 334) code = loginstep(a.pass);
  } else {
    struct txt *t = ending(s, 'Z');
    rauth_wipe(&a);
    hostip(t); tcat(t, " offers neither AUTH PLAIN nor AUTH LOGIN, and I have credentials for it. (#4.7.0)");
    return P_QUIT;
  }
  rauth_wipe(&a);
  if (code < 200) return next("the connection died", code);
  if (code != 235) return result(s, 'Z', "did not accept my credentials (AUTH).", code, 0);
  return P_ENVELOPE;
}

/* what this server can take (8-bit content, the size, UTF-8 addresses),
   from the last EHLO; picks the recipients to send. -1: nothing can go,
   the result is set */
static int fits(struct session *s)
{
  struct txt *t;
  if (msg.eightbit && !s->e.eightbitmime) {
    t = ending(s, 'D'); hostip(t);
    tcat(t, " does not support 8BITMIME and the message has 8-bit content;\n"
            "tern does not convert it (RFC 6152). (#5.6.3)");
    return -1;
  }
  if (s->e.size && s->e.sizemax && msg.wiresize > s->e.sizemax) {
    t = ending(s, 'D'); hostip(t); tcat(t, " accepts at most "); tcatu(t, s->e.sizemax);
    tcat(t, " bytes; the message has "); tcatu(t, msg.wiresize); tcat(t, ". (#5.3.4)");
    return -1;
  }
  if (utf8(sender)) {   /* the sender */
    if (!s->e.smtputf8) {
      t = ending(s, 'D');
      hostip(t); tcat(t, " does not support SMTPUTF8 and the sender address is not ASCII. (#5.6.7)");
      return -1;
    }
    s->sutf8 = 1;
  }
  for (int i = 0; i < nrcpt; i++) {
    if (!rcpt[i][0]) continue;   /* invalid: its 'h' report stays */
    rletter[i] = 0; rtext[i].n = 0; rtext[i].s[0] = 0;
    if (utf8(rcpt[i])) {
      if (!s->e.smtputf8) {
        rletter[i] = 'h';
        hostip(&rtext[i]); tcat(&rtext[i], " does not support SMTPUTF8 and the recipient address is not ASCII. (#5.6.7)");
        continue;
      }
      s->sutf8 = 1;
    }
    s->idx[s->nidx++] = i;
  }
  if (!s->nidx) { t = ending(s, 'D'); tcat(t, "No recipient can be sent to "); hostip(t); tcat(t, ". (#5.1.3)"); return -1; }
  return 0;
}

/* MAIL FROM with SIZE, BODY and SMTPUTF8 as they apply; -1 I/O error */
static int mailfrom(const struct session *s)
{
  if (sendaddr("MAIL FROM:<", sender) == -1) return -1;
  if (s->e.size) {
    static struct txt t;
    t.n = 0; tcatu(&t, msg.wiresize);
    if (puts_(" SIZE=") == -1 || puts_(t.s) == -1) return -1;
  }
  if (msg.eightbit && puts_(" BODY=8BITMIME") == -1) return -1;
  if (s->sutf8 && puts_(" SMTPUTF8") == -1) return -1;
  return puts_("\r\n");
}

/* with PIPELINING: MAIL, the RCPTs and DATA went in one write; their
   replies in order. DATA's reply is kept for the body phase. */
static enum phase pipelined(struct session *s)
{
  int code;
  if (puts_("DATA\r\n") == -1) return next("the connection died", R_IO);
  code = getreply();   /* MAIL */
  if (code < 200) return next("the connection died", code);
  if (code >= 400) return result(s, code >= 500 ? 'D' : 'Z', "does not like the sender.", code, 0);
  for (int k = 0; k < s->nidx; k++) {
    code = getreply();
    if (code < 200) return next("the connection died", code);
    s->accepted += rcptresult(s->idx[k], code);
  }
  code = getreply();   /* DATA */
  if (code < 200) return next("the connection died", code);
  if (!s->accepted) {
    if (code >= 300 && code < 400) { (void)puts_(".\r\n"); (void)getreply(); }
    return result(s, 'D', "accepted none of the recipients; giving up.", code, "(#5.0.0)");
  }
  s->datacode = code;
  return P_BODY;
}

/* MAIL and RCPT; without PIPELINING one command at a time, and no DATA
   when no recipient was accepted */
static enum phase envelope(struct session *s)
{
  int code;
  if (fits(s) == -1) return P_QUIT;
  if (mailfrom(s) == -1) return next("the connection died", R_IO);
  if (!s->e.pipelining) {
    code = getreply();
    if (code < 200) return next("the connection died", code);
    if (code >= 500) return result(s, 'D', "does not like the sender.", code, 0);
    if (code >= 400) return result(s, 'Z', "does not like the sender.", code, 0);
  }
  for (int k = 0; k < s->nidx; k++) {
    if (sendaddr("RCPT TO:<", rcpt[s->idx[k]]) == -1 || puts_("\r\n") == -1) return next("the connection died", R_IO);
    if (s->e.pipelining) continue;
    code = getreply();
    if (code < 200) return next("the connection died", code);
    s->accepted += rcptresult(s->idx[k], code);
  }
  if (s->e.pipelining) return pipelined(s);
  if (!s->accepted) {
    struct txt *t = ending(s, 'D');
    hostip(t); tcat(t, " accepted none of the recipients; giving up.");
    return P_QUIT;
  }
  return P_BODY;
}

/* DATA (unless pipelined), the message after 354, the final reply */
static enum phase body(struct session *s)
{
  int code = s->datacode, r;
  struct txt *t;
  if (!s->e.pipelining) {
    if (puts_("DATA\r\n") == -1) return next("the connection died", R_IO);
    code = getreply();
    if (code < 200) return next("the connection died", code);
  }
  if (code >= 500) return result(s, 'D', "failed on DATA command.", code, 0);
  if (code >= 400) return result(s, 'Z', "failed on DATA command.", code, 0);
  if (code < 300)   /* a 2xx to DATA: not a valid answer */
    return result(s, 'Z', "answered DATA with a code other than 354.", code, "(#4.5.0)");
  r = sendbody();
  if (r == -2) { tcat(ending(s, 'Z'), "Unable to read message. (#4.3.0)"); return P_QUIT; }
  if (r == -1) return next("the connection died while I was sending the message", R_IO);
  code = getreply();
  if (code < 200) {
    t = ending(s, 'Z');
    tcat(t, "Connected to "); hostip(t); tcat(t, " but the connection died after the message was sent.\n");
    said(t, code); tcat(t, " Possible duplicate! (#4.4.2)");
    return P_QUIT;
  }
  if (code >= 500) return result(s, 'D', "failed after I sent the message.", code, 0);
  if (code >= 400) return result(s, 'Z', "failed after I sent the message.", code, 0);
  return result(s, 'K', "accepted message.", code, 0);
}

/* one connection, greeting to QUIT: returns to try the next address (why
   says why), or writes the result and exits */
static void smtp(void)
{
  static struct session s;
  enum phase p = P_GREETING;
  memset(&s, 0, sizeof s);
  c.inpos = c.inlen = c.outlen = 0;
  s.lvl = curlvl;
  if (cur->port == 465) {   /* implicit TLS (RFC 8314), whatever the policy: never plaintext */
    if (tlsgo(&s) < 0) { s.noquit = 1; s.rpt = "validation-failure"; s.rptinfo = tlsc.info.reason; p = policyfail("the TLS handshake on port 465 failed", tlsc.info.reason); }
    else p = checkpeer(&s, P_GREETING);
  }
  for (;;) switch (p) {
    case P_GREETING: p = greeting(&s); break;
    case P_EHLO:     p = ehlo(&s); break;
    case P_STARTTLS: p = starttls(&s); break;
    case P_AUTH:     p = auth(&s); break;
    case P_ENVELOPE: p = envelope(&s); break;
    case P_BODY:     p = body(&s); break;
    case P_QUIT:
      rptnote(s.rpt, s.rptinfo);
      quit(!s.noquit);
      if (s.letter) finish(s.letter, &s.t);
      return;
  }
}

/* the arguments into host, sender, rcpt; invalid recipients get their
   'h' report here and an empty argument (not sent) */
static void args(int argc, char **argv)
{
  static struct txt usage;
  size_t hl;
  const char *s;
  if (argc < 5) {
    nrcpt = 0; rletter = 0; rtext = 0;
    tcat(&usage, "Usage: tern-remote host sender size recipient... (#5.3.5)");
    finish('D', &usage);
  }
  nrcpt = argc - 4;
  if (nrcpt > RCPT_MAX) { nrcpt = 0; finish1('D', "Too many recipients for one tern-remote. (#5.3.5)"); }
  rcpt = (const char **)argv + 4;
  sender = argv[2];
  rletter = calloc((size_t)nrcpt, 1);
  rtext = calloc((size_t)nrcpt, sizeof *rtext);
  if (!rletter || !rtext) { nrcpt = 0; finish1('Z', "Out of memory. (#4.3.0)"); }
  hl = strlen(argv[1]);
  if (!hl || hl > ADDR_DOMAIN_MAX) finish1('D', "Invalid host name. (#5.1.2)");
  memcpy(host, argv[1], hl + 1);
  lower(host);
  for (s = argv[3]; *s; s++) if (*s < '0' || *s > '9') break;
  if (*s || !argv[3][0] || strlen(argv[3]) > 19) finish1('D', "Invalid size argument. (#5.3.5)");
  if (strlen(argv[2]) > ADDR_MAX || strpbrk(argv[2], "\r\n")) finish1('D', "Invalid sender address. (#5.1.7)");
  for (int i = 0; i < nrcpt; i++)
    if (strlen(rcpt[i]) > ADDR_MAX || strpbrk(rcpt[i], "\r\n") || !strchr(rcpt[i], '@')) {
      rletter[i] = 'h';
      tcat(&rtext[i], "Invalid recipient address. (#5.1.3)");
      argv[4 + i] = (char *)"";
    }
}

/* our address on socket fd, as text, into myip ("" if unknown) */
static void localip(int fd)
{
  char ip[16];
  uint16 port;
  uint32 scope;
  myip[0] = 0;
  if (socket_local6(fd, ip, &port, &scope) == 0) myip[ip6_isv4mapped(ip) ? fmt_ip4(myip, ip + 12) : fmt_ip6(myip, ip)] = 0;
}

/* each address in turn, skipping those tcpto says are dead; smtp() exits
   with the result, so coming out of the loop means every address failed */
static void deliver(void)
{
  static struct txt t;
  why.n = 0;
  tcptofd = open(TCPTO_PATH, O_RDWR | O_CLOEXEC | O_NOFOLLOW);   /* -1: no table */
  for (int i = 0; i < ntg; i++) {
    cur = &tg[i];
    cursts = MTASTS_NONE;   /* until stsmx: a DANE failure is not worded as MTA-STS */
    if (tcpto_file_dead(tcptofd, cur->ip, (uint64_t)time(0), (unsigned long)getpid())) {
      why.n = 0; why.s[0] = 0;
      tcat(&why, "Skipped "); hostip(&why);
      tcat(&why, ": its connections timed out recently (remote-state/tcpto).");
      continue;
    }
    if ((curlvl = danelevel()) < 0) { lvlfail(curlvl); continue; }
    if (stsmx() < 0) continue;
    c.fd = tcpconnect(cur);
    if (c.fd == -1) {
      int e = errno;
      tcpto_file_update(tcptofd, cur->ip, e == ETIMEDOUT, (uint64_t)time(0));
      why.n = 0; why.s[0] = 0;
      tcat(&why, "Could not connect to "); hostip(&why); tcat(&why, ": ");
      tcat(&why, e == ETIMEDOUT ? "timed out" : strerror(e)); tcat(&why, ".");
      continue;
    }
    tcpto_file_update(tcptofd, cur->ip, 0, (uint64_t)time(0));
    localip(c.fd);
    if (lseek(0, msgstart, SEEK_SET) != msgstart) finish1('Z', "Unable to rewind the message. (#4.3.0)");
    smtp();
    if (nogo == 1) { nogo = 2; i--; continue; }   /* TLS NO-GO: once more, in plaintext */
    nogo = 0;
  }
  for (int i = 0; i < nrcpt; i++) if (rcpt[i][0]) rletter[i] = 0;
  tcat(&t, "Sorry, I wasn't able to deliver to any mail exchanger of ");
  tcatsafe(&t, host); tcat(&t, ".\n");
  tcatb(&t, why.s, why.n);
  tcat(&t, " (#4.4.1)");
  finish('Z', &t);
}

/* DANE: the resolver, and whether the MX RRset validates (RFC 7672
   2.2.1; a relay from control/smtproutes is trusted as configured, an
   address literal has no name to look up) */
static void daneprep(void)
{
  int r;
  if (dane_resolver(dnsip) < 0) ctlfail("dnscacheip");
  if ((ntg && tg[0].routed) || host[0] == '[') { mxsecure = ntg && tg[0].routed; return; }
  r = dane_mx_secure(dnsip, host, timeoutdns);
  if (r < 0) {
    rptnote("dnssec-invalid", "the DNSSEC-validated MX lookup failed");
    finish1('Z', "The DNSSEC-validated MX lookup for DANE (control/tlspolicy) failed. (#4.4.3)");
  }
  mxsecure = r;
}

/* no control/tlspolicy line for host: dane when the resolver named in
   control/dnscacheip (or $DNSCACHEIP) validates, that is when it answers
   the SOA question for control/dnssecprobe with the AD bit, else may.
   Without a named resolver there is nothing to ask. Relays and address
   literals stay may. */
static void defaultlevel(void)
{
  if (!probename[0] || !getenv("DNSCACHEIP") || (ntg && tg[0].routed) || host[0] == '[') return;
  if (dane_resolver(dnsip) < 0) ctlfail("dnscacheip");
  if (dane_probe(dnsip, probename, timeoutdns < 10 ? timeoutdns : 10) != 1) return;
  pol.level = TLSPOL_DANE;
  dfltdane = 1;
}

int main(int argc, char **argv)
{
  int r;
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);   /* no other ternr process reads our fd 0 through /proc */
  args(argc, argv);
  if (chdir(home_get()) == -1) finish1('Z', "Unable to switch to the home directory. (#4.3.0)");
  readcontrols();
  scanmessage();
  if (msg.longest > 998) {
    static struct txt t;
    tcat(&t, "The message has a line of "); tcatu(&t, (unsigned long)msg.longest);
    tcat(&t, " octets; RFC 5322 allows 998 and tern does not fold or cut lines. (#5.6.0)");
    finish('D', &t);
  }
  route();
  r = tlspol_lookup(&tlsfile, host, &pol);
  if (r < 0) finish1('Z', "Unable to parse the entry for this domain in control/tlspolicy. (#4.3.0)");
  if (ntg && tg[0].auth[0]) pol.level = TLSPOL_VERIFY;   /* a relay with AUTH: verified TLS only */
  else if (!r) defaultlevel();
  if (pol.level == TLSPOL_DANE || pol.level == TLSPOL_DANE_ONLY) daneprep();
  if ((pol.level == TLSPOL_MAY || pol.level == TLSPOL_DANE) && !(ntg && tg[0].routed) && host[0] != '[')
    rmts_get(host, timeoutdns, &sts);
  deliver();
  return 0;
}

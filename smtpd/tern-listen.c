/* tern-listen: a UCSPI-TCP server (tcpserver / s6-tcpserver style).
   tern-listen [-U] [-u uid] [-g gid] [-c max] [-C perip] [-R reserve]
               [-s stresssecs] [-x rules.cdb] [-h] [-t dnstimeout] [-N fd]
               [-b backlog] [-T uid:gid -k tlsd [-O]]
               [-L name:port:mode:rules.cdb]... host[,host...] port program...
   See tern-listen.8. Edge program: libowfat + libc + common/ only. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <time.h>
#include <unistd.h>

#include "byte.h"
#include "cdb.h"
#include "dns.h"
#include "ip4.h"
#include "ip6.h"
#include "ndelay.h"
#include "socket.h"
#include "stralloc.h"
#include "uint16.h"

#include "common/priv.h"

#define USAGE "usage: tern-listen [-U] [-u uid] [-g gid] [-c max] [-C perip] [-R reserve] [-s secs] [-x rules.cdb] [-h] [-t secs] [-N fd] [-b backlog] [-T uid:gid -k tlsd [-O]] [-L name:port:mode:rules.cdb]... host[,host...] port program..."
#define LISTEN_MAX 8      /* listening addresses */
#define LISTENERS_MAX 4   /* listeners: the positional one and up to 3 -L */
#define SOCK_MAX (LISTEN_MAX * LISTENERS_MAX)
#define CONN_MAX 1000     /* -c upper bound */
#define LINE_MAX_ 600

/* A listener: a port on every listen address, a name tern-smtpd gets as
   TERN_LISTENER, its TLS mode and its own rules. */
#define MODE_PLAIN 0      /* no TLS */
#define MODE_STARTTLS 1   /* tern-tlsd beside tern-smtpd, started on request */
#define MODE_SMTPS 2      /* tern-tlsd beside tern-smtpd, TLS from the start (RFC 8314) */
/* nkids: its live sessions (children not yet reaped); each listener has
   the limits (-c, -C, -R, stress) to itself, so a flood on one never
   takes another's slots; paused: at -c, its sockets are not polled (new
   connections wait in the kernel's listen queue) */
struct listener { const char *name; unsigned short port; int mode; const char *rules; unsigned long nkids; int paused; };
static struct listener lns[LISTENERS_MAX];
static unsigned nlns;

struct lsock { int fd; int v6; struct listener *l; };
static struct lsock ls[SOCK_MAX];
static unsigned nls;

/* TLS (-T, -k, -O): tern-tlsd runs as tls_uid:tls_gid beside each session
   of a STARTTLS or SMTPS listener; tern-listen then keeps root and each
   session drops to the session user itself */
static int tls_on, tls_mx_floor;
static uid_t tls_uid, sess_uid;
static gid_t tls_gid, sess_gid;
static const char *tlsd;

/* fd: tern-listen's own copy of the client socket, kept for TCP_INFO
   (stress mode) and for the 421 after an eviction; closed at reap */
struct child { pid_t pid; int fd; char relay, evicted; time_t start; char ip[16]; struct listener *l; };
static struct child *kids;
static unsigned long maxconn = 120, perip = 50, reserve = 10, nslots;
/* stress mode (tern-listen.8 STRESS): while 3/4 of the slots open to
   non-relay clients are taken, a non-relay session that has received
   nothing for stresssecs, or that is older than 3 x stresssecs and has
   averaged fewer than SLOW_BPS bytes a second, is ended. 0 = off. */
static unsigned long stresssecs = 10;
#define SLOW_BPS 32
/* addresses whose sessions stress mode ended: refused for 6 x stresssecs,
   so that an idle attacker cannot take the freed slots straight back.
   The oldest entry is reused when the table is full. */
#define PENALTY_MAX 256
static struct penalty { time_t t; char ip[16]; } pen[PENALTY_MAX];

static int selfpipe[2];
static volatile sig_atomic_t gotterm;

static void logs(const char *a, const char *b, const char *c, const char *d, const char *e)
{
  char buf[LINE_MAX_];
  size_t n = 0;
  const char *v[6] = { "tern-listen: ", a, b, c, d, e };
  for (int i = 0; i < 6; i++) {
    size_t k;
    if (!v[i]) break;
    k = strlen(v[i]);
    if (k > sizeof buf - 2 - n) k = sizeof buf - 2 - n;
    memcpy(buf + n, v[i], k);
    n += k;
  }
  buf[n++] = '\n';
  (void)!write(2, buf, n);
}

static void die(int code, const char *a, const char *b)
{
  logs("fatal: ", a, b, 0, 0);
  _exit(code);
}
static void diesys(int code, const char *a, const char *b)
{
  logs("fatal: ", a, b, ": ", strerror(errno));
  _exit(code);
}

static char *ulongfmt(char *buf, unsigned long u)
{
  char t[24];
  size_t k = 0, n = 0;
  do t[k++] = (char)('0' + u % 10); while (u /= 10);
  while (k) buf[n++] = t[--k];
  buf[n] = 0;
  return buf;
}

static int scan_num(const char *s, unsigned long *v)
{
  unsigned long x = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (x > 100000000UL) return 0;
    x = x * 10 + (unsigned long)(*s - '0');
  }
  *v = x;
  return 1;
}

static void sig(int s)
{
  int e = errno;
  char c = (char)s;
  if (s == SIGTERM) gotterm = 1;
  (void)!write(selfpipe[1], &c, 1);
  errno = e;
}

/* canonical text of an address: dotted quad for IPv4 and v4-mapped */
static void ipfmt(char *dst, const char ip[16])
{
  size_t n;
  if (ip6_isv4mapped(ip)) n = fmt_ip4(dst, ip + 12);
  else n = fmt_ip6(dst, ip);
  dst[n] = 0;
}

/* sessions of listener l from ip */
static unsigned long count_ip(const char ip[16], const struct listener *l)
{
  unsigned long n = 0;
  for (unsigned long i = 0; i < nslots; i++)
    if (kids[i].pid && kids[i].l == l && byte_equal(kids[i].ip, 16, ip)) n++;
  return n;
}

static void reap(void)
{
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    char pb[24], sb[24];
    if (p <= 0) return;
    for (unsigned long i = 0; i < nslots; i++)
      if (kids[i].pid == p) {
        static const char m[] = "421 4.3.2 server busy, closing idle or slow connection\r\n";
        if (kids[i].evicted) (void)!send(kids[i].fd, m, sizeof m - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        close(kids[i].fd);
        kids[i].pid = 0;
        kids[i].l->nkids--;
        break;
      }
    ulongfmt(pb, (unsigned long)p);
    if (WIFEXITED(st)) ulongfmt(sb, (unsigned long)WEXITSTATUS(st));
    else { sb[0] = 's'; sb[1] = 'i'; sb[2] = 'g'; ulongfmt(sb + 3, (unsigned long)WTERMSIG(st)); }
    logs("info: end pid ", pb, " status ", sb, 0);
  }
}

/* ---- access rules (tcprules format cdb, see tern-rules) ---- */
static const char *rules_path;

/* apply the data of a rule: "D" record = deny, "+NAME=value" records set
   the environment. With relay non-null nothing is set: *relay says
   whether the rule sets RELAYCLIENT. Returns 1 allow, 0 deny. */
static int apply_rule(const char *d, size_t n, const char **denymsg, int *relay)
{
  int allow = 1;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && d[j]) j++;
    if (j > i) {
      if (d[i] == 'D') allow = 0;
      else if (d[i] == '+') {
        static char rec[4096];
        size_t k = j - i - 1;
        char *eq;
        if (k >= sizeof rec) k = sizeof rec - 1;
        memcpy(rec, d + i + 1, k);
        rec[k] = 0;
        eq = strchr(rec, '=');
        if (eq) {
          *eq = 0;
          if (relay) { if (!strcmp(rec, "RELAYCLIENT")) *relay = 1; }
          else if (!strcmp(rec, "DENYMSG")) *denymsg = strdup(eq + 1);
          else setenv(rec, eq + 1, 1);
        }
      }
    }
    i = j + 1;
  }
  return allow;
}

/* 1 found (data applied), 0 no rule, -1 error */
static int rules_try(struct cdb *c, const char *key, size_t klen, int *allow, const char **denymsg, int *relay)
{
  int r = cdb_find(c, (const unsigned char *)key, klen);
  char *d;
  uint32_t dl;
  if (r <= 0) return r;
  dl = cdb_datalen(c);
  if (dl > 65536) return -1;
  d = malloc(dl + 1);
  if (!d) return -1;
  if (cdb_read(c, (unsigned char *)d, dl, cdb_datapos(c)) < 0) { free(d); return -1; }
  *allow = apply_rule(d, dl, denymsg, relay);
  free(d);
  return 1;
}

/* tcprules lookup order: ip, =host, shorter ip prefixes ending in '.' or
   ':', =.host suffixes, =, the empty key. 1 allow, 0 deny, -1 error.
   relay: as for apply_rule. */
static int rules_check(const char *ip, const char *host, const char **denymsg, int *relay)
{
  struct cdb c;
  int allow = 1, r, fd;
  size_t n = strlen(ip);
  char key[300];
  if (!rules_path) return 1;
  fd = open(rules_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  /* libowfat's cdb_init() starts with cdb_free(): c->map must be 0, or it
     munmap()s whatever address the stack held (found by SANITIZE=1) */
  byte_zero(&c, sizeof c);
  cdb_init(&c, fd);
  r = rules_try(&c, ip, n, &allow, denymsg, relay);
  if (!r && host && strlen(host) < sizeof key - 1) {
    key[0] = '=';
    strcpy(key + 1, host);
    r = rules_try(&c, key, strlen(key), &allow, denymsg, relay);
  }
  for (size_t k = n; !r && k > 0; k--)
    if (ip[k - 1] == '.' || ip[k - 1] == ':') r = rules_try(&c, ip, k, &allow, denymsg, relay);
  if (!r && host) {
    size_t hl = strlen(host);
    for (size_t k = 0; !r && k < hl; k++)
      if (host[k] == '.' && hl - k < sizeof key - 1) {
        key[0] = '=';
        strcpy(key + 1, host + k);
        r = rules_try(&c, key, strlen(key), &allow, denymsg, relay);
      }
    if (!r) r = rules_try(&c, "=", 1, &allow, denymsg, relay);
  }
  if (!r) r = rules_try(&c, "", 0, &allow, denymsg, relay);
  cdb_free(&c);
  close(fd);
  if (r < 0) return -1;
  return allow;
}

/* ---- reverse DNS with forward confirmation, bounded by a timeout ---- */
static unsigned long dnstimeout = 5;

static int lookup_host(const char ip[16], char *out, size_t max)
{
  int p[2];
  pid_t pid;
  size_t n = 0;
  if (pipe(p) < 0) return 0;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return 0; }
  if (pid == 0) {
    stralloc name = { 0, 0, 0 }, addrs = { 0, 0, 0 };
    int v4 = ip6_isv4mapped(ip);
    close(p[0]);
    if ((v4 ? dns_name4(&name, ip + 12) : dns_name6(&name, ip)) < 0 || !name.len) _exit(1);
    if (v4) { if (dns_ip4(&addrs, &name) < 0) _exit(1); }
    else if (dns_ip6(&addrs, &name) < 0) _exit(1);
    for (size_t i = 0; i + (v4 ? 4 : 16) <= addrs.len; i += v4 ? 4 : 16)
      if (byte_equal(addrs.s + i, v4 ? 4 : 16, v4 ? ip + 12 : ip)) {
        (void)!write(p[1], name.s, name.len);
        _exit(0);
      }
    _exit(1);
  }
  close(p[1]);
  {
    time_t end = time(0) + (time_t)dnstimeout;
    for (;;) {
      struct pollfd pf;
      ssize_t r;
      long t = (long)(end - time(0));
      if (t <= 0) break;
      pf.fd = p[0]; pf.events = POLLIN; pf.revents = 0;
      if (poll(&pf, 1, (int)(t * 1000)) <= 0) break;
      r = read(p[0], out + n, max - 1 - n);
      if (r <= 0) break;
      n += (size_t)r;
      if (n >= max - 1) break;
    }
  }
  close(p[0]);
  kill(pid, SIGKILL);
  waitpid(pid, 0, 0);
  out[n] = 0;
  for (size_t i = 0; i < n; i++) {
    char c = out[i];
    if (c >= 'A' && c <= 'Z') out[i] = (char)(c + 32);
    else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return 0;
  }
  return n > 0;
}

static int flaghost;

/* fd moved to a number above 9, out of the way of 0, 1, 3 and 4 */
static int movehigh(int fd)
{
  int n = fcntl(fd, F_DUPFD, 10);
  if (n < 0) _exit(111);
  close(fd);
  return n;
}

/* close every descriptor above fd */
static void closeabove(int fd)
{
  struct rlimit rl;
  if (syscall(SYS_close_range, (unsigned)fd + 1, ~0U, 0) == 0) return;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576) rl.rlim_cur = 1048576;
  for (rlim_t k = (rlim_t)fd + 1; k < rl.rlim_cur; k++) close((int)k);
}

/* On a STARTTLS listener most clients never ask for TLS (the whole MX
   side of the Internet that has no certificate, and every plaintext
   session), so the TLS process waits here, already as the TLS user, for
   the application's first control byte before it runs tern-tlsd: exec,
   OpenSSL's start-up and the certificate are paid on STARTTLS only
   (BENCHMARKS.md: 2.4 ms of context and key loading plus the exec, on
   every session, before). End of file on fd 3 (tern-smtpd has exited)
   ends this process quietly; the byte itself is left for tern-tlsd. */
static void wait_start(void)
{
  struct pollfd p = { 3, POLLIN, 0 };
  char c;
  ssize_t r;
  while (poll(&p, 1, -1) < 0)
    if (errno != EINTR) _exit(111);
  do r = recv(3, &c, 1, MSG_PEEK); while (r < 0 && errno == EINTR);
  if (r <= 0) _exit(0);
}

/* the TLS process of one session: two socketpairs, tern-tlsd started as
   the TLS user with the network on 0/1, control on 3 and plaintext on 4
   (tern-tlsd.8); this process keeps the other ends as 3 and 4 and sets
   the UCSPI-TLS environment for tern-smtpd. *fdp is moved above 9. */
static void start_tls(int *fdp, const struct listener *l)
{
  int ctl[2], dat[2], fd;
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, dat) < 0) {
    logs("warning: unable to create the TLS channel: ", strerror(errno), 0, 0, 0);
    (void)!write(*fdp, "421 4.3.0 temporary failure\r\n", 29);
    _exit(111);
  }
  fd = *fdp = movehigh(*fdp);
  ctl[0] = movehigh(ctl[0]); ctl[1] = movehigh(ctl[1]);
  dat[0] = movehigh(dat[0]); dat[1] = movehigh(dat[1]);
  pid = fork();
  if (pid < 0) _exit(111);
  if (!pid) {
    char *argv[3];
    gid_t g = tls_gid;
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(ctl[0], 3) < 0 || dup2(dat[0], 4) < 0) _exit(111);
    /* nothing else of tern-listen's: it waits without exec (wait_start),
       and close-on-exec would leave it the sockets of the sessions that
       were open when it was forked, keeping them open after their
       tern-smtpd has said 221 and exited */
    closeabove(4);
    priv_drop("tern-listen", tls_uid, tls_gid, 1, &g);
    if (l->mode == MODE_STARTTLS) wait_start();
    argv[0] = (char *)tlsd;
    argv[1] = tls_mx_floor && !strcmp(l->name, "mx") ? "-o" : 0;
    argv[2] = 0;
    execv(tlsd, argv);
    logs("warning: unable to run ", tlsd, ": ", strerror(errno), 0);
    _exit(111);
  }
  if (dup2(ctl[1], 3) < 0 || dup2(dat[1], 4) < 0) _exit(111);
  close(ctl[0]); close(ctl[1]); close(dat[0]); close(dat[1]);
  setenv("SSLCTLFD", "3", 1);
  setenv("SSLREADFD", "4", 1);
  setenv("SSLWRITEFD", "4", 1);
}

/* a denied client: 554 with the rule's DENYMSG, or a plain one (RFC 5321
   section 3.1: a server that will not serve a client says so with 554) */
static void deny(int fd, const char *denymsg)
{
  char buf[600];
  size_t k;
  if (!denymsg) denymsg = "5.7.1 no SMTP service here for you";
  k = strlen(denymsg);
  if (k > 500) k = 500;
  memcpy(buf, "554 ", 4);
  for (size_t i = 0; i < k; i++) buf[4 + i] = (denymsg[i] == '\r' || denymsg[i] == '\n') ? ' ' : denymsg[i];
  memcpy(buf + 4 + k, "\r\n", 2);
  (void)!write(fd, buf, k + 6);
}

static void child(int fd, const struct listener *l, const char rip[16], uint16 rport, unsigned long connnum, char **prog)
{
  char lip[16], ripbuf[IP6_FMT + 1], lipbuf[IP6_FMT + 1], pb[24], host[256];
  uint16 lport = 0;
  uint32 scope = 0;
  const char *denymsg = 0;
  int r;
  for (unsigned i = 0; i < nls; i++) close(ls[i].fd);
  close(selfpipe[0]);
  close(selfpipe[1]);
  signal(SIGTERM, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  if (socket_local6(fd, lip, &lport, &scope) < 0) {
    char l4[4];
    if (socket_local4(fd, l4, &lport) < 0) byte_zero(lip, 16);
    else { byte_copy(lip, 12, V4mappedprefix); byte_copy(lip + 12, 4, l4); }
  }
  ipfmt(ripbuf, rip);
  ipfmt(lipbuf, lip);
  setenv("PROTO", "TCP", 1);
  setenv("TCPREMOTEIP", ripbuf, 1);
  setenv("TCPREMOTEPORT", ulongfmt(pb, rport), 1);
  setenv("TCPLOCALIP", lipbuf, 1);
  setenv("TCPLOCALPORT", ulongfmt(pb, lport), 1);
  setenv("TCPCONNNUM", ulongfmt(pb, connnum), 1);
  unsetenv("TCPREMOTEHOST");
  unsetenv("TCPREMOTEINFO");
  unsetenv("TCPLOCALHOST");
  if (flaghost && lookup_host(rip, host, sizeof host)) setenv("TCPREMOTEHOST", host, 1);
  rules_path = l->rules;
  r = rules_check(ripbuf, getenv("TCPREMOTEHOST"), &denymsg, 0);
  if (r < 0) {
    logs("warning: unable to read rules ", rules_path, " for ", ripbuf, ", dropping");
    (void)!write(fd, "421 4.3.0 temporary failure\r\n", 29);
    _exit(111);
  }
  if (r == 0) {
    logs("info: deny ", ripbuf, 0, 0, 0);
    deny(fd, denymsg);
    _exit(100);
  }
  setenv("TERN_LISTENER", l->name, 1);
  unsetenv("SSLCTLFD");
  unsetenv("SSLREADFD");
  unsetenv("SSLWRITEFD");
  if (tls_on && l->mode != MODE_PLAIN) start_tls(&fd, l);
  if (tls_on) {
    gid_t g = sess_gid;
    priv_drop("tern-listen", sess_uid, sess_gid, 1, &g);
  }
  if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) _exit(111);
  if (fd > 1) close(fd);
  execvp(prog[0], prog);
  logs("warning: unable to run ", prog[0], ": ", strerror(errno), 0);
  _exit(111);
}

/* at most REFUSE_LOGS refusal lines a second, then a count, so that a
   flood of refused connections cannot rotate the rest out of the log */
#define REFUSE_LOGS 20
static void refuse(int fd, const char *ipb, const char *why)
{
  static const char m[] = "421 4.3.2 too many connections, try again later\r\n";
  static time_t sec;
  static unsigned long logged, quiet;
  time_t now = time(0);
  ndelay_on(fd);
  (void)!write(fd, m, sizeof m - 1);
  close(fd);
  if (now != sec) {
    char nb[24];
    if (quiet) logs("warning: ", ulongfmt(nb, quiet), " more refusals not logged", 0, 0);
    sec = now;
    logged = quiet = 0;
  }
  if (logged++ < REFUSE_LOGS) logs("warning: refused ", ipb, ": ", why, 0);
  else quiet++;
}

static struct penalty *penalty_find(const char ip[16])
{
  for (unsigned i = 0; i < PENALTY_MAX; i++)
    if (pen[i].t && byte_equal(pen[i].ip, 16, ip)) return pen + i;
  return 0;
}

static void penalize(const char ip[16], time_t now)
{
  struct penalty *p = penalty_find(ip);
  if (!p) {
    p = pen;
    for (unsigned i = 1; i < PENALTY_MAX; i++) if (pen[i].t < p->t) p = pen + i;
    byte_copy(p->ip, 16, ip);
  }
  p->t = now;
}

static int penalized(const char ip[16])
{
  struct penalty *p = penalty_find(ip);
  return p && time(0) - p->t < (time_t)(6 * stresssecs);
}

/* 1 when 3/4 of listener l's slots open to non-relay clients are taken */
static int stressed(const struct listener *l)
{
  return stresssecs && l->nkids * 4 >= (maxconn - reserve) * 3;
}

/* any listener in stress mode */
static int any_stressed(void)
{
  for (unsigned j = 0; j < nlns; j++) if (stressed(lns + j)) return 1;
  return 0;
}

/* stress mode: end the non-relay sessions of the stressed listeners that
   are idle or slow (see stresssecs). Runs at most once a second; the 421
   is sent at reap. */
static void sweep(void)
{
  static time_t last;
  time_t now = time(0);
  if (now == last) return;
  last = now;
  for (unsigned long i = 0; i < nslots; i++) {
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    unsigned long age;
    char ipb[IP6_FMT + 1], pb[24];
    const char *why;
    if (!kids[i].pid || kids[i].relay || kids[i].evicted || !stressed(kids[i].l)) continue;
    byte_zero(&ti, sizeof ti);
    if (getsockopt(kids[i].fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0) continue;
    age = now > kids[i].start ? (unsigned long)(now - kids[i].start) : 0;
    if (ti.tcpi_last_data_recv >= stresssecs * 1000) why = " idle";
    else if (age >= 3 * stresssecs && ti.tcpi_bytes_received < (uint64_t)age * SLOW_BPS) why = " slow";
    else continue;
    kill(kids[i].pid, SIGTERM);
    kids[i].evicted = 1;
    penalize(kids[i].ip, now);
    ipfmt(ipb, kids[i].ip);
    logs("warning: stress: ending pid ", ulongfmt(pb, (unsigned long)kids[i].pid), " from ", ipb, why);
  }
}

/* 1 when the rule for the address alone sets RELAYCLIENT */
static int is_relay(const char *ipb)
{
  const char *dm = 0;
  int relay = 0;
  if (rules_check(ipb, 0, &dm, &relay) < 0) return 0;
  return relay;
}

/* admission (tern-listen.8 LIMITS): 0 admitted, else why not */
static const char *admit(const char ip[16], int relay, unsigned long same, const struct listener *l)
{
  unsigned long open = maxconn - reserve;   /* slots for non-relay clients */
  if (l->nkids >= maxconn) return "total connection limit (-c)";
  if (same >= perip) return "per-IP connection limit (-C)";
  if (relay) return 0;
  if (l->nkids >= open) return "limit for non-relay clients (-c minus -R)";
  if (same >= open - l->nkids) return "per-IP share of the free slots";
  if (stressed(l) && same >= (open >= 32 ? open / 16 : 2)) return "per-IP limit under stress";
  if (stresssecs && penalized(ip)) return "sessions recently ended by stress mode";
  return 0;
}

/* accept one connection on l and fork its child */
static void take(struct lsock l, char **prog)
{
  char ip[16], ipb[IP6_FMT + 1], pb[24], nb[24], cb[24], portb[24];
  uint16 rport;
  uint32 scope;
  int fd, relay;
  unsigned long same, k;
  const char *why;
  pid_t pid;
  if (l.v6) fd = socket_accept6(l.fd, ip, &rport, &scope);
  else {
    byte_copy(ip, 12, V4mappedprefix);
    fd = socket_accept4(l.fd, ip + 12, &rport);
  }
  if (fd < 0) return;
  reap();   /* a session that has just ended no longer counts */
  ndelay_off(fd);
  ipfmt(ipb, ip);
  rules_path = l.l->rules;
  relay = is_relay(ipb);
  same = count_ip(ip, l.l);
  why = admit(ip, relay, same, l.l);
  if (why) { refuse(fd, ipb, why); return; }
  pid = fork();
  if (pid < 0) { refuse(fd, ipb, "fork failed"); return; }
  if (pid == 0) child(fd, l.l, ip, rport, same + 1, prog);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  for (k = 0; k < nslots; k++)
    if (!kids[k].pid) {
      kids[k].pid = pid;
      kids[k].fd = fd;
      kids[k].relay = (char)relay;
      kids[k].evicted = 0;
      kids[k].start = time(0);
      byte_copy(kids[k].ip, 16, ip);
      kids[k].l = l.l;
      l.l->nkids++;
      break;
    }
  {
    char line[200];
    size_t m = 0;
    const char *parts[] = { " port ", ulongfmt(portb, rport), " status ", ulongfmt(nb, l.l->nkids), "/", ulongfmt(cb, maxconn), relay ? " relay" : "", " ", l.l->name };
    for (unsigned q = 0; q < 9; q++) { size_t n = strlen(parts[q]); if (m + n > sizeof line - 1) n = sizeof line - 1 - m; memcpy(line + m, parts[q], n); m += n; }
    line[m] = 0;
    logs("info: start pid ", ulongfmt(pb, (unsigned long)pid), " from ", ipb, line);
  }
}

/* at the total limit (-c) a listener stops accepting instead of answering
   421: the clients wait in the kernel's listen queue (-b) until a session
   ends. Logged when it pauses and when it resumes. */
static void pause_full(void)
{
  for (unsigned j = 0; j < nlns; j++) {
    struct listener *l = lns + j;
    int full = l->nkids >= maxconn;
    char cb[24];
    if (full == l->paused) continue;
    l->paused = full;
    if (full) logs("warning: ", l->name, ": total connection limit (-c) of ", ulongfmt(cb, maxconn), " reached; accept paused");
    else logs("info: ", l->name, ": accepting again", 0, 0);
  }
}

/* -L name:port:mode:rules.cdb (port 0: no such listener) */
static void add_listener(char *spec)
{
  char *f[4];
  unsigned long p;
  int n = 0;
  f[n++] = spec;
  for (char *c = spec; *c && n < 4; c++)
    if (*c == ':') { *c = 0; f[n++] = c + 1; }
  if (n != 4 || !*f[0] || strlen(f[0]) > 32 || !scan_num(f[1], &p) || p > 65535) die(100, "bad -L (name:port:mode:rules.cdb): ", spec);
  if (!p) return;
  if (nlns >= LISTENERS_MAX) die(100, "too many listeners", 0);
  lns[nlns].name = f[0];
  lns[nlns].port = (unsigned short)p;
  if (!strcmp(f[2], "plain")) lns[nlns].mode = MODE_PLAIN;
  else if (!strcmp(f[2], "starttls")) lns[nlns].mode = MODE_STARTTLS;
  else if (!strcmp(f[2], "smtps")) lns[nlns].mode = MODE_SMTPS;
  else die(100, "bad -L mode (plain, starttls, smtps): ", f[2]);
  lns[nlns].rules = *f[3] ? f[3] : 0;
  nlns++;
}

/* -T uid:gid */
static void tls_ids(const char *a)
{
  unsigned long u, g;
  const char *colon = strchr(a, ':');
  char ub[24];
  if (!colon || (size_t)(colon - a) >= sizeof ub) die(100, "bad -T (uid:gid): ", a);
  memcpy(ub, a, (size_t)(colon - a));
  ub[colon - a] = 0;
  if (!scan_num(ub, &u) || !scan_num(colon + 1, &g) || !u) die(100, "bad -T (uid:gid, not root): ", a);
  tls_uid = (uid_t)u;
  tls_gid = (gid_t)g;
  tls_on = 1;
}

static unsigned long opt_uid, opt_gid, backlog = 64, nfd;
static int hasu, hasg, notify;

/* the options; returns the index of host[,host...] */
static int options(int argc, char **argv)
{
  int setuidgid = 0, opt;
  while ((opt = getopt(argc, argv, "Uu:g:c:C:R:s:x:ht:N:b:T:k:OL:")) != -1) {
    switch (opt) {
    case 'U': setuidgid = 1; break;
    case 'u': if (!scan_num(optarg, &opt_uid)) die(100, USAGE, 0); hasu = 1; break;
    case 'g': if (!scan_num(optarg, &opt_gid)) die(100, USAGE, 0); hasg = 1; break;
    case 'c': if (!scan_num(optarg, &maxconn) || !maxconn || maxconn > CONN_MAX) die(100, USAGE, 0); break;
    case 'C': if (!scan_num(optarg, &perip) || !perip) die(100, USAGE, 0); break;
    case 'R': if (!scan_num(optarg, &reserve)) die(100, USAGE, 0); break;
    case 's': if (!scan_num(optarg, &stresssecs)) die(100, USAGE, 0); break;
    case 'x': lns[0].rules = optarg; break;
    case 'h': flaghost = 1; break;
    case 't': if (!scan_num(optarg, &dnstimeout) || !dnstimeout) die(100, USAGE, 0); break;
    case 'N': if (!scan_num(optarg, &nfd)) die(100, USAGE, 0); notify = 1; break;
    case 'b': if (!scan_num(optarg, &backlog) || !backlog) die(100, USAGE, 0); break;
    case 'T': tls_ids(optarg); break;
    case 'k': tlsd = optarg; break;
    case 'O': tls_mx_floor = 1; break;
    case 'L': if (!nlns) nlns = 1; add_listener(optarg); break;
    default: die(100, USAGE, 0);
    }
  }
  if (argc - optind < 3) die(100, USAGE, 0);
  if (setuidgid) {
    const char *u = getenv("UID"), *g = getenv("GID");
    if (!u || !scan_num(u, &opt_uid)) die(100, "-U given but UID not set", 0);
    if (!g || !scan_num(g, &opt_gid)) die(100, "-U given but GID not set", 0);
    hasu = hasg = 1;
  }
  if (tls_on && (!tlsd || !hasu || !hasg || !opt_uid)) die(100, "-T needs -k and the session user (-u and -g, or -U), not root", 0);
  if (tlsd && !tls_on) die(100, "-k needs -T", 0);
  if (reserve >= maxconn) die(100, "-R must be less than -c", 0);
  return optind;
}

/* bind every listen address for every listener */
static void bind_all(char *hosts)
{
  for (char *h = hosts; h && *h;) {
    char *comma = strchr(h, ',');
    char ip[16];
    size_t k;
    if (comma) *comma = 0;
    if (!strcmp(h, "0")) { byte_copy(ip, 12, V4mappedprefix); byte_zero(ip + 12, 4); k = 1; }
    else k = scan_ip6(h, ip);
    if (!k || k != strlen(h)) die(100, "bad listen address: ", h);
    for (unsigned j = 0; j < nlns; j++) {
      int s;
      if (nls >= SOCK_MAX) die(100, "too many listen addresses", 0);
      if (ip6_isv4mapped(ip)) {
        s = socket_tcp4b();
        if (s < 0 || socket_bind4_reuse(s, ip + 12, lns[j].port) < 0) diesys(111, "unable to bind ", h);
        ls[nls].v6 = 0;
      } else {
        s = socket_tcp6b();
        if (s < 0 || socket_bind6_reuse(s, ip, lns[j].port, 0) < 0) diesys(111, "unable to bind ", h);
        ls[nls].v6 = 1;
      }
      if (socket_listen(s, (unsigned)backlog) < 0) diesys(111, "unable to listen on ", h);
      fcntl(s, F_SETFD, FD_CLOEXEC);
      ndelay_on(s);
      ls[nls].l = lns + j;
      ls[nls++].fd = s;
    }
    h = comma ? comma + 1 : 0;
  }
}

static void setup(void)
{
  nslots = maxconn * nlns;
  kids = calloc(nslots, sizeof *kids);
  if (!kids) die(111, "out of memory", 0);
  {
    /* one descriptor per session is kept (struct child) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nslots + 64) {
      rl.rlim_cur = rl.rlim_max < nslots + 64 ? rl.rlim_max : nslots + 64;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  if (pipe(selfpipe) < 0) diesys(111, "unable to create self-pipe", 0);
  fcntl(selfpipe[0], F_SETFD, FD_CLOEXEC);
  fcntl(selfpipe[1], F_SETFD, FD_CLOEXEC);
  ndelay_on(selfpipe[0]);
  ndelay_on(selfpipe[1]);
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sig;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
  }
}

int main(int argc, char **argv)
{
  int first;
  unsigned long p;
  first = options(argc, argv);
  if (!scan_num(argv[first + 1], &p) || p > 65535) die(100, "bad port: ", argv[first + 1]);
  lns[0].name = "mx";
  lns[0].port = (unsigned short)p;
  lns[0].mode = tls_on ? MODE_STARTTLS : MODE_PLAIN;
  if (!nlns) nlns = 1;
  setup();
  bind_all(argv[first]);

  /* drop privileges before accepting anything; an id not given stays.
     With TLS, root is kept to start each session's two processes under
     their own users, and each session drops to them (child, start_tls). */
  if (tls_on) {
    sess_uid = (uid_t)opt_uid;
    sess_gid = (gid_t)opt_gid;
  } else if (hasu || hasg) {
    gid_t g = hasg ? (gid_t)opt_gid : getgid();
    priv_drop("tern-listen", hasu ? (uid_t)opt_uid : getuid(), g, 1, &g);
  }
  for (unsigned j = 0; j < nlns; j++) {
    char pb[24];
    logs("info: listening, port ", ulongfmt(pb, lns[j].port), " ", lns[j].name,
         lns[j].mode == MODE_PLAIN || !tls_on ? "" : lns[j].mode == MODE_STARTTLS ? " starttls" : " smtps");
  }
  {
    char cb[24];
    logs("info: status 0/", ulongfmt(cb, maxconn), 0, 0, 0);
  }
  if (notify) {
    (void)!write((int)nfd, "\n", 1);
    close((int)nfd);
  }

  for (;;) {
    struct pollfd pf[SOCK_MAX + 1];
    unsigned n = 0;
    if (gotterm) {
      /* stop listening and exit at once: the sessions go on by
         themselves, and s6 can start the next tern-listen, which binds
         the ports again while they finish */
      for (unsigned i = 0; i < nls; i++) close(ls[i].fd);
      reap();
      logs("info: SIGTERM, exiting; sessions in progress go on", 0, 0, 0, 0);
      return 0;
    }
    pf[n].fd = selfpipe[0]; pf[n].events = POLLIN; pf[n].revents = 0; n++;
    pause_full();
    for (unsigned i = 0; i < nls; i++) {
      pf[n].fd = ls[i].l->paused ? -1 : ls[i].fd;   /* poll skips a negative fd */
      pf[n].events = POLLIN; pf[n].revents = 0; n++;
    }
    if (poll(pf, n, any_stressed() ? 1000 : -1) < 0) {
      if (errno == EINTR) continue;
      diesys(111, "poll", 0);
    }
    if (pf[0].revents) {
      char buf[64];
      while (read(selfpipe[0], buf, sizeof buf) > 0) {}
      reap();
    }
    for (unsigned i = 0; i < nls; i++)   /* an earlier socket of the listener may have filled it */
      if (pf[i + 1].revents && ls[i].l->nkids < maxconn) take(ls[i], argv + first + 2);
    if (any_stressed()) sweep();
  }
}

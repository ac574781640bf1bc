/* config: tern-smtpd's configuration. See config.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/home.h"
#include "smtpd/client.h"
#include "smtpd/config.h"
#include "smtpd/io.h"
#include "smtpd/trace.h"

#define EXIT_TEMP 111
#define EXIT_PERM 100

struct config cfg;
struct client client = { "unknown", 0, 0, 0, 1 };

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
void ctlfail(const char *name, const char *why)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: fatal: unable to read control/");
  lg_cats(&l, name);
  lg_cats(&l, ": ");
  lg_cats(&l, why ? why : strerror(errno));
  lg_log(&l);
  io_reply("421 4.3.0 unable to read controls");
  io_flush();
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

/* a configuration error outside control/: refuse the session */
static void envfail(const char *name, const char *why)
{
  struct lg l;
  l.n = 0;
  lg_cats(&l, "tern-smtpd: fatal: ");
  lg_cats(&l, name);
  lg_cats(&l, ": ");
  lg_cats(&l, why);
  lg_log(&l);
  io_reply("421 4.3.0 local configuration error");
  io_flush();
  _exit(EXIT_PERM);
}

/* a descriptor named by the environment: the number, -1 when unset */
static int env_fd(const char *name)
{
  const char *x = getenv(name);
  unsigned long v;
  if (!x) return -1;
  if (!scan_env_ulong(x, &v) || v > 1023 || fcntl((int)v, F_GETFD) < 0) envfail(name, "not an open descriptor");
  return (int)v;
}

/* TLS, the listener and AUTH (tern-smtpd.8 TLS, AUTH) */
static void setup_secure(void)
{
  const char *l = getenv("TERN_LISTENER");
  cfg.sslctl = env_fd("SSLCTLFD");
  cfg.sslread = env_fd("SSLREADFD");
  cfg.sslwrite = env_fd("SSLWRITEFD");
  if (cfg.sslctl >= 0 && (cfg.sslread < 0 || cfg.sslwrite < 0)) envfail("SSLCTLFD", "set without SSLREADFD and SSLWRITEFD");
  if (!l || !*l || !strcmp(l, "mx")) cfg.listener = L_MX;
  else if (!strcmp(l, "submission")) cfg.listener = L_SUBMISSION;
  else if (!strcmp(l, "smtps")) cfg.listener = L_SMTPS;
  else envfail("TERN_LISTENER", "not mx, submission or smtps");
  if (cfg.listener == L_SMTPS && cfg.sslctl < 0) envfail("TERN_LISTENER", "smtps without SSLCTLFD");
  if (readline_ctl("authcheck", cfg.authline, "") && cfg.authline[0]
      && !authrun_split(cfg.authline, cfg.authargv))
    ctlfail("authcheck", "not a command (absolute, or a name in PATH) and at most 15 arguments");
  readlist_ctl("authplaintext", &cfg.authplain);
  readlist_ctl("authsenders", &cfg.authsenders);
  cfg.timeoutauth = readulong_ctl("timeoutauth", 30);
  cfg.authfailmax = readulong_ctl("authfailmax", 10);
  cfg.authfaildelay = readulong_ctl("authfaildelay", 5);
  cfg.authfailwindow = readulong_ctl("authfailwindow", 3600);
  if (!cfg.timeoutauth) cfg.timeoutauth = 1;
  if (!cfg.authfailmax) cfg.authfailmax = 1;
  snprintf(cfg.faildir, sizeof cfg.faildir, "%s/auth-fail", home_get());
}

void config_setup(void)
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
  setup_secure();
}


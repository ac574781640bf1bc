/* tern-send's configuration (sconf.h): every control file read into one
   struct, validated whole, swapped whole. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "common/home.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/sconf.h"

#define BOUNCEMAX_CAP (16u << 20)

const struct sconf *conf;

/* why the last load failed: two parts, logged after a prefix */
static const char *why1, *why2;
static char whyfile[64];
/* at start-up there is no old configuration to keep: a malformed value
   (not an unreadable file) is logged and its default used, so that one
   bad file never makes tern-send exit and restart in a loop */
static int lenient;

static int fail(const char *a, const char *b)
{
  why1 = a;
  why2 = b;
  return 0;
}

/* HOME/control/NAME: absolute, since SIGHUP rereads from inside queue/ */
static const char *ctlpath(const char *name)
{
  static char p[4200 + 64];
  size_t h = strlen(home_get());
  if (h > 4200) h = 4200;
  memcpy(p, home_get(), h);
  memcpy(p + h, "/control/", 9);
  strncpy(p + h + 9, name, 54);
  p[h + 9 + 54] = 0;
  return p;
}

/* control/NAME's first line into buf, def when missing or empty. 1, or 0 */
static int line_or(const char *name, char *buf, const char *def)
{
  size_t len;
  int r = ctl_readline(ctlpath(name), buf, CTL_LINE_MAX, &len);
  if (r < 0) return 0;
  if (!r || !len) strcpy(buf, def);
  return 1;
}

/* a number from control/NAME; on failure say which file and why */
static int number(const char *name, unsigned long *v, unsigned long def)
{
  int r = ctl_readulong(ctlpath(name), v, def);
  if (r >= 0) return 1;
  strcpy(whyfile, "control/");
  strcat(whyfile, name);
  if (r == -2 && lenient) {
    log3("alert: ", whyfile, " is not an unsigned decimal number (or out of range): using its default; see tern-showctl -c");
    *v = def;
    return 1;
  }
  if (r == -2) return fail(whyfile, " is not an unsigned decimal number (or out of range); see tern-showctl");
  return fail("unable to read ", whyfile);
}

static int lists(struct sconf *c)
{
  int r = ctl_readlist(ctlpath("locals"), &c->locals);
  if (r < 0) return fail("unable to read control/locals", "");
  if (!r || !c->locals.n) {
    ctl_listfree(&c->locals);
    if (!c->me[0]) return fail("no control/locals and no control/me", "");
    c->locals.len = strlen(c->me) + 1;
    c->locals.s = xrealloc(0, c->locals.len);
    memcpy(c->locals.s, c->me, c->locals.len);
    c->locals.n = 1;
  }
  if (ctl_readlist(ctlpath("virtualdomains"), &c->vdoms) < 0) return fail("unable to read control/virtualdomains", "");
  if (ctl_readlist(ctlpath("percenthack"), &c->phack) < 0) return fail("unable to read control/percenthack", "");
  return 1;
}

static int names(struct sconf *c)
{
  size_t len;
  const char *me;
  int r = ctl_readline(ctlpath("me"), c->me, sizeof c->me, &len);
  if (r < 0) return fail("unable to read control/me", "");
  if (!r) c->me[0] = 0;
  me = c->me[0] ? c->me : 0;
  if (!line_or("envnoathost", c->envnoathost, me ? me : "envnoathost")
      || !line_or("bouncefrom", c->bouncefrom, "MAILER-DAEMON")
      || !line_or("bouncehost", c->bouncehost, me ? me : "bouncehost"))
    return fail("unable to read controls", "");
  r = ctl_readline(ctlpath("doublebounceto"), c->doublebounceto, sizeof c->doublebounceto, &len);
  if (r < 0) return fail("unable to read control/doublebounceto", "");
  c->dbto_empty = r && !len;     /* an empty line: double bounces are discarded */
  if (!r) strcpy(c->doublebounceto, "postmaster");
  if (!line_or("doublebouncehost", c->doublebouncehost, me ? me : "doublebouncehost"))
    return fail("unable to read control/doublebouncehost", "");
  return 1;
}

static int numbers(struct sconf *c)
{
  unsigned long u;
  char dw[CTL_LINE_MAX];
  size_t len;
  int r;
  if (!number("concurrencylocal", &u, 10)) return 0;
  c->conc[0] = u > 255 ? 255 : (unsigned)u;
  if (!number("concurrencyremote", &u, 20)) return 0;
  c->conc[1] = u > 255 ? 255 : (unsigned)u;
  if (!number("queuelifetime", &c->lifetime, 604800)) return 0;
  if (!number("bouncemaxbytes", &c->bouncemax, 102400)) return 0;
  if (c->bouncemax > BOUNCEMAX_CAP) c->bouncemax = BOUNCEMAX_CAP;
  r = ctl_readline(ctlpath("delaywarning"), dw, sizeof dw, &len);
  if (r < 0) return fail("unable to read control/delaywarning", "");
  c->delaywarn = 0;
  if (r && len && !sched_hours(dw, &c->delaywarn)) {
    if (!lenient) return fail("bad control/delaywarning (hours, e.g. 4 or 0.5)", "");
    log1("alert: bad control/delaywarning (hours, e.g. 4 or 0.5): no delay warnings until it is fixed; see tern-showctl -c");
    c->delaywarn = 0;
  }
  return 1;
}

/* control/bouncebody (what a bounce may quote, per origin) and the uid
   whose injections came from tern-smtpd */
static int bodymode(struct sconf *c, int warn)
{
  struct ctl_list l = CTL_LIST_ZERO;
  struct passwd *pw;
  size_t pos = 0;
  const char *line;
  sched_bodymode_default(c->bodymode);
  if (ctl_readlist(ctlpath("bouncebody"), &l) < 0) return fail("unable to read control/bouncebody", "");
  while ((line = ctl_listnext(&l, &pos)))
    if (!sched_bodymode_line(line, strlen(line), c->bodymode)) {
      ctl_listfree(&l);
      if (!lenient) return fail("bad control/bouncebody (lines all, headers, or local:, auth:, smtp: followed by one of them)", "");
      log1("alert: bad control/bouncebody: using its defaults (smtp:headers local:all auth:all); see tern-showctl -c");
      sched_bodymode_default(c->bodymode);
      break;
    }
  ctl_listfree(&l);
  pw = getpwnam("ternd");
  c->smtpuid = pw ? (uint64_t)pw->pw_uid : SCHED_UID_UNKNOWN;
  if (!pw && warn) log1("warning: no user ternd: every message counts as mail from an unauthenticated SMTP client for control/bouncebody");
  return 1;
}

static void sconf_free(struct sconf *c)
{
  ctl_listfree(&c->locals);
  ctl_listfree(&c->vdoms);
  ctl_listfree(&c->phack);
  free(c);
}

/* a new struct, or 0 (why1, why2 say why). warnme: log a missing control/me */
static struct sconf *load(int warnme)
{
  struct sconf *c = xrealloc(0, sizeof *c);
  memset(c, 0, sizeof *c);
  if (!names(c)) goto err;
  if (warnme && !c->me[0]) log1("warning: control/me is missing or empty: bounces and unqualified addresses use the literal names bouncehost and envnoathost unless those control files are set");
  if (!numbers(c) || !lists(c) || !bodymode(c, warnme)) goto err;
  c->sctl.locals = &c->locals;
  c->sctl.vdoms = &c->vdoms;
  c->sctl.percenthack = &c->phack;
  c->sctl.envnoathost = c->envnoathost;
  return c;
err:
  sconf_free(c);
  return 0;
}

int sconf_start(void)
{
  struct sconf *c;
  lenient = 1;
  c = load(1);
  lenient = 0;
  if (!c) { log3("alert: cannot start: ", why1, why2); return 0; }
  conf = c;
  return 1;
}

int sconf_reload(void)
{
  struct sconf *c = load(0);
  if (!c) {
    log3("warning: keeping the old control/locals, control/virtualdomains and the other control files: ", why1, why2);
    return 0;
  }
  sconf_free((struct sconf *)conf);
  conf = c;
  log1("status: reread control/locals, control/virtualdomains and the other control files");
  return 1;
}

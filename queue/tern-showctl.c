/* tern-showctl: print every control file any tern program reads, with its
   effective value and whether that value is the default (the file is
   absent), like qmail-showctl(8); then any file in HOME/control that no tern
   program reads. Read-only. With -c: check instead of show, with the
   parsers the programs use (common/ctl.c, send/sched.c's sched_hours),
   and warn about compiled files older than their source. See
   tern-showctl.8. Keep the table in step with the programs: grep
   'control/' in every family's *.c. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/addr.h"
#include "common/ctl.h"
#include "common/filters.h"
#include "common/home.h"
#include "send/sched.h"

enum kind { LINE, NUM, LIST, EXISTS };
struct ctl {
  const char *name;
  enum kind kind;
  const char *def;   /* LINE/NUM: default value ("@me" = control/me); LIST/EXISTS: what absence means */
  const char *who;   /* the programs that read it */
  unsigned long min; /* NUM: the smallest value the reader accepts */
};

static const struct ctl ctls[] = {
  { "me", LINE, "", "tern-send tern-smtpd tern-remote tern-inject tern-newaliases", 0 },
  { "locals", LIST, "me only", "tern-send tern-smtpd", 0 },
  { "rcpthosts", LIST, "me only (tern is never an open relay)", "tern-smtpd", 0 },
  { "morercpthosts.cdb", EXISTS, "none", "tern-smtpd", 0 },
  { "morercpthosts", LIST, "none (source of morercpthosts.cdb)", "tern-showctl -c (its age against morercpthosts.cdb)", 0 },
  { "virtualdomains", LIST, "none", "tern-send tern-smtpd", 0 },
  { "percenthack", LIST, "none", "tern-send", 0 },
  { "defaultdelivery", LINE, "./Maildir/", "tern-lspawn", 0 },
  { "defaulthost", LINE, "@me", "tern-inject", 0 },
  { "idhost", LINE, "@me", "tern-inject", 0 },
  { "defaultdomain", LINE, "(none: host names without a dot stay as they are)", "tern-inject", 0 },
  { "plusdomain", LINE, "(none: a host name ending in '+' stays as it is)", "tern-inject", 0 },
  { "envnoathost", LINE, "@me", "tern-send", 0 },
  { "bouncefrom", LINE, "MAILER-DAEMON", "tern-send", 0 },
  { "bouncehost", LINE, "@me", "tern-send", 0 },
  { "bouncemaxbytes", NUM, "102400", "tern-send", 0 },
  { "doublebounceto", LINE, "postmaster", "tern-send", 0 },
  { "doublebouncehost", LINE, "@me", "tern-send", 0 },
  { "delaywarning", LINE, "0 (off)", "tern-send", 0 },
  { "concurrencylocal", NUM, "10", "tern-send", 0 },
  { "concurrencyremote", NUM, "20", "tern-send", 0 },
  { "queuelifetime", NUM, "604800", "tern-send", 0 },
  { "maxhops", NUM, "100", "tern-local", 0 },
  { "helohost", LINE, "@me", "tern-remote", 0 },
  { "smtproutes", LIST, "none (MX records)", "tern-remote", 0 },
  { "outgoingip", LINE, "(none: the kernel chooses)", "tern-remote", 0 },
  { "remotefamily", LINE, "any", "tern-remote", 0 },
  { "moreipme", LIST, "none", "tern-remote", 0 },
  { "notipme", LIST, "none", "tern-remote", 0 },
  { "timeoutconnect", NUM, "60", "tern-remote", 1 },
  { "timeoutremote", NUM, "1200", "tern-remote", 1 },
  { "timeoutdns", NUM, "120", "tern-remote", 1 },
  { "dnscacheip", LINE, "(none: /etc/resolv.conf)", "tern-remote", 0 },
  { "smtpgreeting", LINE, "@me", "tern-smtpd", 0 },
  { "localiphost", LINE, "@me", "tern-smtpd", 0 },
  { "badmailfrom", LIST, "none", "tern-smtpd", 0 },
  { "badrcptto", LIST, "none", "tern-smtpd", 0 },
  { "databytes", NUM, "26214400", "tern-smtpd", 0 },
  { "maxrcpt", NUM, "100", "tern-smtpd", 0 },
  { "timeoutsmtpd", NUM, "1200", "tern-smtpd", 0 },
  { "timeoutsession", NUM, "3600", "tern-smtpd", 0 },
  { "maxbadcmds", NUM, "20", "tern-smtpd", 0 },
  { "greetdelay", NUM, "0", "tern-smtpd", 0 },
  { "rcptcheck", NUM, "1", "tern-smtpd", 0 },
  { "authplaintext", LIST, "none (AUTH only inside TLS)", "tern-smtpd", 0 },
  { "authsenders", LIST, "none (the user's own addresses only)", "tern-smtpd", 0 },
  { "timeoutauth", NUM, "30", "tern-smtpd", 0 },
  { "authfailmax", NUM, "10", "tern-smtpd", 0 },
  { "authfaildelay", NUM, "5", "tern-smtpd", 0 },
  { "authfailwindow", NUM, "3600", "tern-smtpd", 0 },
  { "tlsminprotocol", LINE, "TLSv1.2 (only read with tern-tlsd -o, the MX port)", "tern-tlsd", 0 },
  { "authdovecot", LINE, "/run/dovecot/auth-client", "tern-authdovecot", 0 },
  { "smtplisten", LINE, "(none: the smtpd service cannot start)", "smtpd service (tern-listen)", 0 },
  { "smtpport", LINE, "(none: the smtpd service cannot start)", "smtpd service (tern-listen)", 0 },
  { "concurrencyincoming", NUM, "120", "smtpd service (tern-listen -c)", 0 },
  { "concurrencyrelay", NUM, "10", "smtpd service (tern-listen -R)", 0 },
  { "concurrencyperip", NUM, "50", "smtpd service (tern-listen -C)", 0 },
  { "timeoutstress", NUM, "10", "smtpd service (tern-listen -s)", 0 },
  { "smtprules", LIST, "none (source of smtprules.cdb)", "tern-rules", 0 },
  { "smtprules.cdb", EXISTS, "none: the smtpd service cannot start", "tern-listen", 0 },
  { "submissionport", NUM, "587 (0: no submission listener)", "smtpd service (tern-listen -L submission)", 0 },
  { "submissionrules.cdb", EXISTS, "none", "tern-listen (submission listener)", 0 },
  { "smtpsport", NUM, "465 (0: no smtps listener; only with a certificate in HOME/tls)", "smtpd service (tern-listen -L smtps)", 0 },
  { "smtpsrules.cdb", EXISTS, "none", "tern-listen (smtps listener)", 0 },
  { "authcheck", LINE, "(none: the command tern-smtpd runs to check a password)", "tern-smtpd", 0 },
  { "auth.rules", EXISTS, "none: nobody may check passwords", "auth service (s6-ipcserver-access)", 0 },
  { "bouncebody", LIST, "local:all auth:all smtp:headers", "tern-send", 0 },
  { "tlspolicy", LIST, "none (dane when the resolver validates, see dnssecprobe; else may)", "tern-remote", 0 },
  { "tlscafile", LINE, "/etc/ssl/certs/ca-certificates.crt", "tern-remote, tern-mtasts", 0 },
  { "submissionrules", LIST, "none (source of submissionrules.cdb)", "tern-rules", 0 },
  { "smtpsrules", LIST, "none (source of smtpsrules.cdb)", "tern-rules", 0 },
  { "queueusers", LIST, "every uid, 20 injections at once, no byte limit", "tern-queued (WHO:CONCURRENCY:BYTES)", 0 },
  { "rspamd", LINE, "127.0.0.1:11333", "tern-rspamc (IPv4:PORT, [IPv6]:PORT or /path of a Unix socket)", 0 },
  { "rspamddown", LINE, "accept (tempfail: 451 while rspamd cannot answer)", "tern-rspamc", 0 },
  { "timeoutrspamd", NUM, "30", "tern-rspamc", 1 },
  { "filters", LIST, "none (every way in goes straight to the queue)", "tern-qnext (SOURCE:PROGRAM [ARG...]; the chain of each of smtp, submission, smtps, local, bounce, forward, in file order)", 0 },
  { "dkimbytes", NUM, "67108864 (0: the same; larger messages are refused)", "tern-dkimsign", 0 },
  { "dnssecprobe", LINE, "org (empty: never dane by default)", "tern-remote", 0 },
};
#define NCTLS (sizeof ctls / sizeof ctls[0])

static char me[CTL_LINE_MAX];
static int errors;

static void outs(const char *s)
{
  for (; *s; s++) putchar(((unsigned char)*s >= 32 && (unsigned char)*s <= 126) ? *s : '_');
}

static void show(const struct ctl *c)
{
  char fn[64], buf[CTL_LINE_MAX];
  size_t len;
  int r;
  snprintf(fn, sizeof fn, "control/%s", c->name);
  printf("%s: ", c->name);
  switch (c->kind) {
    case LINE:
      r = ctl_readline(fn, buf, sizeof buf, &len);
      if (r < 0) { printf("ERROR: %s", strerror(errno)); errors++; }
      else if (r) { putchar('"'); outs(buf); putchar('"'); }
      else if (!strcmp(c->def, "@me")) { printf("(default: me) \""); outs(me); putchar('"'); }
      else if (c->def[0] == '(' || !c->def[0]) printf("(default) %s", c->def[0] ? c->def : "(none)");
      else printf("(default) \"%s\"", c->def);
      break;
    case NUM: {
      unsigned long v;
      r = ctl_readulong(fn, &v, 0);
      if (r == 1) printf("%lu", v);
      else if (!r) printf("(default) %s", c->def);
      else { printf("ERROR: %s", r == -2 ? "not a number: the programs refuse it" : strerror(errno)); errors++; }
      break;
    }
    case LIST: {
      struct ctl_list l = CTL_LIST_ZERO;
      size_t pos = 0;
      const char *e;
      r = ctl_readlist(fn, &l);
      if (r < 0) { printf("ERROR: %s", strerror(errno)); errors++; }
      else if (!r) printf("(default) %s", c->def);
      else {
        printf("%lu entr%s", (unsigned long)l.n, l.n == 1 ? "y" : "ies");
        while ((e = ctl_listnext(&l, &pos))) { fputs("\n  ", stdout); outs(e); }
      }
      ctl_listfree(&l);
      break;
    }
    case EXISTS: {
      struct stat st;
      if (stat(fn, &st) == 0) printf("present (%s, %lld bytes)", S_ISDIR(st.st_mode) ? "directory" : "file", (long long)st.st_size);
      else if (errno == ENOENT) printf("(default) absent: %s", c->def);
      else { printf("ERROR: %s", strerror(errno)); errors++; }
      break;
    }
  }
  printf("\n    read by %s\n", c->who);
}

/* ---- -c: check every file as its readers do ---- */

static int warnings;

/* one finding on stderr: "tern-showctl: error: control/F line N: what: "value"" */
static void complain(int fatal, const char *fn, unsigned long line, const char *what, const char *val)
{
  fprintf(stderr, "tern-showctl: %s: %s", fatal ? "error" : "warning", fn);
  if (line) fprintf(stderr, " line %lu", line);
  fprintf(stderr, ": %s", what);
  if (val) {
    fputs(": \"", stderr);
    for (; *val; val++) fputc(((unsigned char)*val >= 32 && (unsigned char)*val <= 126) ? *val : '_', stderr);
    fputc('"', stderr);
  }
  fputc('\n', stderr);
  if (fatal) errors++; else warnings++;
}

/* the line number (from 1) of entry k (from 0) of a list file, counted
   as ctl_readlist counts entries; 0 if not found */
static unsigned long entryline(const char *fn, size_t k)
{
  FILE *f = fopen(fn, "r");
  char *b = 0;
  size_t cap = 0;
  ssize_t n;
  unsigned long line = 0, hit = 0;
  if (!f) return 0;
  while ((n = getline(&b, &cap, f)) >= 0) {
    line++;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r')) n--;
    if (n > 0 && b[0] != '#' && !k--) { hit = line; break; }
  }
  free(b);
  fclose(f);
  return hit;
}

/* an address as tern-remote's outgoingip and smtproutes literals take it */
static int isip(const char *s, int v6)
{
  unsigned char ip[16];
  return inet_pton(v6 ? AF_INET6 : AF_INET, s, ip) == 1;
}

/* one smtproutes entry "key:relay[ auth=NAME]" (parsed by ctl_relay_auth,
   as tern-remote parses it) */
static void check_route(const char *fn, const char *e, size_t k)
{
  const char *colon = strchr(e, ':');
  char name[CTL_LINE_MAX], lit[CTL_LINE_MAX], auth[65];
  unsigned long port;
  size_t n;
  if (!colon) { complain(0, fn, entryline(fn, k), "no ':' (domain:relay): tern-remote ignores the entry", e); return; }
  if (!colon[1]) return;   /* "domain:": MX records */
  if (!ctl_relay_auth(colon + 1, name, ADDR_DOMAIN_MAX + 1, &port, auth, sizeof auth)) {   /* tern-remote's buffers */
    complain(1, fn, entryline(fn, k), "not host[:port] or [address][:port] with a port 1..65535, then optionally \" auth=NAME\": tern-remote defers every message it routes", e);
    return;
  }
  n = strlen(name);
  if (name[0] != '[') return;
  memcpy(lit, name + 1, n - 2);
  lit[n - 2] = 0;
  if (!strncasecmp(lit, "IPv6:", 5) ? isip(lit + 5, 1) : isip(lit, 0)) return;
  complain(1, fn, entryline(fn, k), "not an address literal ([a.b.c.d] or [IPv6:...]): tern-remote finds no address for it", e);
}

/* one control/filters entry, as tern-qnext reads it (common/filters.h);
   a chain too long is reported at its first line past the limit */
static void check_filter(const char *fn, const char *e, size_t k)
{
  static size_t count[FILTERS_NSOURCES];
  char words[CTL_LINE_MAX], path[4096], *argv[FILTERS_ARGV_MAX + 1];
  const char *prog;
  int src;
  if (k == 0) memset(count, 0, sizeof count);
  if (filters_line(e, &src, &prog) < 0 || filters_split(prog, words, sizeof words, argv) < 1) {
    complain(1, fn, entryline(fn, k), "not SOURCE:PROGRAM [ARG...] (SOURCE: smtp, submission, smtps, local, bounce or forward; PROGRAM a name in HOME/bin or an absolute path): tern-qnext refuses every message", e);
    return;
  }
  if (++count[src] > FILTERS_CHAIN_MAX) {
    complain(1, fn, entryline(fn, k), "more than 8 filters for one source: tern-qnext refuses every message", e);
    return;
  }
  if (argv[0][0] == '/') snprintf(path, sizeof path, "%s", argv[0]);
  else snprintf(path, sizeof path, "bin/%s", argv[0]);
  if (access(path, X_OK) < 0) complain(1, fn, entryline(fn, k), "the program cannot be run: the messages of its source are refused", path);
}

/* what a single-line file's readers refuse */
static void check_value(const char *name, const char *fn, const char *v)
{
  unsigned long u;
  if (!strcmp(name, "delaywarning")) {
    if (*v && !sched_hours(v, &u)) complain(1, fn, 1, "not a number of hours (4, 0.5; at most 100000): tern-send refuses to start", v);
  } else if (!strcmp(name, "outgoingip")) {
    if (*v && !isip(v, 0) && !isip(v, 1)) complain(1, fn, 1, "not an IPv4 or IPv6 address: tern-remote defers every delivery", v);
  } else if (!strcmp(name, "remotefamily")) {
    if (*v && strcmp(v, "any") && strcmp(v, "ipv4") && strcmp(v, "ipv6")) complain(1, fn, 1, "not any, ipv4 or ipv6: tern-remote defers every delivery", v);
  } else if (!strcmp(name, "dnscacheip")) {
    if (strlen(v) > 255 || strspn(v, "0123456789abcdefABCDEF:. ") != strlen(v)) complain(1, fn, 1, "not a list of IP addresses: tern-remote defers every delivery", v);
  } else if (!strcmp(name, "tlsminprotocol")) {
    if (strcmp(v, "TLSv1") && strcmp(v, "TLSv1.1") && strcmp(v, "TLSv1.2") && strcmp(v, "TLSv1.3"))
      complain(1, fn, 1, "not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3: tern-tlsd -o refuses to start", v);
  } else if (!strcmp(name, "smtpport")) {
    size_t d = strspn(v, "0123456789");
    if (!d || v[d] || d > 5 || strtoul(v, 0, 10) < 1 || strtoul(v, 0, 10) > 65535) complain(1, fn, 1, "not a port 1..65535: the smtpd service cannot start", v);
  }
}

static void check(const struct ctl *c)
{
  char fn[64], buf[CTL_LINE_MAX];
  size_t len;
  int r;
  snprintf(fn, sizeof fn, "control/%s", c->name);
  switch (c->kind) {
    case LINE:
      r = ctl_readline(fn, buf, sizeof buf, &len);
      if (r < 0) complain(1, fn, 0, errno == EFBIG ? "a line too long" : errno == EINVAL ? "a NUL byte" : strerror(errno), 0);
      else if (r) check_value(c->name, fn, buf);
      else if (!strcmp(c->name, "smtplisten") || !strcmp(c->name, "smtpport")) complain(0, fn, 0, "missing: the smtpd service cannot start", 0);
      break;
    case NUM: {
      unsigned long v;
      r = ctl_readulong(fn, &v, 0);
      if (r == -1) complain(1, fn, 0, strerror(errno), 0);
      else if (r == -2) {
        ctl_readline(fn, buf, sizeof buf, &len);
        complain(1, fn, 1, "not an unsigned decimal number: the programs that read it refuse it", buf);
      } else if (r == 1 && strstr(c->name, "port") && v > 65535) {
        snprintf(buf, sizeof buf, "%lu", v);
        complain(1, fn, 1, "not a port 0..65535 (0: off): the smtpd service cannot start", buf);
      } else if (r == 1 && v < c->min) {
        snprintf(buf, sizeof buf, "%lu", v);
        complain(1, fn, 1, c->min == 1 ? "must be at least 1: the programs that read it refuse 0" : "too small", buf);
      }
      break;
    }
    case LIST: {
      struct ctl_list l = CTL_LIST_ZERO;
      size_t pos = 0, k = 0;
      const char *e;
      r = ctl_readlist(fn, &l);
      if (r < 0) complain(1, fn, 0, errno == EFBIG ? "over 16 MiB" : errno == EINVAL ? "a NUL byte" : strerror(errno), 0);
      else if (!strcmp(c->name, "smtproutes")) while ((e = ctl_listnext(&l, &pos))) check_route(fn, e, k++);
      else if (!strcmp(c->name, "filters")) while ((e = ctl_listnext(&l, &pos))) check_filter(fn, e, k++);
      ctl_listfree(&l);
      break;
    }
    case EXISTS: {
      struct stat st;
      if (stat(fn, &st) < 0 && errno != ENOENT) complain(1, fn, 0, strerror(errno), 0);
      break;
    }
  }
}

/* a compiled file older than its source, or missing while the source exists */
static void check_stale(const char *src, const char *out, const char *cmd)
{
  struct stat s, o;
  char what[256];
  if (stat(src, &s) < 0) return;
  if (stat(out, &o) < 0) {
    snprintf(what, sizeof what, "%s exists but %s does not: run %s", src, out, cmd);
    complain(0, out, 0, what, 0);
    return;
  }
  if (s.st_mtim.tv_sec > o.st_mtim.tv_sec || (s.st_mtim.tv_sec == o.st_mtim.tv_sec && s.st_mtim.tv_nsec > o.st_mtim.tv_nsec)) {
    snprintf(what, sizeof what, "older than %s (changed without compiling it again?): run %s", src, cmd);
    complain(0, out, 0, what, 0);
  }
}

static int checkall(const char *home)
{
  char me_[CTL_LINE_MAX], b[CTL_LINE_MAX], cmd[512];
  size_t len;
  for (size_t i = 0; i < NCTLS; i++) check(&ctls[i]);
  if (ctl_readline("control/me", me_, sizeof me_, &len) >= 0 && !me_[0]) {
    if (ctl_readline("control/helohost", b, sizeof b, &len) >= 0 && !b[0])
      complain(1, "control/me", 0, "missing or empty, and no control/helohost: tern-remote defers every delivery", 0);
    if (ctl_readline("control/smtpgreeting", b, sizeof b, &len) >= 0 && !b[0])
      complain(1, "control/me", 0, "missing or empty, and no control/smtpgreeting: tern-smtpd refuses every session", 0);
  }
  snprintf(cmd, sizeof cmd, "%s/bin/tern-rules as tern-rules(8) says", home);
  check_stale("control/smtprules", "control/smtprules.cdb", cmd);
  check_stale("control/morercpthosts", "control/morercpthosts.cdb", "a cdb compiler (qmail-newmrh's job: one key per domain)");
  snprintf(cmd, sizeof cmd, "%s/bin/tern-newu", home);
  check_stale("users/assign", "users/cdb", cmd);
  snprintf(cmd, sizeof cmd, "%s/bin/tern-newaliases", home);
  check_stale("/etc/aliases", "alias/.tern-newaliases-list", cmd);
  if (errors) printf("tern-showctl: %d error%s, %d warning%s: a daemon would refuse this configuration\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  else printf("tern-showctl: configuration OK (%d warning%s)\n", warnings, warnings == 1 ? "" : "s");
  if (fflush(stdout) || ferror(stdout)) return 111;
  return errors ? 100 : 0;
}

int main(int argc, char **argv)
{
  const char *home = home_get();
  size_t len;
  DIR *d;
  struct dirent *de;
  int checking = argc == 2 && !strcmp(argv[1], "-c");
  if (argc > 1 && !checking) { fprintf(stderr, "usage: tern-showctl [-c]\n"); return 100; }
  if (chdir(home) < 0) { fprintf(stderr, "tern-showctl: fatal: unable to chdir to %s: %s\n", home, strerror(errno)); return 111; }
  if (checking) return checkall(home);
  printf("tern home directory: %s\n", home);
  if (ctl_readline("control/me", me, sizeof me, &len) != 1 || !len) strcpy(me, "(none)");
  printf("control files in %s/control (\"(default)\": the file is absent):\n\n", home);
  for (size_t i = 0; i < NCTLS; i++) show(&ctls[i]);
  d = opendir("control");
  if (!d) { fprintf(stderr, "tern-showctl: fatal: unable to read %s/control: %s\n", home, strerror(errno)); return 111; }
  for (;;) {
    size_t i;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (de->d_name[0] == '.') continue;
    for (i = 0; i < NCTLS; i++) if (!strcmp(de->d_name, ctls[i].name)) break;
    if (i < NCTLS) continue;
    if (!strcmp(de->d_name, "smtprules.tmp")) continue;
    putchar('\n');
    outs(de->d_name);
    fputs(": not read by any tern program (a typo?)\n", stdout);
  }
  closedir(d);
  if (fflush(stdout) || ferror(stdout)) return 111;
  return errors ? 100 : 0;
}

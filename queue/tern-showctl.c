/* tern-showctl: print every control file any tern program reads, with its
   effective value and whether that value is the default (the file is
   absent), like qmail-showctl(8); then any file in HOME/control that no tern
   program reads. Read-only. See tern-showctl.8. Keep the table in step
   with the programs: grep 'control/' in every family's *.c. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/ctl.h"
#include "common/home.h"

enum kind { LINE, NUM, LIST, EXISTS };
struct ctl {
  const char *name;
  enum kind kind;
  const char *def;   /* LINE/NUM: default value ("@me" = control/me); LIST/EXISTS: what absence means */
  const char *who;   /* the programs that read it */
};

static const struct ctl ctls[] = {
  { "me", LINE, "", "tern-send tern-smtpd tern-remote tern-inject tern-newaliases" },
  { "locals", LIST, "me only", "tern-send tern-smtpd" },
  { "rcpthosts", LIST, "me only (tern is never an open relay)", "tern-smtpd" },
  { "morercpthosts.cdb", EXISTS, "none", "tern-smtpd" },
  { "virtualdomains", LIST, "none", "tern-send tern-smtpd" },
  { "percenthack", LIST, "none", "tern-send" },
  { "defaultdelivery", LINE, "./Maildir/", "tern-lspawn" },
  { "defaulthost", LINE, "@me", "tern-inject" },
  { "idhost", LINE, "@me", "tern-inject" },
  { "defaultdomain", LINE, "(none: host names without a dot stay as they are)", "tern-inject" },
  { "plusdomain", LINE, "(none: a host name ending in '+' stays as it is)", "tern-inject" },
  { "envnoathost", LINE, "@me", "tern-send" },
  { "bouncefrom", LINE, "MAILER-DAEMON", "tern-send" },
  { "bouncehost", LINE, "@me", "tern-send" },
  { "bouncemaxbytes", NUM, "102400", "tern-send" },
  { "doublebounceto", LINE, "postmaster", "tern-send" },
  { "doublebouncehost", LINE, "@me", "tern-send" },
  { "delaywarning", LINE, "0 (off)", "tern-send" },
  { "concurrencylocal", NUM, "10", "tern-send" },
  { "concurrencyremote", NUM, "20", "tern-send" },
  { "queuelifetime", NUM, "604800", "tern-send" },
  { "maxhops", NUM, "100", "tern-local" },
  { "helohost", LINE, "@me", "tern-remote" },
  { "smtproutes", LIST, "none (MX records)", "tern-remote" },
  { "outgoingip", LINE, "(none: the kernel chooses)", "tern-remote" },
  { "remotefamily", LINE, "any", "tern-remote" },
  { "moreipme", LIST, "none", "tern-remote" },
  { "notipme", LIST, "none", "tern-remote" },
  { "timeoutconnect", NUM, "60", "tern-remote" },
  { "timeoutremote", NUM, "1200", "tern-remote" },
  { "timeoutdns", NUM, "120", "tern-remote" },
  { "dnscacheip", LINE, "(none: /etc/resolv.conf)", "tern-remote" },
  { "tlspolicy", LIST, "none (may: STARTTLS when offered)", "tern-remote" },
  { "tlscafile", LINE, "/etc/ssl/certs/ca-certificates.crt", "tern-remote" },
  { "smtpgreeting", LINE, "@me", "tern-smtpd" },
  { "localiphost", LINE, "@me", "tern-smtpd" },
  { "badmailfrom", LIST, "none", "tern-smtpd" },
  { "badrcptto", LIST, "none", "tern-smtpd" },
  { "databytes", NUM, "26214400", "tern-smtpd" },
  { "maxrcpt", NUM, "100", "tern-smtpd" },
  { "timeoutsmtpd", NUM, "1200", "tern-smtpd" },
  { "timeoutsession", NUM, "3600", "tern-smtpd" },
  { "maxbadcmds", NUM, "20", "tern-smtpd" },
  { "greetdelay", NUM, "0", "tern-smtpd" },
  { "rcptcheck", NUM, "1", "tern-smtpd" },
  { "tlsminprotocol", LINE, "TLSv1.2 (only read with tern-tlsd -o, the MX port)", "tern-tlsd" },
  { "authdovecot", LINE, "/run/dovecot/auth-client", "tern-authdovecot" },
  { "authcheck", LINE, "(none: no AUTH)", "tern-smtpd (the checkpassword command for SMTP AUTH)" },
  { "auth.rules", EXISTS, "none: nobody may ask", "auth service (s6-ipcserver-access: only ternd)" },
  { "submissionport", LINE, "587 (0: no submission listener)", "smtpd service (tern-listen)" },
  { "submissionrules", LIST, "none (source of submissionrules.cdb)", "tern-rules" },
  { "submissionrules.cdb", EXISTS, "none: the listener answers 421 (install makes it)", "tern-listen (submission listener)" },
  { "smtpsport", LINE, "465 (0: no smtps listener; none without a certificate)", "smtpd service (tern-listen)" },
  { "smtpsrules", LIST, "none (source of smtpsrules.cdb)", "tern-rules" },
  { "smtpsrules.cdb", EXISTS, "none: the listener answers 421 (install makes it)", "tern-listen (smtps listener)" },
  { "smtplisten", LINE, "(none: the smtpd service cannot start)", "smtpd service (tern-listen)" },
  { "smtpport", LINE, "(none: the smtpd service cannot start)", "smtpd service (tern-listen)" },
  { "concurrencyincoming", NUM, "120", "smtpd service (tern-listen -c)" },
  { "concurrencyrelay", NUM, "10", "smtpd service (tern-listen -R)" },
  { "concurrencyperip", NUM, "50", "smtpd service (tern-listen -C)" },
  { "timeoutstress", NUM, "10", "smtpd service (tern-listen -s)" },
  { "smtprules", LIST, "none (source of smtprules.cdb)", "tern-rules" },
  { "smtprules.cdb", EXISTS, "none: the smtpd service cannot start", "tern-listen" },
  { "queueusers", LIST, "every uid, 20 injections at once, no byte limit", "tern-queued (WHO:CONCURRENCY:BYTES)" },
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

int main(int argc, char **argv)
{
  const char *home = home_get();
  size_t len;
  DIR *d;
  struct dirent *de;
  (void)argv;
  if (argc > 1) { fprintf(stderr, "usage: tern-showctl\n"); return 100; }
  if (chdir(home) < 0) { fprintf(stderr, "tern-showctl: fatal: unable to chdir to %s: %s\n", home, strerror(errno)); return 111; }
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

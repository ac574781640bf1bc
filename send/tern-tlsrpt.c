/* tern-tlsrpt: send the day's TLS reports (RFC 8460). Reads what
   tern-remote recorded in HOME/tlsrpt/YYYY-MM-DD (send/remote-rptlog.h),
   sums it per policy domain (send/tlsrpt.c), asks the resolver for each
   domain's _smtp._tls TXT record (send/remote-dns.c), and injects one
   multipart/report message with the gzipped JSON report per domain through
   HOME/bin/tern-inject. libc and zlib only. See tern-tlsrpt.8. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/base64.h"
#include "common/ctl.h"
#include "common/home.h"
#include "common/say.h"
#include "send/remote-dane.h"
#include "send/remote-dns.h"
#include "send/remote-rptlog.h"
#include "send/tlsrpt.h"

#define PROG "tern-tlsrpt"
#define KEEP_DAYS 31             /* reported day files kept, then removed */

static char me[CTL_LINE_MAX];
static char dnsip[16];
static unsigned long timeoutdns = 120;
static int dryrun;               /* -n: the messages on fd 1, nothing injected or renamed */

static void die(int code, const char *a, const char *b)
{
  say3(PROG, "fatal: ", a, b);
  exit(code);
}

static void readcontrols(void)
{
  char buf[CTL_LINE_MAX];
  size_t len;
  int r = ctl_readline("control/me", me, sizeof me, &len);
  if (r != 1 || !len || len > 253 || strspn(me, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len)
    die(111, "control/me is missing or not a host name", 0);
  if (ctl_readulong("control/timeoutdns", &timeoutdns, 120) < 0) die(111, "unable to read control/timeoutdns", 0);
  if (!getenv("DNSCACHEIP")) {
    r = ctl_readline("control/dnscacheip", buf, sizeof buf, &len);
    if (r < 0) die(111, "unable to read control/dnscacheip", 0);
    if (r && len && setenv("DNSCACHEIP", buf, 1) == -1) die(111, "out of memory", 0);
  }
  if (dane_resolver(dnsip) < 0) die(111, "control/dnscacheip (or $DNSCACHEIP) is not an address", 0);
}

/* read dir/day into *d: 1 read, 0 no such file */
static int readday(const char *day, struct tlsrpt_day *d)
{
  char path[64];
  FILE *f;
  char *line = 0;
  size_t cap = 0;
  ssize_t n;
  unsigned long bad = 0;
  snprintf(path, sizeof path, RPTLOG_DIR "/%s", day);
  f = fopen(path, "r");
  if (!f) { if (errno == ENOENT) return 0; die(111, "unable to open ", path); }
  while ((n = getline(&line, &cap, f)) > 0) {
    struct rptlog r;
    if (line[n - 1] == '\n') n--;
    if (rptlog_parse(line, (size_t)n, &r) < 0) { bad++; continue; }
    if (tlsrpt_add(d, &r) < 0) die(111, "out of memory", 0);
  }
  if (ferror(f)) die(111, "unable to read ", path);
  fclose(f);
  free(line);
  if (bad) say3(PROG, "warning: malformed lines skipped in ", path, 0);
  if (d->dropped) say3(PROG, "warning: outcomes over the limits not counted in ", path, 0);
  return 1;
}

/* the mailto addresses of _smtp._tls.domain: their number (0: none
   usable), -1 no TLS-RPT record, -2 the lookup failed */
static int lookup(const char *domain, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1])
{
  static struct dns_answer a;
  char q[300];
  const char *recs[DNS_TXT_MAX];
  size_t lens[DNS_TXT_MAX];
  if (strlen(domain) > 242) return -1;
  snprintf(q, sizeof q, "_smtp._tls.%s", domain);
  if (dns_ask(dnsip, q, DNS_T_TXT, timeoutdns, &a) < 0 || (a.rcode != 0 && a.rcode != 3)) return -2;
  for (int i = 0; i < a.ntxt; i++) { recs[i] = a.x[i].data; lens[i] = a.x[i].len; }
  return tlsrpt_records(recs, lens, a.ntxt, rua);
}

/* gzip (RFC 1952) of s[0..n), malloc'd; 0 on failure */
static unsigned char *gz(const char *s, size_t n, size_t *outlen)
{
  z_stream z;
  unsigned char *out;
  size_t cap;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  cap = deflateBound(&z, n) + 32;
  out = malloc(cap);
  if (!out) { deflateEnd(&z); return 0; }
  z.next_in = (unsigned char *)s; z.avail_in = (uInt)n;
  z.next_out = out; z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) { deflateEnd(&z); free(out); return 0; }
  *outlen = cap - z.avail_out;
  deflateEnd(&z);
  return out;
}

static void writeall(int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0) { if (errno == EINTR) continue; return; }
    s += w; n -= (size_t)w;
  }
}

/* the message for one domain on fd (header lines stay under 998 bytes:
   names are at most 255 bytes, each rua address on a line of its own) */
static void message(int fd, const struct tlsrpt_domain *dom, const char *day, const char *id,
                    const unsigned char *z, size_t zn, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1], int nr)
{
  char b64[80];
  unsigned long ok = 0, fail = 0;
  struct tm tm;
  long long t0;
  memset(&tm, 0, sizeof tm);
  sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
  tm.tm_year -= 1900; tm.tm_mon -= 1;
  t0 = (long long)timegm(&tm);
  for (int i = 0; i < dom->np; i++) { ok += dom->p[i].ok; fail += dom->p[i].fail; }
  dprintf(fd, "From: postmaster@%s\nTo:", me);
  for (int i = 0; i < nr; i++) dprintf(fd, "%s <%s>", i ? ",\n" : "", rua[i]);
  dprintf(fd, "\nSubject: Report Domain: %s Submitter: %s\n Report-ID: <%s>\n"
    "TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\nMIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=\"tlsrpt\";\n boundary=\"tern-tlsrpt-%s\"\n\n"
    "This is a TLS report (RFC 8460) in MIME format.\n\n--tern-tlsrpt-%s\n"
    "Content-Type: text/plain; charset=us-ascii\n\n"
    "The TLS report of %s for %s, %s (UTC):\n%lu successful and %lu failed sessions.\n\n",
    dom->name, me, id, dom->name, me, day, day, me, dom->name, day, ok, fail);
  dprintf(fd, "--tern-tlsrpt-%s\nContent-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment;\n filename=\"%s!%s!%lld!%lld!%s.json.gz\"\n\n",
    day, me, dom->name, t0, t0 + 86399, day);
  for (size_t i = 0; i < zn; i += 57) {
    size_t k = base64_encode((const char *)z + i, zn - i < 57 ? zn - i : 57, b64);
    b64[k++] = '\n';
    writeall(fd, b64, k);
  }
  dprintf(fd, "\n--tern-tlsrpt-%s--\n", day);
}

/* inject the message for one domain through HOME/bin/tern-inject (or
   print it under -n): 0, or -1 */
static int inject(const struct tlsrpt_domain *dom, const char *day, const unsigned char *z, size_t zn,
                  char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1], int nr)
{
  char id[CTL_LINE_MAX + 300], from[CTL_LINE_MAX + 16], prog[4096];
  const char *argv[TLSRPT_RUA_MAX + 6];
  int p[2], st, k = 0;
  pid_t pid;
  snprintf(id, sizeof id, "%s_%s@%s", day, dom->name, me);
  if (dryrun) { message(1, dom, day, id, z, zn, rua, nr); return 0; }
  snprintf(from, sizeof from, "postmaster@%s", me);
  snprintf(prog, sizeof prog, "%s/bin/tern-inject", home_get());
  argv[k++] = "tern-inject"; argv[k++] = "-f"; argv[k++] = from; argv[k++] = "--";
  for (int i = 0; i < nr; i++) argv[k++] = rua[i];
  argv[k] = 0;
  if (pipe(p) < 0) return -1;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return -1; }
  if (!pid) {
    if (dup2(p[0], 0) < 0) _exit(111);
    close(p[0]); close(p[1]);
    execv(prog, (char *const *)argv);
    _exit(111);
  }
  close(p[0]);
  message(p[1], dom, day, id, z, zn, rua, nr);
  close(p[1]);
  while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) return -1;
  return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

/* one domain's report: 0 sent or nothing to send, -1 try again later */
static int report(const struct tlsrpt_domain *dom, const char *day)
{
  char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1], id[CTL_LINE_MAX + 300];
  struct tlsrpt_meta m;
  char contact[CTL_LINE_MAX + 16], *json;
  unsigned char *z;
  size_t jn, zn;
  int nr = lookup(dom->name, rua), r;
  if (nr == -2) { say3(PROG, "warning: the TXT lookup failed for _smtp._tls.", dom->name, 0); return -1; }
  if (nr <= 0) return 0;
  snprintf(contact, sizeof contact, "postmaster@%s", me);
  snprintf(id, sizeof id, "%s_%s@%s", day, dom->name, me);
  m.org = me; m.contact = contact; m.day = day; m.reportid = id;
  json = tlsrpt_json(dom, &m, &jn);
  if (!json) die(111, "out of memory", 0);
  z = gz(json, jn, &zn);
  free(json);
  if (!z) die(111, "out of memory (gzip)", 0);
  r = inject(dom, day, z, zn, rua, nr);
  free(z);
  say3(PROG, r ? "warning: unable to inject the report for " : "sent the report for ", dom->name, 0);
  return r;
}

/* remove reported day files older than KEEP_DAYS days before day */
static void prune(const char *day)
{
  char old[11], name[32];
  struct tm tm;
  DIR *d = opendir(RPTLOG_DIR);
  struct dirent *e;
  memset(&tm, 0, sizeof tm);
  sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
  tm.tm_year -= 1900; tm.tm_mon -= 1;
  rptlog_day((long long)timegm(&tm) - KEEP_DAYS * 86400LL, old);
  if (!d) return;
  while ((e = readdir(d)))
    if (strlen(e->d_name) == 15 && !strcmp(e->d_name + 10, ".sent") && strncmp(e->d_name, old, 10) < 0) {
      snprintf(name, sizeof name, RPTLOG_DIR "/%s", e->d_name);
      unlink(name);
    }
  closedir(d);
}

static int isday(const char *s)
{
  static const char shape[] = "dddd-dd-dd";
  if (strlen(s) != 10) return 0;
  for (int i = 0; i < 10; i++) if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-') return 0;
  return 1;
}

int main(int argc, char **argv)
{
  static struct tlsrpt_day d = TLSRPT_DAY_ZERO;
  char day[11], from[32], to[32];
  int opt, fail = 0;
  rptlog_day((long long)time(0) - 86400, day);
  while ((opt = getopt(argc, argv, "nd:")) != -1) {
    if (opt == 'n') dryrun = 1;
    else if (opt == 'd' && isday(optarg)) memcpy(day, optarg, 11);
    else die(100, "usage: tern-tlsrpt [-n] [-d YYYY-MM-DD]", 0);
  }
  if (optind != argc) die(100, "usage: tern-tlsrpt [-n] [-d YYYY-MM-DD]", 0);
  if (chdir(home_get()) < 0) die(111, "unable to switch to the home directory", 0);
  readcontrols();
  if (!readday(day, &d)) { say3(PROG, "nothing recorded for ", day, 0); return 0; }
  for (int i = 0; i < d.ndom; i++) if (report(&d.dom[i], day) < 0) fail = 1;
  tlsrpt_free(&d);
  if (fail) die(111, "some reports were not sent; run again for ", day);
  if (dryrun) return 0;
  snprintf(from, sizeof from, RPTLOG_DIR "/%s", day);
  snprintf(to, sizeof to, RPTLOG_DIR "/%s.sent", day);
  if (rename(from, to) < 0) die(111, "unable to rename ", from);
  prune(day);
  return 0;
}

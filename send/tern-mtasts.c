/* tern-mtasts: fetch, check and cache the MTA-STS policy (RFC 8461) of
   one policy domain.
     tern-mtasts [-t secs] domain
   Looks up the _mta-sts.DOMAIN TXT record, fetches
   https://mta-sts.DOMAIN/.well-known/mta-sts.txt with libcurl (the
   certificate checked against control/tlscafile and the name), parses it
   (send/mtasts.c) and writes the entry HOME/remote-state/mta-sts/DOMAIN
   atomically. Started by tern-remote as ternr; opens nothing under
   HOME/remote (the relay credentials). Links libcurl, OpenSSL and libc
   only (no libowfat, no skalibs). See tern-mtasts.8. */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "common/ctl.h"
#include "common/home.h"
#include "common/say.h"
#include "send/mtasts.h"

#define DIR MTASTS_DIR
#define ADDRS_MAX 8

static char domain[ADDR_DOMAIN_MAX + 1];
static unsigned long secs = 60;
static char cafile[CTL_LINE_MAX] = "/etc/ssl/certs/ca-certificates.crt";
static char note[MTASTS_NOTE_MAX + 1];

static void die(int code, const char *a, const char *b)
{
  say3("tern-mtasts", a, b, 0);
  _exit(code);
}

static void setnote(const char *a, const char *b)
{
  size_t n = 0;   /* a then b, cut to MTASTS_NOTE_MAX */
  for (; *a && n < MTASTS_NOTE_MAX; a++) note[n++] = *a;
  for (; b && *b && n < MTASTS_NOTE_MAX; b++) note[n++] = *b;
  note[n] = 0;
}

/* control/tlscafile, and the resolver: $DNSCACHEIP, else
   control/dnscacheip (its first IPv4 address), else /etc/resolv.conf */
static void controls(void)
{
  char buf[CTL_LINE_MAX], ip[64];
  size_t len;
  const char *d = getenv("DNSCACHEIP");
  int r = ctl_readline("control/tlscafile", buf, sizeof buf, &len);
  struct in_addr a;
  if (r < 0) die(111, "unable to read control/tlscafile", 0);
  if (r && len) memcpy(cafile, buf, len + 1);
  if (!d) {
    r = ctl_readline("control/dnscacheip", buf, sizeof buf, &len);
    if (r < 0) die(111, "unable to read control/dnscacheip", 0);
    d = r && len ? buf : 0;
  }
  if (res_init() != 0) die(111, "res_init failed", 0);
  _res.retrans = 3;
  _res.retry = 2;
  if (!d) return;
  len = strcspn(d, " ,");
  if (len >= sizeof ip) return;
  memcpy(ip, d, len);
  ip[len] = 0;
  if (inet_pton(AF_INET, ip, &a) != 1) return;
  _res.nscount = 1;
  _res.nsaddr_list[0].sin_family = AF_INET;
  _res.nsaddr_list[0].sin_addr = a;
  _res.nsaddr_list[0].sin_port = htons(53);
}

/* ask name/type; the answer's parse state in *m. 1 records follow, 0 the
   name or the type does not exist, -1 the lookup failed */
static int ask(const char *name, int type, unsigned char *buf, int cap, ns_msg *m)
{
  int n = res_query(name, ns_c_in, type, buf, cap);
  if (n < 0) return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? 0 : -1;
  if (ns_initparse(buf, n, m) < 0) return -1;
  return 1;
}

/* the _mta-sts TXT record: 1 exactly one STS record (id), 0 none or more
   than one or a malformed one (note says), -1 the lookup failed */
static int txtid(char id[MTASTS_ID_MAX + 1])
{
  static unsigned char buf[65536];
  static char txt[65536];
  char name[ADDR_DOMAIN_MAX + 16];
  ns_msg m;
  ns_rr rr;
  int found = 0, bad = 0, r;
  snprintf(name, sizeof name, "_mta-sts.%s", domain);
  r = ask(name, ns_t_txt, buf, sizeof buf, &m);
  if (r < 0) { setnote("the _mta-sts TXT lookup failed", 0); return -1; }
  for (int k = 0; r && k < ns_msg_count(m, ns_s_an); k++) {
    const unsigned char *p, *e;
    size_t n = 0;
    if (ns_parserr(&m, ns_s_an, k, &rr) < 0) { setnote("the _mta-sts TXT answer is malformed", 0); return -1; }
    if (ns_rr_type(rr) != ns_t_txt) continue;
    p = ns_rr_rdata(rr);
    e = p + ns_rr_rdlen(rr);
    while (p < e) {     /* the strings, joined (RFC 8461 3.1) */
      size_t l = *p++;
      if (l > (size_t)(e - p)) l = (size_t)(e - p);
      memcpy(txt + n, p, l);
      n += l; p += l;
    }
    switch (mtasts_txt(txt, n, id)) {
      case 1: found++; break;
      case -1: bad++; break;
    }
  }
  if (found == 1 && !bad) return 1;
  setnote(found + bad ? "the _mta-sts TXT records are malformed or more than one: no policy" : MTASTS_NOTE_NOREC, 0);
  return 0;
}

/* "mta-sts.DOMAIN:443:a,b" for CURLOPT_RESOLVE, from our own lookups (the
   resolver of control/dnscacheip, not the system's). 0 or -1 (note) */
static int resolve(char *out, size_t cap)
{
  static unsigned char buf[65536];
  char name[ADDR_DOMAIN_MAX + 16], a[INET6_ADDRSTRLEN + 2];
  size_t n;
  int got = 0;
  snprintf(name, sizeof name, "mta-sts.%s", domain);
  n = (size_t)snprintf(out, cap, "%s:443:", name);
  for (int t = 0; t < 2; t++) {
    int type = t ? ns_t_aaaa : ns_t_a;
    ns_msg m;
    ns_rr rr;
    int r = ask(name, type, buf, sizeof buf, &m);
    for (int k = 0; r > 0 && k < ns_msg_count(m, ns_s_an) && got < ADDRS_MAX; k++) {
      if (ns_parserr(&m, ns_s_an, k, &rr) < 0 || (int)ns_rr_type(rr) != type) continue;
      if (ns_rr_rdlen(rr) != (t ? 16 : 4)) continue;
      inet_ntop(t ? AF_INET6 : AF_INET, ns_rr_rdata(rr), t ? a + 1 : a, INET6_ADDRSTRLEN);
      if (t) { a[0] = '['; strcat(a, "]"); }
      n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", got ? "," : "", a);
      got++;
    }
  }
  if (!got || n >= cap) { setnote("no address for mta-sts.", domain); return -1; }
  return 0;
}

struct body { char *p; size_t n; int over; };

static size_t take(char *d, size_t sz, size_t nm, void *u)
{
  struct body *b = u;
  size_t n = sz * nm;
  if (b->n + n > MTASTS_POLICY_MAX) { b->over = 1; return 0; }
  memcpy(b->p + b->n, d, n);
  b->n += n;
  return n;
}

/* fetch the policy file into b (MTASTS_POLICY_MAX bytes). 0 or -1 (note) */
static int fetch(struct body *b)
{
  char url[ADDR_DOMAIN_MAX + 64], res[ADDR_DOMAIN_MAX + 32 + ADDRS_MAX * 48], err[CURL_ERROR_SIZE] = "";
  CURL *c;
  CURLcode r;
  struct curl_slist *rl;
  long code = 0;
  char *ct = 0;
  int ok = 0;
  if (resolve(res, sizeof res) < 0) return -1;
  snprintf(url, sizeof url, "https://mta-sts.%s/.well-known/mta-sts.txt", domain);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c = curl_easy_init())) { setnote("libcurl did not start", 0); return -1; }
  rl = curl_slist_append(0, res);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_RESOLVE, rl);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);          /* RFC 8461 3.3: no redirects */
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)secs);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "tern-mtasts");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  r = curl_easy_perform(c);
  if (r == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  }
  if (b->over) setnote("the policy file is over 65536 bytes: no policy", 0);
  else if (r != CURLE_OK) setnote("HTTPS: ", err[0] ? err : curl_easy_strerror(r));
  else if (code != 200) { snprintf(err, sizeof err, "%ld", code); setnote("HTTPS: the policy file's status is ", err); }
  else if (!ct || strncasecmp(ct, "text/plain", 10) || (ct[10] && ct[10] != ';' && ct[10] != ' '))
    setnote("HTTPS: the policy file is not text/plain", 0);
  else ok = 1;
  curl_easy_cleanup(c);
  curl_slist_free_all(rl);
  return ok ? 0 : -1;
}

/* write the entry (header, note, policy file b[0..n)) atomically */
static void store(const char *id, unsigned long long fetched, unsigned long long expires,
                  unsigned long long checked, const char *p, size_t n)
{
  char head[MTASTS_CACHE_MAX - MTASTS_POLICY_MAX], tmp[ADDR_DOMAIN_MAX + 64], fn[ADDR_DOMAIN_MAX + 32];
  size_t h = mtasts_cache_head(head, id, fetched, expires, checked, note);
  int fd;
  snprintf(fn, sizeof fn, DIR "/%s", domain);
  snprintf(tmp, sizeof tmp, DIR "/.%s.%ld", domain, (long)getpid());
  if (mkdir(DIR, 0700) == -1 && errno != EEXIST) die(111, "unable to create HOME/" DIR ": ", strerror(errno));
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd == -1) die(111, "unable to create ", tmp);
  if (write(fd, head, h) != (ssize_t)h || (n && write(fd, p, n) != (ssize_t)n) || fsync(fd) == -1 || close(fd) == -1
      || rename(tmp, fn) == -1) {
    unlink(tmp);
    die(111, "unable to write ", fn);
  }
}

/* the current entry, if any, into *c (zero when none or malformed); its
   length in buf */
static size_t load(struct mtasts_cache *c, char *buf)
{
  char fn[ADDR_DOMAIN_MAX + 32];
  ssize_t n;
  int fd;
  memset(c, 0, sizeof *c);
  snprintf(fn, sizeof fn, DIR "/%s", domain);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return 0;
  n = read(fd, buf, MTASTS_CACHE_MAX + 1);
  close(fd);
  if (n <= 0 || mtasts_cache_parse(buf, (size_t)n, c) < 0) return 0;
  return (size_t)n;
}

static void args(int argc, char **argv)
{
  int o;
  size_t n;
  while ((o = getopt(argc, argv, "t:")) != -1) {
    if (o != 't') die(100, "usage: tern-mtasts [-t secs] domain", 0);
    secs = strtoul(optarg, 0, 10);
    if (!secs || secs > 3600) die(100, "bad -t: ", optarg);
  }
  if (optind + 1 != argc) die(100, "usage: tern-mtasts [-t secs] domain", 0);
  n = strlen(argv[optind]);
  if (n > ADDR_DOMAIN_MAX) die(100, "bad domain: ", argv[optind]);
  for (size_t k = 0; k <= n; k++) {
    char c = argv[optind][k];
    domain[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  if (!mtasts_domain_ok(domain)) die(100, "bad domain: ", argv[optind]);
}

int main(int argc, char **argv)
{
  static char old[MTASTS_CACHE_MAX + 1], got[MTASTS_POLICY_MAX];
  static struct mtasts_cache c;
  struct mtasts_policy p;
  struct body b = { got, 0, 0 };
  char id[MTASTS_ID_MAX + 1];
  unsigned long long now = (unsigned long long)time(0);
  const char *oldpol = 0;
  size_t oldlen;
  int have, r;
  args(argc, argv);
  if (chdir(home_get()) == -1) die(111, "unable to switch to the home directory", 0);
  controls();
  oldlen = load(&c, old);
  have = c.havepolicy && c.expires > now;
  if (have) {   /* the policy file: after the header and note lines (the parse found both) */
    const char *nl = memchr(old, '\n', oldlen);
    oldpol = (const char *)memchr(nl + 1, '\n', oldlen - (size_t)(nl + 1 - old)) + 1;
  }
  r = txtid(id);
  /* the same id: no fetch, unless the policy runs out within two hours
     (refreshed before it expires, RFC 8461 10.2) */
  if (r == 1 && have && !strcmp(id, c.id) && c.expires > now + 7200) setnote("policy id unchanged", 0);
  else if (r == 1 && fetch(&b) == 0) {
    if (mtasts_parse(got, b.n, &p) < 0) setnote("the policy file is malformed: no policy", 0);
    else {
      setnote("policy fetched", 0);
      store(id, now, now + p.max_age, now, got, b.n);
      puts(note);
      return 0;
    }
  }
  if (r < 0 && !have) { puts(note); return 111; }
  if (have) {   /* RFC 8461 5.1: a cached policy stays until it expires */
    if (strcmp(note, "policy id unchanged")) {
      char why[MTASTS_NOTE_MAX + 1];
      memcpy(why, note, sizeof why);
      snprintf(note, sizeof note, "%.100s; the cached policy stays", why);
    }
    store(c.id, c.fetched, c.expires, now, oldpol, oldlen - (size_t)(oldpol - old));
  } else store("", 0, 0, now, 0, 0);
  puts(note);
  return 0;
}

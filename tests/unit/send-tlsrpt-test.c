/* send/tlsrpt.c and send/remote-rptlog.c: the _smtp._tls TXT record
   (RFC 8460 3), the record line written and read back (v1, and v2 with an
   MTA-STS policy), a day's sums, and the JSON report's fields and escapes
   (sts: policy-string and mx-host), the day file's append and limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include "send/tlsrpt.h"
#include "send/mtasts.h"

static char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1];

static int txt(const char *s) { return tlsrpt_txt(s, strlen(s), rua); }

static void t_txt(void **st)
{
  (void)st;
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:reports@example.com"), 1);
  assert_string_equal(rua[0], "reports@example.com");
  assert_int_equal(txt("v=TLSRPTv1;rua=mailto:a@b.example , https://r.example/x,mailto:c%2Bx@e.example?subject=x;"), 2);
  assert_string_equal(rua[0], "a@b.example");
  assert_string_equal(rua[1], "c+x@e.example");
  assert_int_equal(txt("v=TLSRPTv1 ; ext-1=val ; rua=mailto:x@y.example"), 1);
  assert_int_equal(txt("v=spf1 -all"), -1);
  assert_int_equal(txt("v=TLSRPTv1"), -1);                 /* no ";" */
  assert_int_equal(txt("v=TLSRPTv10; rua=mailto:x@y"), -1);
  assert_int_equal(txt("v=TLSRPTv1;"), -2);                /* no rua */
  assert_int_equal(txt("v=TLSRPTv1; rua="), -2);
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:no-at-sign"), -2);
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:a<b>@c"), -2);
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:a%zz@c"), -2);
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:a@b; rua=mailto:c@d"), -2);   /* twice */
  assert_int_equal(txt("v=TLSRPTv1; =x; rua=mailto:a@b"), -2);
  assert_int_equal(txt("v=TLSRPTv1; rua=https://only.example/"), 0);
  assert_int_equal(txt("v=TLSRPTv1; rua=mailto:1@a,mailto:2@a,mailto:3@a,mailto:4@a,mailto:5@a"), TLSRPT_RUA_MAX);
}

static void t_records(void **st)
{
  const char *r[3] = { "v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@b.example", "v=TLSRPTv1;rua=mailto:c@d.example" };
  size_t l[3] = { strlen(r[0]), strlen(r[1]), strlen(r[2]) };
  (void)st;
  assert_int_equal(tlsrpt_records(r, l, 2, rua), 1);        /* one TLS-RPT record among others */
  assert_string_equal(rua[0], "a@b.example");
  assert_int_equal(tlsrpt_records(r, l, 3, rua), -1);       /* two: none */
  assert_int_equal(tlsrpt_records(r, l, 1, rua), -1);
  assert_int_equal(tlsrpt_records(r, l, 0, rua), -1);
}

static void t_line(void **st)
{
  struct rptlog r, b;
  char line[RPTLOG_LINE_MAX], day[11];
  size_t n;
  (void)st;
  memset(&r, 0, sizeof r);
  r.time = 1765065600;   /* 2025-12-07 00:00:00 UTC */
  strcpy(r.ptype, "tlsa"); strcpy(r.domain, "example.com"); strcpy(r.mx, "mx.example.com");
  strcpy(r.result, "tlsa-invalid"); strcpy(r.sendip, "192.0.2.1"); strcpy(r.rcvip, "198.51.100.2");
  strcpy(r.info, "no TLSA record\nmatched");
  n = rptlog_format(line, &r);
  assert_true(n < RPTLOG_LINE_MAX);
  assert_int_equal(line[n - 1], '\n');
  assert_int_equal(rptlog_parse(line, n - 1, &b), 0);
  assert_string_equal(b.domain, "example.com");
  assert_string_equal(b.result, "tlsa-invalid");
  assert_string_equal(b.info, "no TLSA record?matched");
  assert_true(b.time == r.time);
  rptlog_day(b.time, day);
  assert_string_equal(day, "2025-12-07");
  rptlog_day(951782400, day);   /* 2000-02-29 */
  assert_string_equal(day, "2000-02-29");
  r.sendip[0] = 0; r.info[0] = 0;
  n = rptlog_format(line, &r);
  assert_int_equal(rptlog_parse(line, n - 1, &b), 0);
  assert_string_equal(b.sendip, "-");
  assert_string_equal(b.info, "-");
  assert_int_equal(rptlog_parse("v1 12 a b c d e f", 17, &b), -1);        /* no info */
  assert_int_equal(rptlog_parse("v2 12 a b c d e f g", 19, &b), -1);
  assert_int_equal(rptlog_parse("v1 x a b c d e f g", 18, &b), -1);
  assert_int_equal(rptlog_parse("v1 12 a b  c d e f g", 20, &b), -1);     /* an empty word */
  assert_int_equal(rptlog_parse("v3 12 a b c d e f g h", 21, &b), -1);
  assert_int_equal(rptlog_parse("v1 12 a b c d e f g", 19, &b), 0);
  assert_string_equal(b.policy, "-");                                     /* v1: no policy */
  n = rptlog_format(line, &b);
  assert_memory_equal(line, "v1 12 a b c d e f g\n", n);
}

static int pline(const char *s, struct rptlog *r) { return rptlog_parse(s, strlen(s), r); }

/* the MTA-STS policy of a session: rptlog_sts, then a v2 line and back */
static void t_sts(void **st)
{
  static struct mtasts_policy pol;
  static struct rptlog r, b;
  char line[RPTLOG_LINE_MAX];
  size_t n;
  (void)st;
  pol.mode = MTASTS_ENFORCE; pol.max_age = 86400; pol.nmx = 2;
  strcpy(pol.mx[0], "*.a.example"); strcpy(pol.mx[1], "mx.b.example");
  rptlog_sts(r.policy, &pol);
  assert_string_equal(r.policy, "enforce,86400,*.a.example,mx.b.example");
  pol.mode = MTASTS_TESTING; pol.nmx = 0; pol.max_age = 0;
  rptlog_sts(b.policy, &pol);
  assert_string_equal(b.policy, "testing,0");
  r.time = 1765065600;
  strcpy(r.ptype, "sts"); strcpy(r.domain, "a.example"); strcpy(r.mx, "mx1.a.example");
  strcpy(r.result, "success"); strcpy(r.sendip, "192.0.2.1"); strcpy(r.rcvip, "198.51.100.2");
  n = rptlog_format(line, &r);
  line[n] = 0;
  assert_string_equal(line, "v2 1765065600 sts a.example mx1.a.example success 192.0.2.1 198.51.100.2 "
                            "enforce,86400,*.a.example,mx.b.example -\n");
  assert_int_equal(rptlog_parse(line, n - 1, &b), 0);
  assert_string_equal(b.policy, r.policy);
  assert_string_equal(b.ptype, "sts");
  /* the largest policy send/mtasts.c accepts fits a line */
  pol.mode = MTASTS_TESTING; pol.max_age = MTASTS_MAXAGE_MAX; pol.nmx = MTASTS_MX_MAX;
  for (int i = 0; i < MTASTS_MX_MAX; i++) { memset(pol.mx[i], 'x', ADDR_DOMAIN_MAX); pol.mx[i][ADDR_DOMAIN_MAX] = 0; }
  rptlog_sts(r.policy, &pol);
  assert_true(strlen(r.policy) <= RPTLOG_POLICY_MAX);
  n = rptlog_format(line, &r);
  assert_true(n <= RPTLOG_LINE_MAX);
  assert_int_equal(rptlog_parse(line, n - 1, &b), 0);
  assert_memory_equal(b.policy, r.policy, strlen(r.policy) + 1);
  /* malformed POLICY words */
  assert_int_equal(pline("v2 1 sts d m success - - enforce,1,mx.d -", &b), 0);
  assert_int_equal(pline("v2 1 sts d m success - - none,1 -", &b), 0);
  assert_int_equal(pline("v2 1 sts d m success - - - -", &b), 0);
  assert_int_equal(pline("v2 1 sts d m success - - enforce -", &b), -1);          /* no max_age */
  assert_int_equal(pline("v2 1 sts d m success - - enforce, -", &b), -1);
  assert_int_equal(pline("v2 1 sts d m success - - enforce,12345678901 -", &b), -1);
  assert_int_equal(pline("v2 1 sts d m success - - enforce,1x -", &b), -1);
  assert_int_equal(pline("v2 1 sts d m success - - enforce,1,,mx.d -", &b), -1);  /* an empty mx */
  assert_int_equal(pline("v2 1 sts d m success - - enforce,1,mx.d, -", &b), -1);
  assert_int_equal(pline("v2 1 sts d m success - - strict,1,mx.d -", &b), -1);
  assert_int_equal(pline("v2 1 sts d m success - - enforce,1,mx.d", &b), -1);     /* no info */
}

static void add(struct tlsrpt_day *d, const char *pt, const char *dom, const char *mx, const char *res, const char *info)
{
  struct rptlog r;
  memset(&r, 0, sizeof r);
  strcpy(r.ptype, pt); strcpy(r.domain, dom); strcpy(r.mx, mx); strcpy(r.result, res);
  strcpy(r.sendip, "127.0.0.1"); strcpy(r.rcvip, "127.0.0.20"); strcpy(r.info, info);
  assert_int_equal(tlsrpt_add(d, &r), 0);
}

static void t_json(void **st)
{
  struct tlsrpt_day d = TLSRPT_DAY_ZERO;
  struct tlsrpt_meta m = { "mx.example", "postmaster@mx.example", "2026-12-06", "id\"1" };
  size_t n;
  char *j;
  (void)st;
  add(&d, "tlsa", "a.example", "mx.a.example", "success", "-");
  add(&d, "tlsa", "a.example", "mx.a.example", "success", "-");
  add(&d, "tlsa", "a.example", "mx.a.example", "tlsa-invalid", "no TLSA record matched");
  add(&d, "tlsa", "a.example", "mx.a.example", "tlsa-invalid", "no TLSA record matched");
  add(&d, "no-policy-found", "a.example", "mx2.a.example", "starttls-not-supported", "-");
  add(&d, "no-policy-found", "b.example", "mx.b.example", "success", "-");
  assert_int_equal(d.ndom, 2);
  assert_int_equal(d.dom[0].np, 2);
  assert_int_equal(d.dom[0].p[0].ok, 2);
  assert_int_equal(d.dom[0].p[0].fail, 2);
  assert_int_equal(d.dom[0].p[0].nd, 1);
  assert_int_equal(d.dom[0].p[0].d[0].n, 2);
  j = tlsrpt_json(&d.dom[0], &m, &n);
  assert_non_null(j);
  assert_int_equal(strlen(j), n);
  assert_non_null(strstr(j, "\"organization-name\":\"mx.example\""));
  assert_non_null(strstr(j, "\"start-datetime\":\"2026-12-06T00:00:00Z\""));
  assert_non_null(strstr(j, "\"report-id\":\"id\\\"1\""));
  assert_non_null(strstr(j, "\"policy-type\":\"tlsa\",\"policy-domain\":\"a.example\",\"mx-host\":[\"mx.a.example\"]"));
  assert_non_null(strstr(j, "\"total-successful-session-count\":2,\"total-failure-session-count\":2"));
  assert_non_null(strstr(j, "\"result-type\":\"tlsa-invalid\""));
  assert_non_null(strstr(j, "\"failed-session-count\":2"));
  assert_non_null(strstr(j, "\"policy-type\":\"no-policy-found\",\"policy-domain\":\"a.example\"},"));
  free(j);
  tlsrpt_free(&d);
}

static void addsts(struct tlsrpt_day *d, const char *mx, const char *res, const char *pol)
{
  struct rptlog r;
  memset(&r, 0, sizeof r);
  strcpy(r.ptype, "sts"); strcpy(r.domain, "c.example"); strcpy(r.mx, mx); strcpy(r.result, res);
  strcpy(r.sendip, "127.0.0.1"); strcpy(r.rcvip, "127.0.0.20"); strcpy(r.policy, pol); strcpy(r.info, "-");
  assert_int_equal(tlsrpt_add(d, &r), 0);
}

/* sts: one policy entry per MTA-STS policy seen (not per MX host), with
   policy-string and mx-host rebuilt from the record */
static void t_json_sts(void **st)
{
  struct tlsrpt_day d = TLSRPT_DAY_ZERO;
  struct tlsrpt_meta m = { "mx.example", "postmaster@mx.example", "2026-12-06", "id" };
  size_t n;
  char *j;
  (void)st;
  addsts(&d, "mx1.c.example", "success", "testing,86400,*.c.example,mx.other.example");
  addsts(&d, "mx2.c.example", "success", "testing,86400,*.c.example,mx.other.example");
  addsts(&d, "mx2.c.example", "certificate-expired", "testing,86400,*.c.example,mx.other.example");
  addsts(&d, "mx1.c.example", "success", "enforce,604800,mx1.c.example");   /* the policy changed that day */
  assert_int_equal(d.ndom, 1);
  assert_int_equal(d.dom[0].np, 2);
  assert_int_equal(d.dom[0].p[0].ok, 2);
  assert_int_equal(d.dom[0].p[0].fail, 1);
  j = tlsrpt_json(&d.dom[0], &m, &n);
  assert_non_null(j);
  assert_non_null(strstr(j, "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\",\"mode: testing\","
                            "\"mx: *.c.example\",\"mx: mx.other.example\",\"max_age: 86400\"],\"policy-domain\":\"c.example\","
                            "\"mx-host\":[\"*.c.example\",\"mx.other.example\"]},"
                            "\"summary\":{\"total-successful-session-count\":2,\"total-failure-session-count\":1}"));
  assert_non_null(strstr(j, "\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"127.0.0.1\",\"receiving-ip\":\"127.0.0.20\","
                            "\"receiving-mx-hostname\":\"mx2.c.example\""));
  assert_non_null(strstr(j, "\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.c.example\",\"max_age: 604800\"],"
                            "\"policy-domain\":\"c.example\",\"mx-host\":[\"mx1.c.example\"]},"));
  free(j);
  tlsrpt_free(&d);
  addsts(&d, "mx1.c.example", "success", "none,1");   /* no mx: empty lists */
  j = tlsrpt_json(&d.dom[0], &m, &n);
  assert_non_null(j);
  assert_non_null(strstr(j, "\"policy-string\":[\"version: STSv1\",\"mode: none\",\"max_age: 1\"],\"policy-domain\":\"c.example\",\"mx-host\":[]}"));
  free(j);
  tlsrpt_free(&d);
}

/* rptlog_append: one line per call into dir/DAY, mode 0600; a day's file
   at RPTLOG_DAY_MAX takes nothing more; no directory is an error */
static void t_append(void **st)
{
  char dir[] = "/tmp/tern-rptlog.XXXXXX", path[64], buf[512];
  struct rptlog r;
  struct stat sb;
  int fd;
  ssize_t n;
  (void)st;
  assert_non_null(mkdtemp(dir));
  memset(&r, 0, sizeof r);
  r.time = 1765065600;
  strcpy(r.ptype, "no-policy-found"); strcpy(r.domain, "a.example"); strcpy(r.result, "success");
  assert_int_equal(rptlog_append(dir, &r), 0);
  assert_int_equal(rptlog_append(dir, &r), 0);
  snprintf(path, sizeof path, "%s/2025-12-07", dir);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  fd = open(path, O_RDONLY);
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  assert_string_equal(buf, "v1 1765065600 no-policy-found a.example - success - - -\n"
                           "v1 1765065600 no-policy-found a.example - success - - -\n");
  assert_int_equal(truncate(path, (off_t)RPTLOG_DAY_MAX - 10), 0);
  assert_int_equal(rptlog_append(dir, &r), 1);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_size, (off_t)RPTLOG_DAY_MAX - 10);
  unlink(path);
  rmdir(dir);
  assert_int_equal(rptlog_append(dir, &r), -1);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_txt), cmocka_unit_test(t_records), cmocka_unit_test(t_line), cmocka_unit_test(t_json),
    cmocka_unit_test(t_append), cmocka_unit_test(t_sts), cmocka_unit_test(t_json_sts),
  };
  return cmocka_run_group_tests(t, 0, 0);
}

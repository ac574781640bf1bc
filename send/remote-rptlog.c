/* send/remote-rptlog.c: the TLS-RPT day files (remote-rptlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "send/remote-rptlog.h"
#include "send/mtasts.h"

/* every policy send/mtasts.c accepts fits POLICY (else this does not compile) */
typedef char rptlog_policy_fits[RPTLOG_POLICY_MAX >= 8 + 10 + MTASTS_MX_MAX * (ADDR_DOMAIN_MAX + 1) ? 1 : -1];

static size_t word(char *b, const char *s, size_t max)
{
  size_t n = 0;
  for (; s[n] && n < max; n++) b[n] = (s[n] > 32 && s[n] < 127) ? s[n] : '?';
  if (!n) b[n++] = '-';
  b[n++] = ' ';
  return n;
}

/* the decimal digits of u at b: their number */
static size_t dec(char *b, unsigned long long u)
{
  char d[24];
  size_t n = 0, k = 0;
  do d[k++] = (char)('0' + u % 10); while (u /= 10);
  while (k) b[n++] = d[--k];
  return n;
}

void rptlog_sts(char policy[RPTLOG_POLICY_MAX + 1], const struct mtasts_policy *pol)
{
  static const char *const mode[3] = { "none", "testing", "enforce" };
  const char *m = mode[pol->mode == MTASTS_ENFORCE ? 2 : pol->mode == MTASTS_TESTING];
  size_t n = strlen(m);
  memcpy(policy, m, n);
  policy[n++] = ',';
  n += dec(policy + n, pol->max_age);
  for (int i = 0; i < pol->nmx && i < MTASTS_MX_MAX; i++) {
    size_t l = strnlen(pol->mx[i], ADDR_DOMAIN_MAX);
    policy[n++] = ',';
    memcpy(policy + n, pol->mx[i], l);
    n += l;
  }
  policy[n] = 0;
}

size_t rptlog_format(char *buf, const struct rptlog *r)
{
  const char *w[6] = { r->ptype, r->domain, r->mx, r->result, r->sendip, r->rcvip };
  int v2 = r->policy[0] && strcmp(r->policy, "-");
  size_t n = 0, k;
  memcpy(buf, v2 ? "v2 " : "v1 ", 3);
  n = 3;
  n += dec(buf + n, r->time < 0 ? 0 : (unsigned long long)r->time);
  buf[n++] = ' ';
  for (int i = 0; i < 6; i++) n += word(buf + n, w[i], RPTLOG_WORD_MAX);
  if (v2) n += word(buf + n, r->policy, RPTLOG_POLICY_MAX);
  for (k = 0; r->info[k] && k < RPTLOG_INFO_MAX; k++)
    buf[n++] = (r->info[k] >= 32 && r->info[k] < 127) ? r->info[k] : '?';
  if (!k) buf[n++] = '-';
  buf[n++] = '\n';
  return n;
}

/* the word at s[*i..n) into w (max bytes): 0, or -1 */
static int getword(const char *s, size_t n, size_t *i, char *w, size_t max)
{
  size_t k = 0;
  while (*i < n && s[*i] != ' ') {
    if (s[*i] < 33 || s[*i] > 126 || k == max) return -1;
    w[k++] = s[(*i)++];
  }
  w[k] = 0;
  if (!k || *i == n) return -1;
  (*i)++;
  return 0;
}

/* a POLICY word: "-", or MODE,MAX_AGE[,MX]... as remote-rptlog.h says */
static int policyok(const char *p)
{
  size_t k = 0;
  if (!strcmp(p, "-")) return 1;
  if (!strncmp(p, "enforce,", 8) || !strncmp(p, "testing,", 8)) p += 8;
  else if (!strncmp(p, "none,", 5)) p += 5;
  else return 0;
  while (*p >= '0' && *p <= '9') { p++; k++; }
  if (!k || k > 10) return 0;
  while (*p == ',') {
    if (!*++p || *p == ',') return 0;
    while (*p && *p != ',') p++;
  }
  return !*p;
}

int rptlog_parse(const char *s, size_t n, struct rptlog *r)
{
  char *w[6] = { r->ptype, r->domain, r->mx, r->result, r->sendip, r->rcvip };
  size_t i = 3, k;
  int v2;
  memset(r, 0, sizeof *r);
  if (n < 3 || (memcmp(s, "v1 ", 3) && memcmp(s, "v2 ", 3))) return -1;
  v2 = s[1] == '2';
  for (k = 0; i < n && s[i] >= '0' && s[i] <= '9' && k < 18; i++, k++) r->time = r->time * 10 + (s[i] - '0');
  if (!k || i == n || s[i++] != ' ') return -1;
  for (int j = 0; j < 6; j++) if (getword(s, n, &i, w[j], RPTLOG_WORD_MAX) < 0) return -1;
  if (!v2) strcpy(r->policy, "-");
  else if (getword(s, n, &i, r->policy, RPTLOG_POLICY_MAX) < 0 || !policyok(r->policy)) return -1;
  if (n - i > RPTLOG_INFO_MAX || i == n) return -1;
  for (k = 0; i < n; i++, k++) {
    if (s[i] < 32 || s[i] > 126) return -1;
    r->info[k] = s[i];
  }
  return 0;
}

void rptlog_day(long long t, char day[11])
{
  /* days since 1970-01-01 to a civil date (proleptic Gregorian) */
  long long z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = (long long)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  if (mm <= 2) y++;
  if (y < 0) y = 0;
  if (y > 9999) y = 9999;
  day[0] = (char)('0' + y / 1000); day[1] = (char)('0' + y / 100 % 10);
  day[2] = (char)('0' + y / 10 % 10); day[3] = (char)('0' + y % 10);
  day[4] = '-'; day[5] = (char)('0' + mm / 10); day[6] = (char)('0' + mm % 10);
  day[7] = '-'; day[8] = (char)('0' + dd / 10); day[9] = (char)('0' + dd % 10);
  day[10] = 0;
}

int rptlog_append(const char *dir, const struct rptlog *r)
{
  char path[4096], line[RPTLOG_LINE_MAX], day[11];
  size_t dl = strlen(dir), n;
  struct stat st;
  ssize_t w;
  int fd, e;
  if (dl + 12 > sizeof path) { errno = ENAMETOOLONG; return -1; }
  rptlog_day(r->time, day);
  memcpy(path, dir, dl);
  path[dl] = '/';
  memcpy(path + dl + 1, day, 11);
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  n = rptlog_format(line, r);
  if (fstat(fd, &st) < 0) { e = errno; close(fd); errno = e; return -1; }
  if ((unsigned long long)st.st_size + n > RPTLOG_DAY_MAX) { close(fd); return 1; }
  do w = write(fd, line, n); while (w < 0 && errno == EINTR);
  e = errno;
  close(fd);
  errno = e;
  return w == (ssize_t)n ? 0 : -1;
}

/* tern-send's log: lines collected in memory, written to fd 1 once per
   turn of the main loop (slog.h). */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>

#include "common/qfn.h"
#include "send/sched.h"
#include "send/slog.h"

static char logbuf[65536];
static size_t loglen;

void log_flush(void)
{
  if (loglen) allwrite(1, logbuf, loglen);
  loglen = 0;
}

void die_exit(int code)
{
  log_flush();
  _exit(code);
}

void logn(unsigned n, const char *const *v)
{
  static char line[16384];
  size_t l = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t k = strlen(v[i]);
    if (k > sizeof line - 2 - l) k = sizeof line - 2 - l;
    memcpy(line + l, v[i], k);
    l += k;
  }
  line[l++] = '\n';
  if (loglen + l > sizeof logbuf) log_flush();
  memcpy(logbuf + loglen, line, l);
  loglen += l;
}

char *fmtu(char *buf, uint64_t u) { buf[qfn_fmtu64(buf, u)] = 0; return buf; }

void die_nomem(void)
{
  log1("alert: out of memory; exiting");
  die_exit(111);
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) die_nomem();
  return p;
}

const char *safe(char *dst, const char *s, size_t len)
{
  if (len > TEXT_MAX) len = TEXT_MAX;
  sched_logsafe(dst, s, len);
  dst[len] = 0;
  return dst;
}

/* tern-qnext: run the next stage of a control/filters chain (see
   queue/tern-qnext.8). On the qmail-queue interface: fds 0, 1, 2 and 6 are
   left as they are for the program it becomes. Libc and common/ only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/ctl.h"
#include "common/filters.h"
#include "common/home.h"
#include "common/qqcode.h"

#define PATHMAX 4096

static void die(int code, const char *what, const char *why)
{
  char line[512];
  int n = snprintf(line, sizeof line, "tern-qnext: %s%s%s\n", what, why ? ": " : "", why ? why : "");
  if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) { /* nobody to tell */ }
  _exit(code);
}

/* TERN_FILTER_NEXT: a small decimal number */
static size_t next_index(void)
{
  const char *x = getenv("TERN_FILTER_NEXT");
  size_t k = 0;
  if (!x || !*x) return 0;
  for (; *x; x++) {
    if (*x < '0' || *x > '9' || k > FILTERS_CHAIN_MAX) die(QQ_CONFIG, "bad TERN_FILTER_NEXT", 0);
    k = k * 10 + (size_t)(*x - '0');
  }
  return k;
}

int main(void)
{
  struct ctl_list l = CTL_LIST_ZERO;
  const char *h = home_get(), *name = getenv("TERN_FILTER_SOURCE"), *prog;
  char fn[PATHMAX], self[PATHMAX], path[PATHMAX], words[CTL_LINE_MAX], num[24];
  char *argv[FILTERS_ARGV_MAX + 1];
  size_t k = next_index(), bad;
  int src = name ? filters_source(name, strlen(name)) : -1, r;
  if (src < 0) die(QQ_CONFIG, "bad TERN_FILTER_SOURCE", name);
  if (snprintf(fn, sizeof fn, "%s/control/filters", h) >= (int)sizeof fn
      || snprintf(self, sizeof self, "%s/bin/tern-qnext", h) >= (int)sizeof self)
    die(QQ_CONFIG, "HOME too long", 0);
  r = ctl_readlist(fn, &l);
  if (r < 0) die(QQ_CONFIG, "cannot read control/filters", strerror(errno));
  if (filters_check(l.s, l.len, l.n, &bad) < 0) {
    snprintf(num, sizeof num, "%zu", bad + 1);
    die(QQ_CONFIG, "malformed control/filters entry number", num);
  }
  prog = filters_nth(l.s, l.len, l.n, src, k);
  if (!prog) {
    /* the chain is done: the queue */
    char *q[3];
    if (snprintf(path, sizeof path, "%s/bin/tern-queue", h) >= (int)sizeof path) die(QQ_CONFIG, "HOME too long", 0);
    q[0] = path; q[1] = (char *)"-i"; q[2] = 0;
    unsetenv("QMAILQUEUE_NEXT");
    execv(path, q);
    die(QQ_CANTRUN, "cannot run tern-queue", strerror(errno));
  }
  if (filters_split(prog, words, sizeof words, argv) < 1) die(QQ_CONFIG, "control/filters: line too long", 0);
  if (argv[0][0] != '/') {
    if (snprintf(path, sizeof path, "%s/bin/%s", h, argv[0]) >= (int)sizeof path) die(QQ_CONFIG, "HOME too long", 0);
    argv[0] = path;
  }
  snprintf(num, sizeof num, "%zu", k + 1);
  if (setenv("QMAILQUEUE_NEXT", self, 1) < 0 || setenv("TERN_FILTER_NEXT", num, 1) < 0) die(QQ_NOMEM, "out of memory", 0);
  execv(argv[0], argv);
  die(QQ_CANTRUN, "cannot run filter", argv[0]);
  return QQ_BUG;
}

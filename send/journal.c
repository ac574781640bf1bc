/* tern-send's journal (journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include "common/envelope.h"
#include "common/qfn.h"
#include "common/qid.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/msgs.h"
#include "send/journal.h"

#define JOURNAL "state/journal"
#define JOURNAL_NEW "state/journal.new"
#define JOURNAL_READ_MAX (256u << 20)
#define JOURNAL_COMPACT (1u << 20)   /* bytes appended before a rewrite */

struct jrec { char qid[QID_MAX]; char type; uint64_t v; size_t seq; };
static genalloc loaded = GENALLOC_ZERO;   /* struct jrec, sorted by qid, then file order */
static int jfd = -1, started;
static uint64_t jsize;
static uint64_t jbase;   /* bytes written by the last rewrite */

static int byqid(const void *a, const void *b)
{
  const struct jrec *x = a, *y = b;
  int c = strcmp(x->qid, y->qid);
  return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* one record's value into r: 1 ok, 0 malformed */
static int parse(char type, const char *v, size_t vlen, struct jrec *r)
{
  const char *q;
  size_t ql;
  if (!sched_jrec_parse(type, v, vlen, &q, &ql, &r->v)) return 0;
  memcpy(r->qid, q, ql);
  r->qid[ql] = 0;
  r->type = type;
  return 1;
}

void journal_open(void)
{
  char *buf;
  size_t len, pos = 0, vlen, n = 0;
  const char *v;
  char type;
  int r = readfile(JOURNAL, JOURNAL_READ_MAX, &buf, &len, 0);
  if (r < 0) log1("warning: unable to read " JOURNAL "; done recipients may be delivered again");
  if (r > 0) {
    struct jrec j;
    while (envelope_next(buf, len, &pos, &type, &v, &vlen) == 1 && parse(type, v, vlen, &j)) {
      j.seq = n++;
      if (!genalloc_append(struct jrec, &loaded, &j)) die_nomem();
    }
    free(buf);
    qsort(genalloc_s(struct jrec, &loaded), genalloc_len(struct jrec, &loaded), sizeof(struct jrec), byqid);
  }
  jfd = open(JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (jfd < 0) log1("warning: unable to open " JOURNAL "; done recipients may be delivered again after a restart");
}

size_t journal_apply(const char *qid, void (*f)(char, uint64_t, void *), void *arg)
{
  const struct jrec *a = genalloc_s(struct jrec, &loaded);
  size_t lo = 0, hi = genalloc_len(struct jrec, &loaded), k = 0;
  while (lo < hi) {   /* the first record of qid */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(a[mid].qid, qid) < 0) lo = mid + 1; else hi = mid;
  }
  for (; lo < genalloc_len(struct jrec, &loaded) && !strcmp(a[lo].qid, qid); lo++, k++) f(a[lo].type, a[lo].v, arg);
  return k;
}

/* record type, qid, v into sa */
static void rec(stralloc *sa, const char *qid, char type, uint64_t v)
{
  if (!stralloc_readyplus(sa, SCHED_JREC_MAX)) die_nomem();
  sa->len += sched_jrec_fmt(sa->s + sa->len, type, qid, v);
}

/* rewrite the journal: the done marks of the messages in memory, and
   their retry times when they lie ahead (at exit, for msg_saveretry, this
   is how the retry times are saved) */
static void compact(void)
{
  stralloc sa = STRALLOC_ZERO;
  time_t now = time(0);
  int fd;
  /* the done marks first, the retry times after them: a torn end (a power
     cut during the write) then costs a retry time (a retry comes sooner),
     not a done mark (a repeated delivery) */
  for (size_t i = 0; i < MSG_N(); i++) {
    const struct msg *m = MSG(i);
    if (!m->used) continue;
    for (int c = 0; c < 2; c++)
      for (size_t pos = 0; pos < m->cb[c].len; ) {
        const char *s = m->cb[c].s + pos;
        size_t l = strlen(s);
        uint64_t k;
        if (s[0] == 'D' && pos + l + 1 < m->cb[c].len && s[l + 1] == 'I'
            && qfn_scanu64(s + l + 2, strlen(s + l + 2), &k)) rec(&sa, m->qid, 'D', k);
        pos += l + 1;
      }
  }
  for (size_t i = 0; i < MSG_N(); i++) {
    const struct msg *m = MSG(i);
    if (!m->used) continue;
    for (int c = 0; c < 2; c++)
      if (m->ch[c].has && m->ch[c].next > now) rec(&sa, m->qid, c ? 'R' : 'L', (uint64_t)m->ch[c].next);
  }
  fd = open(JOURNAL_NEW, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || allwrite(fd, sa.s, sa.len) < sa.len || rename(JOURNAL_NEW, JOURNAL) < 0) {
    log1("warning: unable to rewrite " JOURNAL "; it keeps growing");
    if (fd >= 0) { close(fd); unlink(JOURNAL_NEW); }
    stralloc_free(&sa);
    return;
  }
  if (jfd >= 0) close(jfd);
  jfd = fd;
  jsize = jbase = sa.len;
  stralloc_free(&sa);
}

void journal_started(void)
{
  genalloc_free(struct jrec, &loaded);
  started = 1;
  compact();
}

void journal_add(const char *qid, char type, uint64_t v)
{
  stralloc sa = STRALLOC_ZERO;
  rec(&sa, qid, type, v);
  if (jfd < 0 || allwrite(jfd, sa.s, sa.len) < sa.len)
    log3("warning: unable to append to " JOURNAL " for msg ", qid, "; a delivery may be repeated after a restart");
  else jsize += sa.len;
  stralloc_free(&sa);
  /* rewritten once the appends since the last rewrite are as large as it
     and over JOURNAL_COMPACT: a rewrite of S bytes follows at least S
     appended bytes, so the cost stays linear. (Against the size alone,
     a queue whose rewrite is over the limit by itself -- 100,000 deferred
     messages make 3 MB -- was rewritten on every append.) */
  if (started && jsize - jbase > JOURNAL_COMPACT && jsize - jbase > jbase) compact();
}

int journal_rewrite(void)
{
  if (!started) return 0;
  compact();
  return 1;
}

void journal_clear(void)
{
  if (!started || jfd < 0 || !jsize) return;
  if (ftruncate(jfd, 0) == 0) jsize = jbase = 0;
}

/* tern-send's message table and retry heaps (msgs.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <skalibs/genalloc.h>

#include "common/qfn.h"
#include "send/sched.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/bounce.h"
#include "send/msgs.h"
#include "send/ctl.h"
#include "send/journal.h"

genalloc msgtab = GENALLOC_ZERO;
static struct sched_idmap msgmap;   /* id -> index in msgtab */
static int anydone;                 /* some message may have done_pending set */

/* per channel, a min-heap of (retry time, message) for messages whose
   channel waits (has, not active): one entry is pushed whenever such a
   time is set; entries that no longer match the message are dropped when
   they reach the top. Replaces a scan of every message per start and per
   wake-up. */
static genalloc dueh[2] = { GENALLOC_ZERO, GENALLOC_ZERO };   /* struct due */

/* the indexes of free entries (used == 0), taken last in, first out: a
   new message costs O(1), not a walk of the table (with 100,000 queued
   messages the walk made tern-send's start-up quadratic: 20 s of CPU) */
static genalloc freeidx = GENALLOC_ZERO;   /* size_t */

size_t msg_new(uint64_t id, time_t birth, const char *sender, size_t slen)
{
  size_t i, nf = genalloc_len(size_t, &freeidx);
  struct msg *m;
  if (nf) {
    i = genalloc_s(size_t, &freeidx)[nf - 1];
    genalloc_setlen(size_t, &freeidx, nf - 1);
  } else {
    struct msg z;
    memset(&z, 0, sizeof z);
    i = MSG_N();
    if (!genalloc_append(struct msg, &msgtab, &z)) die_nomem();
  }
  m = MSG(i);
  memset(m, 0, sizeof *m);
  m->used = 1;
  m->id = id;
  m->qid[qfn_fmtu64(m->qid, id)] = 0;
  m->birth = birth;
  m->uid = UINT64_MAX;
  m->sender = xrealloc(0, slen + 1);
  memcpy(m->sender, sender, slen);
  m->sender[slen] = 0;
  if (!sched_idmap_put(&msgmap, id, i)) die_nomem();
  return i;
}

void msg_setqid(size_t i, const char *q, size_t len)
{
  if (!qid_ok(q, len)) return;
  memcpy(MSG(i)->qid, q, len);
  MSG(i)->qid[len] = 0;
  ctl_adopt(i);
}

void msg_setuid(size_t i, const char *u, size_t len)
{
  uint64_t v;
  if (qfn_scanu64(u, len, &v)) MSG(i)->uid = v;
}

int msg_find(uint64_t id, size_t *i)
{
  return sched_idmap_get(&msgmap, id, i);
}

void msg_free(size_t i)
{
  struct msg *m = MSG(i);
  sched_idmap_del(&msgmap, m->id);
  free(m->sender);
  free(m->why);
  m->sender = m->why = 0;
  m->whylen = 0;
  stralloc_free(&m->cb[0]);
  stralloc_free(&m->cb[1]);
  if (!msgmap.n) journal_clear();   /* no message left: no record is needed */
  m->used = 0;
  (void)genalloc_append(size_t, &freeidx, &i);   /* out of memory: the entry is only not reused */
}

void msg_rcptdone(size_t i, int c, size_t off)
{
  struct msg *m = MSG(i);
  const stralloc *b = &m->cb[c];
  const char *z = memchr(b->s + off, 0, b->len - off);
  size_t r = z ? (size_t)(z - b->s) + 1 : b->len;
  uint64_t k;
  if (b->s[off] != 'T') return;
  b->s[off] = 'D';
  m->left--;
  if (r < b->len && b->s[r] == 'I' && qfn_scanu64(b->s + r + 1, strlen(b->s + r + 1), &k))
    journal_add(m->qid, 'D', k);
}

static int due_valid(int c, const struct due *e)
{
  const struct msg *m;
  if (e->i >= MSG_N()) return 0;
  m = MSG(e->i);
  return m->used && m->id == e->id && m->ch[c].has && !m->ch[c].active && !m->held && m->ch[c].next == e->next;
}

static void due_push1(int c, size_t i)
{
  struct due e, *h;
  size_t k;
  if (!genalloc_readyplus(struct due, &dueh[c], 1)) die_nomem();
  h = genalloc_s(struct due, &dueh[c]);
  e.next = MSG(i)->ch[c].next; e.i = i; e.id = MSG(i)->id;
  k = genalloc_len(struct due, &dueh[c]);
  genalloc_setlen(struct due, &dueh[c], k + 1);
  for (; k && h[(k - 1) / 2].next > e.next; k = (k - 1) / 2) h[k] = h[(k - 1) / 2];
  h[k] = e;
}

void msg_duepop(int c)
{
  struct due *h = genalloc_s(struct due, &dueh[c]), e;
  size_t k = 0, n = genalloc_len(struct due, &dueh[c]) - 1;
  genalloc_setlen(struct due, &dueh[c], n);
  if (!n) return;
  e = h[n];
  for (;;) {
    size_t l = 2 * k + 1;
    if (l >= n) break;
    if (l + 1 < n && h[l + 1].next < h[l].next) l++;
    if (h[l].next >= e.next) break;
    h[k] = h[l];
    k = l;
  }
  h[k] = e;
}

void msg_due(size_t i, int c)
{
  size_t n = MSG_N();
  if (!MSG(i)->ch[c].has || MSG(i)->ch[c].active || MSG(i)->held) return;
  if (genalloc_len(struct due, &dueh[c]) > 4 * n + 1024) {   /* mostly stale: rebuild */
    genalloc_setlen(struct due, &dueh[c], 0);
    for (size_t j = 0; j < n; j++) {
      const struct msg *m = MSG(j);
      if (j != i && m->used && m->ch[c].has && !m->ch[c].active && !m->held) due_push1(c, j);
    }
  }
  due_push1(c, i);
}

const struct due *msg_duetop(int c)
{
  while (genalloc_len(struct due, &dueh[c]) && !due_valid(c, genalloc_s(struct due, &dueh[c]))) msg_duepop(c);
  return genalloc_len(struct due, &dueh[c]) ? genalloc_s(struct due, &dueh[c]) : 0;
}

void msg_donelater(size_t i, time_t t)
{
  MSG(i)->done_pending = 1;
  MSG(i)->donenext = t;
  anydone = 1;
}

void msg_alldue(void)
{
  anydone = 1;
  genalloc_setlen(struct due, &dueh[0], 0);
  genalloc_setlen(struct due, &dueh[1], 0);
  for (size_t i = 0; i < MSG_N(); i++)
    if (MSG(i)->used) {
      MSG(i)->ch[0].next = MSG(i)->ch[1].next = 0;
      MSG(i)->donenext = 0;
      msg_due(i, 0);
      msg_due(i, 1);
    }
}

void msg_run(time_t now)
{
  if (!anydone) return;
  anydone = 0;
  for (size_t i = 0; i < MSG_N(); i++) {
    struct msg *m = MSG(i);
    if (m->used && m->done_pending && m->donenext <= now && !m->ch[0].active && !m->ch[1].active) {
      m->done_pending = 0;
      messdone(i);
    }
    if (MSG(i)->used && MSG(i)->done_pending) anydone = 1;
  }
}

void msg_prepare(struct loop *l)
{
  if (!anydone) return;
  for (size_t i = 0; i < MSG_N(); i++) {
    const struct msg *m = MSG(i);
    if (m->used && m->done_pending) loop_wake(l, m->donenext);
  }
}

void msg_saveretry(void)
{
  /* one rewrite holds every retry time ahead: one write, not one per
     message (100,000 deferred messages: 100,000 appends) */
  if (journal_rewrite()) return;
  for (size_t i = 0; i < MSG_N(); i++) {
    const struct msg *m = MSG(i);
    if (!m->used) continue;
    for (int c = 0; c < 2; c++)
      if (m->ch[c].has && m->ch[c].next > time(0)) journal_add(m->qid, c ? 'R' : 'L', (uint64_t)m->ch[c].next);
  }
}

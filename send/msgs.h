#ifndef TERN_SEND_MSGS_H
#define TERN_SEND_MSGS_H
/* tern-send's message table: one entry per queued message in memory,
   found by number through a hash (sched_idmap), and per channel a heap of
   retry times of the messages whose channel waits. */
#include "common/qid.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "send/loop.h"

struct msg {
  int used;
  uint64_t id;
  time_t birth;
  char *sender;
  struct { int has; int active; time_t next; } ch[2];   /* per channel: recipients to do, a pass running, retry time */
  /* per channel, the recipients: 'T' address NUL (to do) or 'D' address
     NUL (done: the T overwritten in place), then 'I' k NUL (k: its index
     among the envelope's recipients, as the journal names it), then
     optionally 'O' address NUL (the address before virtualdomains) */
  stralloc cb[2];
  size_t left;         /* T records in both channels */
  int done_pending;
  time_t donenext;
  int warned;          /* a delay warning went out (2) or is not wanted (1) */
  int ended;           /* "end msg ID" logged */
  char qid[QID_MAX];   /* the id that never repeats (common/qid.h), from
                          the envelope's i record; the number N (decimal)
                          for a message without one */
  uint64_t uid;        /* the injecting uid (the envelope's u record, which
                          tern-queued takes from the kernel), UINT64_MAX unknown */
  int held;            /* on hold (tern-queuectl hold): never due (ctl.c) */
  char *why;           /* per recipient the last deferral: "rcpt\0text\0"... (ctl.c) */
  size_t whylen;
};

/* a heap entry: message i (number id) waits until next */
struct due { time_t next; size_t i; uint64_t id; };

extern genalloc msgtab;   /* struct msg; entries with used == 0 are free */
#define MSG(i) (genalloc_s(struct msg, &msgtab) + (i))
#define MSG_N() genalloc_len(struct msg, &msgtab)

/* a new entry for message id (sender copied); returns its index */
extern size_t msg_new(uint64_t id, time_t birth, const char *sender, size_t slen);
/* message i's queue id: q[0..len) if it is well-formed (qid_ok), else
   the number stays */
extern void msg_setqid(size_t i, const char *q, size_t len);
/* message i's injecting uid: the decimal u[0..len) (else it stays unknown) */
extern void msg_setuid(size_t i, const char *u, size_t len);
/* 1 and *i when message id is in the table, else 0 */
extern int msg_find(uint64_t id, size_t *i);
extern void msg_free(size_t i);
/* the recipient record 'T' at offset off of message i's channel c is
   done (delivered, its failure in bounce/N, or deleted by tern-queuectl):
   'D' in memory, one less left, and a D record in the journal (one write,
   no fsync), so that a crash of tern-send repeats only a delivery whose
   result was not recorded yet, as in qmail */
extern void msg_rcptdone(size_t i, int c, size_t off);

/* message i's channel c waits until MSG(i)->ch[c].next: remember it (a
   no-op unless the channel has a file and no pass running, and the
   message is not held) */
extern void msg_due(size_t i, int c);
/* the earliest waiting message of channel c (stale entries dropped), or 0 */
extern const struct due *msg_duetop(int c);
/* drop the top of channel c's heap */
extern void msg_duepop(int c);

/* message i is to be ended (bounce, removal) at time t or later */
extern void msg_donelater(size_t i, time_t t);
/* SIGALRM: every message and every end is due now */
extern void msg_alldue(void);
/* end the messages whose end is due and whose channels are idle */
extern void msg_run(time_t now);
/* wake up for the next pending end */
extern void msg_prepare(struct loop *l);
/* at exit: each pending retry time into the journal: one rewrite after
   the start-up scan (journal_rewrite), else an L or R record each */
extern void msg_saveretry(void);
#endif

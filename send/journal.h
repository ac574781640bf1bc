#ifndef TERN_SEND_JOURNAL_H
#define TERN_SEND_JOURNAL_H
/* journal: the one place where tern-send keeps what must survive it,
   HOME/queue/state/journal (terns, 0600), appended without fsync
   (tern-send.8, CRASH STATES). Records, each
     type  queue-id  ' '  decimal  ';'  NUL
   with type D (recipient number k of the envelope is done: delivered or
   its failure in bounce/N), L and R (the local and remote channel's next
   retry, Unix time; written at exit). Keyed by the queue id, which never
   repeats, so a record can never apply to another message that got the
   same inode. Reading stops at the first malformed record: a power cut
   may cut the file short or fill its end with zeros, and what those
   records said is done again. The ';' makes a torn record malformed: a
   prefix of a record followed by zeros never reads as a shorter number. */
#include <stddef.h>
#include <stdint.h>

/* start-up (in HOME/queue): read state/journal (at most 256 MiB) into
   memory and open it for appending. Failures are logged: without the
   journal, done recipients may be delivered again, nothing is lost */
extern void journal_open(void);
/* the records read at start-up for message qid: f(type, v, arg) for each,
   in file order; returns how many */
extern size_t journal_apply(const char *qid, void (*f)(char type, uint64_t v, void *arg), void *arg);
/* after the start-up scan of msg/: the records read at start-up are
   dropped and the file rewritten with the done marks of the messages in
   memory and their retry times that lie ahead (state/journal.new renamed
   over it) */
extern void journal_started(void);
/* append a record (one write, no fsync); when the records appended since
   the last rewrite pass 1 MiB and the size of that rewrite, the file is
   rewritten as by journal_started (so the work stays linear in what is
   appended). Logged when it fails */
extern void journal_add(const char *qid, char type, uint64_t v);
/* after the start-up scan: rewrite the file now, as journal_started does
   (it then holds every retry time that lies ahead); 1. Before it: 0, and
   nothing is done (the records of messages not yet read would be lost) */
extern int journal_rewrite(void);
/* the message table is empty: the journal is emptied (after the start-up
   scan only) */
extern void journal_clear(void);
#endif

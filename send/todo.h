#ifndef TERN_SEND_TODO_H
#define TERN_SEND_TODO_H
/* Intake: how queued messages get into tern-send's table. msg/N
   (tern-queued's one file per message, common/qmsg.h) is read, its
   recipients classified into the local and remote channels in memory, and
   the journal's records of it applied (journal.h). Also the start-up scan
   of leftovers in bounce/. This part alone knows the queue's directory
   layout on the input side: the rest of tern-send sees messages only
   through msg_new. */
#include "send/loop.h"

/* start-up (in HOME/queue): open the trigger FIFO lock/trigger (a warning
   if it cannot be: msg/ is then scanned by the clock only) */
extern void todo_init(void);
/* start-up, once the spawners are ready: read the journal, remove the
   leftovers of finished messages (bounce/N without msg/N), warn about
   messages of the old layout in todo/ */
extern void todo_start(void);
/* the time-driven work: the scan of msg/ when triggered (throttled) or
   every TODO_INTERVAL */
extern void todo_tick(time_t now);
/* the trigger into the poll set (unless stopping), the next scan's time */
extern void todo_prepare(struct loop *l, int stopping);
/* the trigger woke us: drain it, a scan is wanted */
extern void todo_run(const struct loop *l);
#endif

#ifndef TERN_SEND_TODO_H
#define TERN_SEND_TODO_H
/* Preprocessing: how queued messages get into tern-send's table. todo/N
   (tern-queue's durable record) is read, its recipients classified into
   local/S/N and remote/S/N and announced by info/S/N, or a message already
   preprocessed is resumed from those files. Also the start-up scan of
   info/ and the 36-hour cleanup of ossified mess/ files. This part alone
   knows the queue's directory layout on the input side: the rest of
   tern-send sees messages only through msg_new. */
#include "send/loop.h"

/* start-up (in HOME/queue): open the trigger FIFO lock/trigger (a warning
   if it cannot be: todo/ is then scanned by the clock only) */
extern void todo_init(void);
/* start-up, once the spawners are ready: resume or remove the messages of
   info/ that have no todo/N */
extern void todo_start(void);
/* the time-driven work: the ossified-file cleanup every CLEANUP_INTERVAL,
   the todo scan when triggered (throttled) or every TODO_INTERVAL */
extern void todo_tick(time_t now);
/* the trigger into the poll set (unless stopping), the next scan's time */
extern void todo_prepare(struct loop *l, int stopping);
/* the trigger woke us: drain it, a scan is wanted */
extern void todo_run(const struct loop *l);
#endif

#ifndef TERN_SEND_JOBS_H
#define TERN_SEND_JOBS_H
/* Passes and deliveries: a pass reads one channel file of one message and
   hands its recipients to the channel's spawner in units (one local
   recipient; up to UNIT_RCPT_MAX remote recipients of one domain), over
   fds 3/4 (tern-lspawn) and 5/6 (tern-rspawn): request "slot, message
   number, sender, recipients, empty string", reply per recipient a letter
   K/D/Z and text, NUL-terminated (tern-lspawn(8)). */
#include <time.h>
#include "send/loop.h"

#define FD_LCMD 3
#define FD_LRES 4
#define FD_RCMD 5
#define FD_RRES 6

/* very first thing: is tern-rspawn there (fds 5 and 6 open)? If not, fds
   up to 6 are filled with /dev/null so that no file lands there. Then 1 if
   fds 3 and 4 are open, 0 if not */
extern int jobs_probe(void);
/* read each spawner's start-up byte (its slot count, which bounds the
   concurrency). 1 ok, 0 (logged "alert: cannot start: ...") */
extern int jobs_start(void);
/* start deliveries while slots are free and messages are due */
extern void jobs_tick(time_t now);
/* the spawner fds into the poll set; unless stopping, wake up for the next
   due message of a channel with a free slot */
extern void jobs_prepare(struct loop *l, int stopping);
/* write requests and read replies the poll found ready (results
   recorded); a lost spawner or a malformed reply exits 111 */
extern void jobs_run(const struct loop *l);
/* 1 when no delivery is running */
extern int jobs_idle(void);
/* log "status: local l/L remote r/R" */
extern void jobs_status(void);
#endif

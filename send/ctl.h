#ifndef TERN_SEND_CTL_H
#define TERN_SEND_CTL_H
/* tern-send's command socket (tern-queuectl(8)): tern-start binds
   HOME/sock/send and hands it over as fd 9; tern-send answers list, show,
   delete, hold, release and retry (common/qctl.h) in its main loop, at
   most CTL_CLIENTS clients at once, each within CTL_DEADLINE_MS. Who may
   do what is decided from the client's uid and gid as the kernel gives
   them (SO_PEERCRED). Held messages are remembered in HOME/queue/hold/ID
   (an empty file), read back at start-up. */
#include <stddef.h>
#include "send/loop.h"
#include "send/msgs.h"

#define FD_CTL 9
#define CTL_CLIENTS 4
#define CTL_DEADLINE_MS 30000
#define CTL_WHY_MAX 200          /* bytes of a deferral text kept per recipient */
#define CTL_WHYS_MAX (1u << 20)  /* bytes of deferral texts kept per message */

/* very first thing: is fd 9 a listening socket? (If not, no commands.) */
extern void ctl_probe(void);
/* at start-up, before any message enters the table: the ids held in
   hold/ */
extern void ctl_start(void);
/* message i has its queue id: held if hold/ named it at start-up */
extern void ctl_adopt(size_t i);
/* message m ends: its hold file, if any, goes */
extern void ctl_ended(const struct msg *m);
/* the listening socket (while a client slot is free) and the clients into
   the poll set, with their deadline */
extern void ctl_prepare(struct loop *l);
/* accept, read requests, act on them, write replies */
extern void ctl_run(const struct loop *l);
/* a deferral of recipient rcpt of message m: its text is the last reason
   that list shows for it */
extern void ctl_deferred(struct msg *m, const char *rcpt, const char *text, size_t tlen);
#endif

#ifndef TERN_SEND_REMOTE_TLS_H
#define TERN_SEND_REMOTE_TLS_H
/* tern-remote's side of TLS: it starts tern-tlsc (HOME/bin/tern-tlsc, the
   working directory must be HOME) on the connected socket, asks it to
   start TLS and reads its UCSPI-TLS reply (common/ucspitls.h). tern-remote
   itself never maps OpenSSL: all of TLS happens in that process. libc
   only. */
#include <sys/types.h>
#include "common/ucspitls.h"

#define RTLS_ARGS_MAX 48          /* arguments for tern-tlsc */

struct rtls {
  pid_t pid;                      /* tern-tlsc, 0 if none */
  int ctl;                        /* the control socket, -1 if none */
  int data;                       /* the plaintext channel, -1 if none */
  struct ucspitls_info info;      /* its reply; after a failure, why */
};

/* Start tern-tlsc with the arguments args[0..] (0-terminated, at most
   RTLS_ARGS_MAX) on the socket net (which it then owns: the caller stops
   using it but may keep it open), write 'Y' and wait at most secs seconds
   for the reply. 0: TLS is up, t->data is the plaintext channel (blocking
   or not as net was), t->info says protocol, cipher and peer. -1: it
   failed, t->info.reason says why (the process's own reason, or why it
   could not run or answer); the connection is unusable. */
extern int rtls_start(struct rtls *t, int net, const char *const *args, unsigned long secs);

/* Close the channel and the control socket, then reap tern-tlsc (it gets
   SIGKILL if it has not ended within 2 seconds). Safe to call twice. */
extern void rtls_end(struct rtls *t);
#endif

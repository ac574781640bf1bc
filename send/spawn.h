#ifndef TERN_SEND_SPAWN_H
#define TERN_SEND_SPAWN_H
/* spawn: the loop shared by tern-lspawn and tern-rspawn (the shape of
   qmail's spawn.c): it writes the start-up byte, reads tern-send's
   requests on fd 0 (framed by spawnreq), keeps one child per slot, collects
   each child's output from a pipe, reaps children on SIGCHLD (self-pipe)
   and, once a child has exited and its pipe is at end of file, lets the
   spawner write the reply. Each spawner plugs in its start and done steps.
   Core code (skalibs). */
#include <stddef.h>
#include <sys/types.h>
#include "send/spawnreq.h"

#define SPAWN_SLOTS 120          /* concurrency: the start-up byte; slots 0..119 */

struct spawn_plug {
  size_t outmax;                 /* bytes of a child's output kept */
  /* 1: fd 0 is a Unix socket and every request comes with one descriptor
     (SCM_RIGHTS, sent with the request's first byte): the message to
     deliver. 0: fd 0 is read plainly and no descriptor comes. */
  int passfd;
  /* r->slot is in range and free. Either start one child (spawn_fork) and
     return its pid with *fd = the read end of its output pipe, or write
     the reply now (spawn_reply) and return 0. msg is the request's
     descriptor (passfd) or -1; the loop closes it after start returns. */
  pid_t (*start)(const struct spawnreq *r, int msg, int *fd);
  /* r->slot is out of range (busy = 0) or has a child still (busy = 1):
     write the reply now (spawn_reply) */
  void (*refuse)(const struct spawnreq *r, int busy);
  /* slot's child has exited with wait status wstat; its output is
     out[0..len) (the buffer holds outmax bytes and may be changed), and
     overflow is 1 if it wrote more than outmax bytes: write the reply */
  void (*done)(unsigned char slot, int wstat, char *out, size_t len, int overflow);
};

/* Run the loop until end of file on fd 0 and no child is left: returns 0
   then. Dies (exit 111, a message on fd 2) on a request spawnreq cannot
   frame, a failed write to tern-send, or a system error; with passfd also
   on a request that came without its descriptor, or descriptors the
   kernel dropped (MSG_CTRUNC): requests and descriptors would no longer
   pair up. */
extern int spawn_main(const struct spawn_plug *p);

/* write slot and body[0..len) to tern-send (fd 1); dies (111) on failure */
extern void spawn_reply(unsigned char slot, const char *body, size_t len);

/* Fork a child with fd 0 = in (made blocking), fd 1 = fd 2 = a new pipe,
   an empty signal mask and SIGPIPE, SIGCHLD at their defaults. Returns 0 in
   the child (which execs or _exits; it exits 111 if the descriptors could
   not be set). In the parent: the child's pid and *fd = the pipe's read end
   (non-blocking, close-on-exec); in stays open. -1: no pipe, -2: no fork
   (errno set; nothing left open but in). */
extern pid_t spawn_fork(int in, int *fd);

/* In a child of spawn_fork that will not exec: forget what the parent
   holds of other deliveries (the request buffer, every slot's collected
   output: zeroed) and close every descriptor from 3 up, as the
   close-on-exec flags would have at an exec. Never fails. */
extern void spawn_nexec(void);
#endif

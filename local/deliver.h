#ifndef TERN_LOCAL_DELIVER_H
#define TERN_LOCAL_DELIVER_H
/* deliver: tern-local's delivery as a function, called by the tern-local
   program and, in a forked child that has already dropped to the
   recipient's uid, gid and groups, by tern-lspawn (core code, skalibs).

   argv is qmail-local's: [0] a name, optional "--", then user homedir
   local dash ext domain sender defaultdelivery (tern-local.8). On entry
   fd 0 is the message (seekable, blocking, LF line ends: from fd 0's
   offset on entry to the end of the file, so a queue file from
   qmsg_open works as it is) and fd 1 the
   report pipe; no other descriptor should be open (the caller closes
   them: an exec would have). The process's umask, cwd, SIGPIPE
   disposition and environment (USER, HOME, SENDER, ... as qmail-local
   sets them) are changed; the function is meant to be the last thing the
   process does.

   Returns 0 after a successful delivery, its report ("did F+W+P", and
   "qp N" for a forward) written on fd 1. Every failure does not return:
   the reason is written on fd 1 and the process _exits 100 (permanent)
   or 111 (temporary); a program delivery's own exit codes follow
   qmail-local's (tern-local.8). */
extern int local_deliver(int argc, char *const *argv);
#endif

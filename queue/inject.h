#ifndef TERN_QUEUE_INJECT_H
#define TERN_QUEUE_INJECT_H
/* inject: the body of tern-inject and sendmail (queue/tern-inject.8).
   argv[0]'s base name selects mailq (-bp) and newaliases (exit 0).
   Returns only on success paths that exit 0 without injecting; otherwise
   it exits with a sysexits.h code. */
extern int inject_main(int argc, char const *const *argv);
#endif

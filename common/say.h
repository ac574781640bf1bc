#ifndef TERN_COMMON_SAY_H
#define TERN_COMMON_SAY_H
/* One diagnostic line on fd 2 for programs without a library's error
   functions (the TLS programs, the password checkers): "prog: a b c\n",
   any of a, b, c may be 0, cut at 600 bytes. Never fails, never blocks
   longer than write(2) does; errno is kept. libc only. */
extern void say3(const char *prog, const char *a, const char *b, const char *c);
#endif

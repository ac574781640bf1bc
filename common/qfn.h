#ifndef TERN_COMMON_QFN_H
#define TERN_COMMON_QFN_H
/* Queue file names (see queue/tern-queue.8). A message is numbered by the
   inode N of its mess file; split directories are N % QUEUE_SPLIT. */
#include <stddef.h>
#include <stdint.h>

#define QUEUE_SPLIT 23     /* conf-split: number of hashed subdirectories (prime) */
#define QFN_MAX 64         /* longest name qfn_* writes, NUL included */

/* decimal u into dst (dst == 0: only measure); returns the length, no NUL */
extern size_t qfn_fmtu64(char *dst, uint64_t u);
/* parse all of s[0..len) as a decimal uint64 without overflow: 1 ok, 0 no */
extern int qfn_scanu64(const char *s, size_t len, uint64_t *u);
/* "dir/S/N" (split dirs: mess, info, local, remote) or "dir/N" (pid, intd,
   todo, bounce) into dst (QFN_MAX bytes), NUL-terminated; returns the
   length without NUL */
extern size_t qfn_split(char *dst, const char *dir, uint64_t n);
extern size_t qfn_flat(char *dst, const char *dir, uint64_t n);
#endif

#ifndef TERN_SEND_FILES_H
#define TERN_SEND_FILES_H
/* tern-send's queue files: reading and writing them, and tern-clean (fd 7
   requests, fd 8 one-byte replies), which removes what terns may not. Paths
   are relative to HOME/queue. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>

#define FD_CCMD 7
#define FD_CRES 8

#define SYSCALL_RETRY 123            /* seconds before retrying after a failed syscall */
#define ENVELOPE_FILE_MAX (128u << 20)
#define BOUNCEFILE_MAX (16u << 20)

/* the channels: 0 local, 1 remote; their names are also their directories */
extern const char *const chname[2];

/* fsync a directory. 0 ok, -1 error (errno) */
extern int fsync_dir(const char *dir);

/* whole regular file fn into *buf (malloc, NUL-terminated, length *len),
   at most max bytes; *st (if st is not 0) gets its stat. 1 ok, 0 ENOENT,
   -1 error (errno; EFBIG when over max) */
extern int readfile(const char *fn, size_t max, char **buf, size_t *len, struct stat *st);

/* ask tern-clean to remove what's N ("msg": the message): 1 done, 0 it answered
   "!" (logged). A lost connection exits 111. */
extern int clean(const char *what, uint64_t id);

/* message id's queue file, read-only, positioned at its message
   (qmsg_open: msg/N, the message from offset M to the end); *mlen its
   length in bytes. The descriptor, or -1 with errno (ENOENT: gone;
   EPROTO: not a queue file) */
extern int open_mess(uint64_t id, uint64_t *mlen);

/* remove tern-send's own files of message id: bounce/N.delayed, bounce/N
   (no fsync) */
extern void remove_own(uint64_t id);
#endif

#ifndef TERN_COMMON_QMSG_H
#define TERN_COMMON_QMSG_H
/* qmsg: the queue file, one per message (libc only). Written by
   tern-queued (queue/qwrite.c), read by tern-send, the spawners, tern-clean
   and the queue tools; the crash states are in tern-queued(8) and
   tern-send(8).

   The file is HOME/queue/msg/N, N its inode number, mode 0640 ternq:tern:
     [0, 8)          the magic "TERNQ01\n"
     [8, 24)         M, the offset of the message: 16 lowercase hex digits
     [24, 40)        E, the length of the envelope: 16 lowercase hex digits
     [40, 40 + E)    the envelope: 'u' uid NUL 'p' pid NUL 'i' id NUL
                     'F' sender NUL ('T' recipient NUL)* (common/envelope.h)
     [40 + E, M)     NUL bytes (a hole where the filesystem makes one)
     [M, end)        the message, to the end of the file
   M is QMSG_RESERVE when the envelope fits before it, else the multiple of
   4096 after 40 + E. The message runs to the end of the file, so a reader
   handed a descriptor positioned at M (qmsg_open) reads the message and
   nothing else, as from a file holding it alone; a reader that rewinds
   rewinds to where it started. The file is complete before its name exists
   (written unnamed, fsynced, then linked): a file under msg/ that is not
   whole is a bug or a damaged disk, never a crash state. */
#include <stddef.h>
#include <stdint.h>

#define QMSG_DIR "msg"        /* the queue's message directory, relative to HOME/queue */
#define QMSG_HEAD 40          /* bytes of the fixed head */
#define QMSG_RESERVE 4096     /* the message's offset when the envelope fits */
#define QMSG_FN_MAX 48        /* longest name qmsg_fn writes, NUL included, prefix excluded */

/* prefix "msg/N" into dst (at least strlen(prefix) + QMSG_FN_MAX bytes),
   NUL-terminated; prefix is "" from HOME/queue, "queue/" from HOME.
   Returns the length without the NUL. The one place that knows where a
   message lives. */
extern size_t qmsg_fn(char *dst, const char *prefix, uint64_t n);

/* the message's offset for an envelope of elen bytes */
extern uint64_t qmsg_offset(uint64_t elen);

/* the head for message offset moff and envelope length elen into dst
   (QMSG_HEAD bytes, no NUL) */
extern void qmsg_head(char *dst, uint64_t moff, uint64_t elen);

/* parse the head h[0..QMSG_HEAD) of a file of size bytes: 1 and *moff,
   *elen when the magic is right, both numbers are 16 hex digits and
   QMSG_HEAD + elen <= moff <= size; 0 when not */
extern int qmsg_headparse(const char *h, uint64_t size, uint64_t *moff, uint64_t *elen);

/* Open message n (prefix as for qmsg_fn) for reading, positioned at its
   message (O_RDONLY, O_NOFOLLOW, O_CLOEXEC; O_NONBLOCK too when nonblock).
   Returns the descriptor and *mlen, the message's length in bytes; -1 with
   errno (ENOENT: no such message; EPROTO: not a queue file). The one
   function that gives a spawner its message. */
extern int qmsg_open(const char *prefix, uint64_t n, int nonblock, uint64_t *mlen);

/* Read the head and the envelope of the queue file on fd (any offset; uses
   pread). Returns 1 with *env (malloc'd, elen + 1 bytes, NUL after the
   envelope), *elen, *moff and *size; 0 when fd is not a whole queue file
   (errno EPROTO); -1 on a read error or no memory (errno). */
extern int qmsg_readenv(int fd, char **env, size_t *elen, uint64_t *moff, uint64_t *size);
#endif

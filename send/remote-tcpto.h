#ifndef TERN_SEND_REMOTE_TCPTO_H
#define TERN_SEND_REMOTE_TCPTO_H
/* The TCP timeout table HOME/remote-state/tcpto (the idea of qmail-remote's
   tcpto, see qmail-tcpto(8)), extended for IPv6. libc only; used by
   tern-remote. It lives in ternr's private state directory remote-state/
   (apart from remote/, the relay credentials it only reads), outside the
   queue, which ternr cannot open.

   The file is TCPTO_SIZE = 1024 bytes: TCPTO_N = 32 records of 32 bytes.
     bytes  0..15  the address, IPv6; IPv4 as v4-mapped (::ffff:a.b.c.d)
     byte   16     timeouts counted, 0..TCPTO_COUNT_MAX (0 = free record)
     bytes 17..23  zero
     bytes 24..31  time of the last counted timeout, seconds since the
                   epoch, unsigned 64-bit little-endian
   A short or missing file reads as zeros beyond its end.

   Rules (qmail's): a connect timeout to an address counts if it is the
   first one or comes at least TCPTO_GAP seconds after the last counted one;
   a new address takes a free record, else the one with the smallest
   time + count * 1024 (the oldest, weighted by its count). A connect that
   succeeds, or fails otherwise than by timing out, frees every record of
   the address (a damaged table may hold duplicates).
   An address is "dead" (skipped) while its count is >= 2 and its last
   timeout is younger than (60 + (pid & 31)) * 64 seconds (64 to 97
   minutes, varied per process so that not every tern-remote retries a
   dead host at the same moment). */
#include <stdint.h>

#define TCPTO_PATH "remote-state/tcpto"   /* from HOME */
#define TCPTO_SIZE 1024
#define TCPTO_REC 32
#define TCPTO_N (TCPTO_SIZE / TCPTO_REC)
#define TCPTO_COUNT_MAX 10
#define TCPTO_GAP 120

/* pure table logic on a TCPTO_SIZE-byte buffer */
extern int tcpto_dead(const unsigned char *tab, const char ip[16], uint64_t now, unsigned long pid);
/* flagerr 1: a connect timeout; 0: a connect that did not time out.
   Returns 1 if tab changed. */
extern int tcpto_update(unsigned char *tab, const char ip[16], int flagerr, uint64_t now);

/* the file: fd open read-write (O_RDWR). Each call takes an exclusive
   flock(2) for its read (and write), then releases it. Errors are ignored
   by design: without a readable table nothing is skipped (return 0). */
extern int tcpto_file_dead(int fd, const char ip[16], uint64_t now, unsigned long pid);
extern void tcpto_file_update(int fd, const char ip[16], int flagerr, uint64_t now);
#endif

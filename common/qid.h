#ifndef TERN_COMMON_QID_H
#define TERN_COMMON_QID_H
/* Queue ids that never repeat (libc only). A message's id is made by
   tern-queued when it creates the message file, from the time of that
   moment (seconds and microseconds) and the file's inode number, like
   Postfix's long queue ids: an inode is reused only after its file is
   gone, which is after that file's own creation, so (time, inode) is
   unique for the life of the machine while its clock does not go back.

   Text: 7 characters of seconds, 4 of microseconds, then the inode, all
   in base 32 with the digits 0-9 and the lowercase letters except i, l, o
   and u ("0123456789abcdefghjkmnpqrstvwxyz"); the inode without leading
   zeros (at least one character). So 12..24 characters, only [0-9a-z];
   fixed-width fields make the mapping one to one. Example: 1m8vf7k0g3a2h4c
   (seconds 1796594148, ...). Seconds up to 32^7 - 1 (the year 3058). */
#include <stddef.h>
#include <stdint.h>

#define QID_MAX 25        /* longest id plus its NUL */

/* the id of (sec, usec, inode) into dst (QID_MAX bytes), NUL-terminated;
   returns its length. usec must be < 1000000, sec < 32^7. */
extern size_t qid_fmt(char *dst, uint64_t sec, uint32_t usec, uint64_t inode);

/* 1 if s[0..len) is a well-formed id (length 12..24, the alphabet), else 0 */
extern int qid_ok(const char *s, size_t len);
#endif

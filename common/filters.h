#ifndef TERN_COMMON_FILTERS_H
#define TERN_COMMON_FILTERS_H
/* control/filters: the qmail-queue filter chain of each way in (libc only,
   pure: no file access; the caller reads the file with ctl_readlist).

   Each entry (a line that is neither blank nor a '#' comment) is
     SOURCE:PROGRAM [ARG...]
   SOURCE names the way the message came in:
     smtp        tern-smtpd on the mx listener (port 25)
     submission  tern-smtpd on the submission listener (587)
     smtps       tern-smtpd on the smtps listener (465)
     local       tern-inject / sendmail
     bounce      tern-send's bounces and delay warnings
     forward     tern-local's forwards (.tern &address, aliases)
   PROGRAM is a name without '/' (run from HOME/bin) or an absolute path;
   ARGs are separated by spaces or tabs (no quoting). The lines of one
   SOURCE form its chain, in file order: the first line's program gets the
   message first and hands it on to the next (QMAILQUEUE_NEXT); after the
   last one, the queue. A SOURCE with no line: straight to the queue. */
#include <stddef.h>

enum filters_source {
  FILTERS_SMTP, FILTERS_SUBMISSION, FILTERS_SMTPS, FILTERS_LOCAL,
  FILTERS_BOUNCE, FILTERS_FORWARD, FILTERS_NSOURCES
};

#define FILTERS_ARGV_MAX 16    /* PROGRAM and ARGs of one line, at most */
#define FILTERS_CHAIN_MAX 8    /* lines of one SOURCE, at most */

/* the source named s[0..n), or -1 if none */
extern int filters_source(const char *s, size_t n);
/* the name of source src (a static string), or 0 if out of range */
extern const char *filters_name(int src);

/* One entry (NUL-terminated, as ctl_listnext returns it). 0: well formed,
   *src set and *prog pointing at PROGRAM in line; -1: malformed (unknown
   SOURCE, no ':', no PROGRAM, a relative path with '/', more than
   FILTERS_ARGV_MAX words, or a byte below 0x20 other than TAB). */
extern int filters_line(const char *line, int *src, const char **prog);

/* Check a whole list of n entries (s: each NUL-terminated, one after
   another, as struct ctl_list holds them). 0 if every entry is well formed
   and no SOURCE has more than FILTERS_CHAIN_MAX lines; else -1 and *bad is
   the index (0-based) of the first bad entry. */
extern int filters_check(const char *s, size_t len, size_t n, size_t *bad);

/* The k-th (0-based) line of src's chain in a checked list: its PROGRAM
   and ARGs (a pointer into s), or 0 when the chain has k lines or fewer. */
extern const char *filters_nth(const char *s, size_t len, size_t n, int src, size_t k);

/* Split the PROGRAM [ARG...] text p into words, copied into buf (bufsize
   bytes); argv gets up to FILTERS_ARGV_MAX pointers and a final 0 (so
   FILTERS_ARGV_MAX + 1 slots). The number of words, or -1 if buf is too
   small or there are too many words. */
extern int filters_split(const char *p, char *buf, size_t bufsize, char **argv);
#endif

#ifndef TERN_COMMON_CTL_H
#define TERN_COMMON_CTL_H
/* Control files (qmail-control(5) rules): a single-value file is its first
   line with trailing SP, TAB and CR removed; a list file is every line that
   is neither blank nor starts with '#', trailing SP, TAB, CR removed. A
   missing file (ENOENT) means "use the default"; any other read error is an
   error, never a silent default. An existing empty file is a value ""
   (ctl_readline returns 1) or an empty list (ctl_readlist returns 1).
   Leading blanks are kept. In-memory parsers: common/ctl_internal.h. */
#include <stddef.h>

#define CTL_LINE_MAX 1024          /* longest single value accepted, bytes */
#define CTL_LIST_MAX (16u << 20)   /* largest list file accepted, bytes */

/* 1: value in buf[0..*len), NUL-terminated; 0: file missing (buf = "");
   -1: read error or value longer than max-1 (errno: EFBIG), or a NUL byte
   in the value (errno: EINVAL). */
extern int ctl_readline(const char *path, char *buf, size_t max, size_t *len);

struct ctl_list {
  char *s;      /* n entries, each NUL-terminated, one after another */
  size_t len;   /* bytes used in s */
  size_t n;     /* number of entries */
};
#define CTL_LIST_ZERO { 0, 0, 0 }

/* 1: read; 0: file missing (empty list); -1: error (errno; EFBIG if over
   CTL_LIST_MAX, EINVAL on a NUL byte anywhere in the file, ENOMEM). On 0
   and -1 l is empty. l is overwritten, not freed: ctl_listfree() an old
   list before reading into it again. */
extern int ctl_readlist(const char *path, struct ctl_list *l);
extern void ctl_listfree(struct ctl_list *l);
/* iterate: start with pos = 0; returns the next entry or 0 at the end */
extern const char *ctl_listnext(const struct ctl_list *l, size_t *pos);

/* an unsigned decimal number, whole line. 1: read into *v; 0: missing,
   *v = def; -1: read error; -2: malformed or out of range (errno EINVAL or
   ERANGE), *v = def. Only the digits 0-9, nothing else on the line but
   trailing SP/TAB/CR; an empty, over-long or NUL-holding line is -2. On -1
   *v = def too. */
extern int ctl_readulong(const char *path, unsigned long *v, unsigned long def);

/* Is domain d (length dlen, any case) in a domain list: an entry equal to
   it (case-insensitive), or an entry ".suffix" that d ends with (a
   wildcard for every subdomain; ".example.com" does not match
   "example.com" itself). 1 yes, 0 no; an empty d never matches. */
extern int ctl_domain_match(const struct ctl_list *l, const char *d, size_t dlen);
/* control/virtualdomains (reference/qmail.md 4.2 step 4): the prepend for
   the address a[0..len) (local@domain, split at the last '@'): the last
   line whose key is the whole address, else the domain, else each .suffix
   of the domain from the longest, else the empty key (":prepend", the
   catch-all); keys compared in any case. Returns a pointer into vd (the
   text after the line's first ':'), or 0 when no line matches. An empty
   prepend ("domain:") is an exception: the caller treats the address as
   not virtual. */
extern const char *ctl_vdomain(const struct ctl_list *vd, const char *a, size_t len);
/* The relay of a control/smtproutes entry (the text after the key's ':'):
   "host[:port]" or "[literal][:port]", as qmail-control(5) has it. The
   host part (everything up to the first ':', or a bracketed literal up to
   its ']') goes to name (NUL-terminated, at most max-1 bytes) and the
   port, a decimal 1..65535 (25 when absent), to *port. 1 ok; 0 malformed:
   an unclosed '[', a host part of max bytes or more, anything after the
   host part but ":digits", a port that is empty, 0 or over 65535 (name
   "" and *port 0 then). The host part itself is not checked here: it may
   be empty, and a literal's address is parsed by the caller. */
extern int ctl_relay(const char *r, char *name, size_t max, unsigned long *port);
/* The same, with tern-remote's optional " auth=NAME" after the relay (the
   name of an entry of its credentials file, tern-remote(8)): NAME is
   1..authmax-1 bytes of [A-Za-z0-9._-], copied NUL-terminated to auth
   ("" when absent). 1 ok, 0 malformed (the relay part as ctl_relay, or
   anything else after it). */
extern int ctl_relay_auth(const char *r, char *name, size_t max, unsigned long *port, char *auth, size_t authmax);
#endif

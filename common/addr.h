#ifndef TERN_COMMON_ADDR_H
#define TERN_COMMON_ADDR_H
/* RFC 5321 4.1.2 addresses. The internal form (the envelope, the queue, the
   spawner requests) is qmail's: the local part UNQUOTED (quotes and
   backslash escapes removed), '@', the domain; split at the LAST '@'. The
   null reverse-path is the empty string. addr_quote() turns the internal
   form back into wire form. Internal addresses never hold NUL, CR or LF.
   Clarifications (implementation, common/addr.c): non-ASCII bytes are
   accepted only with ADDR_O_UTF8 and must be strict UTF-8 (no overlongs,
   no surrogates, nothing above U+10FFFF, no C1 controls); an empty quoted
   local part ("") is refused (ADDR_E_SYNTAX); an address literal may not
   contain '@' (the internal form splits at the last '@'); domain labels are
   LDH (plus UTF-8 with ADDR_O_UTF8), 1..63 bytes, no leading/trailing '-',
   no trailing '.'. On any error *out is cleared (len 0, s "") and *end is
   not written. */
#include <stddef.h>

#define ADDR_LOCAL_MAX 256    /* local part, unquoted, bytes (RFC minimum 64) */
#define ADDR_DOMAIN_MAX 255   /* domain or address literal, bytes */
#define ADDR_MAX 1000         /* whole address, internal form, bytes (qmail: ~1000) */

struct addr {
  char s[ADDR_MAX + 1];  /* internal form, NUL-terminated */
  size_t len;            /* strlen(s) */
  size_t at;             /* index of the last '@', or len if none */
  unsigned flags;        /* ADDR_F_* */
};

#define ADDR_F_NULL 0x01     /* <>: the null reverse-path */
#define ADDR_F_UTF8 0x02     /* holds a byte >= 0x80 (RFC 6531) */
#define ADDR_F_QUOTED 0x04   /* the local part was a quoted-string */
#define ADDR_F_LITERAL 0x08  /* the domain is an address literal [..] */
#define ADDR_F_ROUTE 0x10    /* a source route @a,@b: was dropped (RFC 5321 3.3) */
#define ADDR_F_NODOMAIN 0x20 /* no '@domain' (only allowed for <postmaster>) */

/* options */
#define ADDR_O_NULL 0x01      /* accept <> (MAIL FROM) */
#define ADDR_O_UTF8 0x02      /* accept UTF-8 in local part and domain (SMTPUTF8 given) */
#define ADDR_O_NODOMAIN 0x04  /* accept <postmaster> without a domain (RCPT TO) */
#define ADDR_O_NOBRACKET 0x08 /* accept a path without <> (lenient clients) */

/* results */
#define ADDR_OK 0
#define ADDR_E_SYNTAX 1    /* not a valid path/mailbox */
#define ADDR_E_TOOLONG 2   /* a part is over its limit */
#define ADDR_E_UTF8 3      /* non-ASCII without ADDR_O_UTF8, or invalid UTF-8 */
#define ADDR_E_NULL 4      /* <> where not allowed */
#define ADDR_E_NODOMAIN 5  /* no domain where one is required */

/* Parse an SMTP path at s[0..len): optional spaces, "<", optional source
   route, mailbox, ">". *end receives the index just past '>' (where ESMTP
   parameters start). Returns ADDR_OK or ADDR_E_*. Leading SP and TAB are
   skipped ("MAIL FROM: <a@b>"). With ADDR_O_NOBRACKET a path without '<'
   is one mailbox ending at the first SP outside quotes or at len; *end is
   then the index of that SP (or len). */
extern int addr_parse_path(const char *s, size_t len, unsigned opts, struct addr *out, size_t *end);

/* Parse a bare mailbox (no <>), e.g. a command-line recipient or an
   envelope address: the whole of s[0..len) must be one mailbox in wire form
   (quoted local part allowed) or already in internal form when
   ADDR_O_NOBRACKET is given and it contains no quotes. Returns ADDR_OK or
   ADDR_E_*. len 0 is the null address (ADDR_F_NULL) with ADDR_O_NULL, else
   ADDR_E_NULL. The wire form is tried first; if it fails and
   ADDR_O_NOBRACKET is given and s has no '"', s is taken as internal form:
   split at the last '@', local part = any printable ASCII (SP included) or
   valid UTF-8, 1..ADDR_LOCAL_MAX bytes; domain as above; ADDR_F_QUOTED is
   set if the local part is not a dot-string. */
extern int addr_parse_mailbox(const char *s, size_t len, unsigned opts, struct addr *out);

/* 1 if the local part is "postmaster" (any case), 0 otherwise (RFC 5321 4.5.1) */
extern int addr_is_postmaster(const struct addr *a);

/* Write the wire form of internal address s[0..len) into dst: the local part
   quoted (RFC 5321 quoted-string) when it is not a dot-string. dst == 0
   only measures. Returns the length (at most 2*len+2). */
extern size_t addr_quote(char *dst, const char *s, size_t len);

/* Is d[0..len) a syntactically valid domain (letters, digits, hyphens,
   dots; or UTF-8 labels when utf8 is 1) or address literal? 1 yes, 0 no. */
extern int addr_domain_valid(const char *d, size_t len, int utf8);

/* lower-case ASCII copy of the domain of a into dst (ADDR_DOMAIN_MAX+1
   bytes); returns its length (0 if no domain) */
extern size_t addr_domain_lower(const struct addr *a, char *dst);

/* a short English description of an ADDR_E_* code */
extern const char *addr_strerror(int e);
#endif

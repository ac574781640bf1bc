#ifndef TERN_SEND_MTASTS_H
#define TERN_SEND_MTASTS_H
/* MTA-STS (RFC 8461): the pure parts, shared by the fetcher tern-mtasts
   and tern-remote: the policy file (3.2), the _mta-sts TXT record (3.1),
   MX host matching (4.1), and the cache entry tern-mtasts writes in
   HOME/MTASTS_DIR/DOMAIN. libc only, no I/O; every parser here reads
   untrusted bytes (tests/fuzz/mtasts-fuzz.c).

   A cache entry is one header line, one note line, then the policy file
   exactly as fetched (nothing after the note when there is no policy):
     "tern-mta-sts 1" SP id SP fetched SP expires SP checked LF
     note LF
     [policy file]
   id is the TXT record's id ("-": no policy), fetched, expires and checked
   are Unix times in seconds (when the policy was fetched, when its max_age
   runs out, when the TXT record was last looked at); note is 1..
   MTASTS_NOTE_MAX printable ASCII bytes saying what the last look found. */
#include <stddef.h>
#include "common/addr.h"

/* the cache, relative to HOME: in remote-state/, ternr's written state,
   apart from remote/ (the relay credentials, configuration) */
#define MTASTS_DIR "remote-state/mta-sts"
#define MTASTS_POLICY_MAX 65536       /* bytes of a policy file (RFC 8461 3.3: 64 KiB) */
#define MTASTS_MX_MAX 32              /* mx lines kept; a policy with more is malformed */
#define MTASTS_ID_MAX 32              /* the TXT id: 1..32 letters and digits */
#define MTASTS_MAXAGE_MAX 31557600UL  /* max_age limit, seconds (RFC 8461 3.2) */
#define MTASTS_NOTE_MAX 160
#define MTASTS_NOTE_NOREC "no _mta-sts TXT record"   /* the note when the domain has none */
#define MTASTS_CACHE_MAX (64 + 3 * 20 + MTASTS_ID_MAX + MTASTS_NOTE_MAX + MTASTS_POLICY_MAX)

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
  enum mtasts_mode mode;
  unsigned long max_age;                        /* seconds, 0..MTASTS_MAXAGE_MAX */
  int nmx;                                      /* 0..MTASTS_MX_MAX */
  char mx[MTASTS_MX_MAX][ADDR_DOMAIN_MAX + 1];  /* lower case, no trailing dot; "*.rest" kept */
};

/* Parse the policy file p[0..len) into *pol. Lines end in LF or CRLF; a
   field is "key:" *WSP value *WSP; keys in any case; unknown keys are
   ignored; the first version, mode and max_age count, every mx counts.
   0: it has "version: STSv1", a mode (enforce, testing, none), a max_age
   of 1..10 digits at most MTASTS_MAXAGE_MAX and, unless the mode is none,
   at least one mx. -1 malformed (also: over MTASTS_POLICY_MAX bytes, a
   NUL or control byte, a line without ':', an mx that is no host name
   or "*." host name, more than MTASTS_MX_MAX mx); *pol is then zero. */
extern int mtasts_parse(const char *p, size_t len, struct mtasts_policy *pol);

/* The text of one TXT record s[0..len) (its strings joined). 1: an STS
   record, "v=STSv1" then ";"-separated fields, with an id of 1..
   MTASTS_ID_MAX letters and digits (copied to id, NUL-terminated); 0: not
   an STS record (does not start with "v=STSv1"); -1: it starts so but is
   malformed (no id, a bad id, a field without '='). */
extern int mtasts_txt(const char *s, size_t len, char id[MTASTS_ID_MAX + 1]);

/* Whether host (any case, a trailing dot ignored) matches one of pol's
   mx patterns: equal, or "*.rest" with host one label in front of rest
   (RFC 8461 4.1). 1 or 0. */
extern int mtasts_mx_match(const struct mtasts_policy *pol, const char *host);

/* Whether d is a policy domain name tern keeps an entry for (the entry's
   file name): 1..ADDR_DOMAIN_MAX - 8 bytes of [a-z0-9.-] (lower case), not
   starting with '.' or '-', no "..". 1 or 0. */
extern int mtasts_domain_ok(const char *d);

/* The mode's name: "none", "testing", "enforce". */
extern const char *mtasts_mode_name(enum mtasts_mode m);

struct mtasts_cache {
  char id[MTASTS_ID_MAX + 1];       /* "" when there is no policy */
  unsigned long long fetched, expires, checked;
  char note[MTASTS_NOTE_MAX + 1];
  int havepolicy;                   /* pol is valid (id set, the file parsed) */
  struct mtasts_policy pol;
};

/* Parse a cache entry b[0..len) (at most MTASTS_CACHE_MAX). 0 with *c
   filled; -1 malformed (*c then zero). An entry whose id is set must
   carry a policy that parses. */
extern int mtasts_cache_parse(const char *b, size_t len, struct mtasts_cache *c);

/* Format the header and note lines of an entry into buf (at least
   MTASTS_CACHE_MAX - MTASTS_POLICY_MAX bytes); id "" is written "-";
   bytes of note outside printable ASCII become '?', an empty note "-".
   Returns the length; the policy file, if any, goes after it. */
extern size_t mtasts_cache_head(char *buf, const char *id, unsigned long long fetched,
                                unsigned long long expires, unsigned long long checked, const char *note);
#endif

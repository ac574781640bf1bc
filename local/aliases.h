#ifndef TERN_LOCAL_ALIASES_H
#define TERN_LOCAL_ALIASES_H
/* The sendmail-style aliases file parser (aliases(5)) of tern-newaliases:
   libc only, no I/O, no allocation. See local/tern-newaliases.8.

     name: value, value, ...
   continuation lines begin with a blank (SP or TAB); lines whose first
   byte is '#' are comments; blank lines are ignored; CR before LF is
   dropped. Names are case-folded. A value is an address (user or
   user@domain, a leading '\' and surrounding <> dropped), /file,
   |command, or :include:/file; a value inside double quotes may hold
   commas and blanks. Not reentrant (static buffers), but an entry callback of aliases_parse
   may call aliases_parse_list (each has its own buffer). */
#include <stddef.h>

#define ALIASES_FILE_MAX (16u << 20)  /* largest aliases or :include: file, bytes */
#define ALIASES_ENTRY_MAX 65536       /* one entry with its continuation lines, bytes */
#define ALIASES_NAME_MAX 200          /* alias name, bytes */
#define ALIASES_ADDR_MAX 1000         /* address value, bytes */
#define ALIASES_VALUE_MAX 4000        /* /file, |command, :include: path, bytes */
#define ALIASES_VALUES_MAX 1000       /* values per entry */

#define ALIAS_ADDR 1      /* s = the address (no '\', no <>) */
#define ALIAS_FILE 2      /* s = the path, starting with '/' */
#define ALIAS_PROG 3      /* s = the command, without '|' */
#define ALIAS_INCLUDE 4   /* s = the path, starting with '/' */

struct alias_value {
  int type;
  const char *s;   /* NUL-terminated */
  size_t len;
};

/* called for each good entry: name lowercased, NUL-terminated, nv >= 1 */
typedef void (*aliases_entry_fn)(void *ctx, unsigned long line, const char *name, size_t nlen,
                                 const struct alias_value *v, size_t nv);
/* called for each bad entry or line (the entry is skipped) */
typedef void (*aliases_error_fn)(void *ctx, unsigned long line, const char *why);
/* called for each address of an :include: file */
typedef void (*aliases_addr_fn)(void *ctx, unsigned long line, const char *addr, size_t len);

/* Parse an aliases file buf[0..len). Returns the number of good entries,
   or -1 when len > ALIASES_FILE_MAX (nothing parsed). */
extern long aliases_parse(const char *buf, size_t len, aliases_entry_fn entry, aliases_error_fn err, void *ctx);

/* Parse an :include: file: addresses separated by commas or newlines, '#'
   comment lines; only addresses are allowed (a file, program or include
   is an error). Returns the number of addresses, or -1 when len >
   ALIASES_FILE_MAX. */
extern long aliases_parse_list(const char *buf, size_t len, aliases_addr_fn addr, aliases_error_fn err, void *ctx);

/* Classify one value s[0..len) in place (quotes and blanks around it
   removed by the caller); 0 ok with *v filled (v->s points into s), or an
   error text. s[len] must be writable (a NUL is put at the end). */
extern const char *aliases_value(char *s, size_t len, struct alias_value *v);
#endif

#ifndef TERN_QUEUE_HDR_H
#define TERN_QUEUE_HDR_H
/* hdr: the pure parsing of tern-inject (libc only, no I/O).
   - hdr_filter: the input stream of sendmail(8): CRLF -> LF, and (unless
     -i) a line holding a single '.' ends the input.
   - hdr_field: is a header line the start of a field "Name:"?
   - hdr_addrlist: the addr-specs of an RFC 5322 3.4 address-list (To, Cc,
     Bcc, command-line arguments), display names, comments and groups
     dropped, quoted local parts unquoted (qmail's internal form). */
#include <stddef.h>

#define HDR_LINE_MAX 65536          /* one physical header line, bytes, LF included */
#define HDR_TOTAL_MAX (1u << 20)    /* the whole header, bytes */
#define HDR_ADDR_MAX 1000           /* one address, internal form (= ENVELOPE_ADDR_MAX) */
#define HDR_COMMENT_DEPTH 32        /* nested comments deeper than this: malformed */

struct hdr_filter {
  unsigned state;  /* internal */
  int dotend;      /* 1: a line "." ends the input (no -i) */
  int ended;       /* 1: the "." line was seen; the rest of the input is ignored */
  char last;       /* last byte written out (0 before any) */
};
#define HDR_FILTER_ZERO { 0, 0, 0, 0 }

/* Filter in[0..len) into out, which must hold len + 2 bytes. Returns the
   number of bytes written; *used receives the bytes consumed (less than len
   only when the "." line ended the input: f->ended is then 1). */
extern size_t hdr_filter_feed(struct hdr_filter *f, const char *in, size_t len, char *out, size_t *used);
/* At end of input: flush held bytes into out (room for 3 bytes) and add a
   final LF if the output does not end with one (and is not empty).
   Returns the bytes written. */
extern size_t hdr_filter_end(struct hdr_filter *f, char *out);

/* If line[0..len) starts a header field (1*ftext ":" where ftext is 33..126
   except ':'), returns 1 and sets *namelen; otherwise 0. */
extern int hdr_field(const char *line, size_t len, size_t *namelen);

/* 1 if the field at line[0..len) is named name (ASCII case-insensitive) */
extern int hdr_is(const char *line, size_t len, const char *name);

/* Parse the address-list s[0..len) (a field body, continuation lines
   included). For every mailbox, calls cb(ctx, addr, alen) with its
   addr-spec in internal form (no quotes, no comments, no spaces outside
   quoted parts; may lack "@domain"). A callback returning nonzero stops the
   walk. Returns the number of addresses given to cb, or -1 when the list is
   malformed (an unterminated quote, comment, bracket or literal, comments
   nested deeper than HDR_COMMENT_DEPTH) and -2 when an address is longer
   than HDR_ADDR_MAX; addresses before the error have been given to cb.
   A callback that stops the walk makes the result -3. */
typedef int hdr_addr_cb(void *ctx, const char *addr, size_t alen);
extern int hdr_addrlist(const char *s, size_t len, hdr_addr_cb *cb, void *ctx);
/* The same walk, and end: the index in s just past the last byte of the
   addr-spec as written (past the closing '"' of a quoted local part, the
   ']' of a literal; before the '>' of an angle address, before any
   comment or white space after it), where tern-inject appends what
   qualification adds (qmail-header(5)). */
typedef int hdr_addrpos_cb(void *ctx, const char *addr, size_t alen, size_t end);
extern int hdr_addrlist_pos(const char *s, size_t len, hdr_addrpos_cb *cb, void *ctx);
#endif

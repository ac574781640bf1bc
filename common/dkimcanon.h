#ifndef TERN_COMMON_DKIMCANON_H
#define TERN_COMMON_DKIMCANON_H
/* DKIM's "relaxed" canonicalisation (RFC 6376 section 3.4.2 for header
   fields, 3.4.4 for the body) and the few header-parsing steps the signer
   needs. libc only, no allocation, no hashing: the caller feeds the output
   to its digest. Lines may end in CRLF or in a bare LF (as messages sit in
   the queue); both are read as one line end, and the output always uses
   CRLF, as a verifier sees the message on the wire. A CR not followed by
   LF is an ordinary byte of the line. */
#include <stddef.h>

/* where canonical bytes go (a digest update, a test buffer) */
typedef void dkim_out(void *ctx, const char *s, size_t n);

/* The body, streamed: dkim_body_feed as often as needed, then
   dkim_body_end once. Inside a line each run of spaces and tabs becomes
   one space; spaces and tabs at the end of a line go; empty lines at the
   end of the body go; a non-empty body ends with CRLF; an empty body
   (or one of empty lines only) is empty. A zeroed struct is a fresh
   state. Bytes emitted: at most fed bytes + pending line ends + 2. */
struct dkim_body {
  unsigned long long blank;  /* empty lines held back (emitted only if content follows) */
  int cr;                    /* a CR was the last byte: a line end if LF follows */
  int wsp;                   /* spaces or tabs held back inside the line */
  int content;               /* the current line has emitted something */
};
#define DKIM_BODY_ZERO { 0, 0, 0, 0 }
extern void dkim_body_feed(struct dkim_body *b, const char *s, size_t n, dkim_out *out, void *ctx);
extern void dkim_body_end(struct dkim_body *b, dkim_out *out, void *ctx);

/* Length of the header field at s[0..n): its first line and every
   continuation line (one starting with a space or tab), line ends
   included. 0 when s starts with the empty line that ends the header
   (LF or CRLF) or n is 0. A last field without a line end runs to n. */
extern size_t dkim_field_len(const char *s, size_t n);

/* Length of the line end that ends the header at s[0..n) ("\n": 1,
   "\r\n": 2), 0 if s does not start with an empty line. */
extern size_t dkim_blank_len(const char *s, size_t n);

/* Relaxed form of one header field f[0..n) (as dkim_field_len cut it):
   name lowercased, line ends inside removed (unfolded), runs of spaces
   and tabs made one space, none around the colon or at the end, then
   CRLF. out needs n + 2 bytes. Returns the length written, or 0 if the
   field has no colon or an empty name (not a header field; nothing to
   sign). With crlf 0 the final CRLF is left off (the DKIM-Signature field
   itself is hashed without it, RFC 6376 section 3.7). */
extern size_t dkim_relax_header(char *out, const char *f, size_t n, int crlf);

/* 1 if field f[0..n) is named name (ASCII case-insensitive; spaces or
   tabs may stand before the colon), else 0. */
extern int dkim_field_is(const char *f, size_t n, const char *name);

/* The domain of the address in a From: field f[0..n) (the whole field,
   name included): the address in the last <...> if there is one, else
   the field value with (comments) removed; the part after its last '@',
   lowercased, into dom (cap bytes, NUL-terminated). Returns its length,
   or 0 if there is none, it is longer than cap - 1 or than 253 bytes, or
   it is not a plain host name (letters, digits, '-' and '.', no leading,
   trailing or doubled dot). A field holding more than one address (a
   comma outside <> and quotes) gives 0: there is no single signer. */
extern size_t dkim_from_domain(char *dom, size_t cap, const char *f, size_t n);

/* 1 if s (NUL-terminated) is a valid selector or domain as the signer
   uses them: 1..253 bytes of lowercase letters, digits, '-', '_' and '.',
   no leading, trailing or doubled dot. File names are made from these,
   so this is also what keeps a path inside its directory. */
extern int dkim_name_ok(const char *s);
#endif

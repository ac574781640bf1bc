#ifndef TERN_QUEUE_RSPAMC_H
#define TERN_QUEUE_RSPAMC_H
/* rspamc: the reader of rspamd's answer to POST /checkv2 (rspamd's HTTP
   protocol), for tern-rspamc(8). Pure: bytes in, a verdict out; libc only.

   The answer is an HTTP/1.x response: a status line, header lines, an
   empty line, then a JSON object. Of it only these members are used:
     "action"     "reject", "soft reject", "rewrite subject", "add header",
                  "greylist" or "no action"
     "score", "required_score"   numbers (kept as text for the log)
     "messages"   {"smtp_message": STRING}: the reply text rspamd wants
     "symbols"    {NAME: {...}, ...}: the names, for the log
     "milter"     {"add_headers": {NAME: V, ...}}: header fields to add,
                  V a string, {"value": STRING, "order": N} or an array
                  of those (one field each)
   Everything else is read (the whole object must be well-formed JSON,
   RFC 8259, nesting at most RSPAMC_DEPTH) and ignored. */
#include <stddef.h>

#define RSPAMC_REPLY_MAX (1u << 20)   /* longest answer read, bytes */
#define RSPAMC_DEPTH 32               /* deepest JSON nesting accepted */
#define RSPAMC_STR_MAX 8192           /* longest JSON string used, bytes (decoded) */
#define RSPAMC_HDRS_MAX 16384         /* header fields to add, bytes in all */
#define RSPAMC_MSG_MAX 256            /* smtp_message kept, bytes */
#define RSPAMC_SYMS_MAX 1024          /* symbol names kept for the log, bytes */

enum rspamc_action {
  RSPAMC_NOACTION, RSPAMC_ADDHEADER, RSPAMC_REWRITESUBJECT,
  RSPAMC_GREYLIST, RSPAMC_SOFTREJECT, RSPAMC_REJECT, RSPAMC_UNKNOWN
};

struct rspamc_verdict {
  int action;                     /* enum rspamc_action; RSPAMC_UNKNOWN if absent or other */
  char score[32], required[32];   /* "" if absent */
  char message[RSPAMC_MSG_MAX];   /* messages.smtp_message, printable ASCII (others '?'), or "" */
  char symbols[RSPAMC_SYMS_MAX];  /* "NAME,NAME,..." cut at a name, printable, or "" */
  size_t nhdrs;                   /* fields in hdrs */
  size_t hdrslen;
  char hdrs[RSPAMC_HDRS_MAX];     /* "Name: value\n" per field, ready to put
                                     on top of a message (LF line ends; see
                                     rspamc_field); fields that do not fit or
                                     are not valid are left out */
  int xspam;                      /* 1 if an X-Spam field is among them */
};

/* The HTTP response r[0..n). 0: a 200 answer with a well-formed JSON body,
   *v filled; -1: anything else (not HTTP, another status, no body, JSON
   not well-formed or too deep, n > RSPAMC_REPLY_MAX), *v then holds
   RSPAMC_UNKNOWN and no field. */
extern int rspamc_reply(const char *r, size_t n, struct rspamc_verdict *v);

/* One header field "name: value\n" into out[0..max): the name must be 1 to
   76 bytes of 33..126 but ':'; the value's line ends (CRLF, LF or CR) become
   LF followed by a TAB unless a SP or TAB follows already (a folded line,
   never a new field), other bytes below 0x20 but TAB and 0x7f become
   spaces, bytes >= 0x80 are kept (UTF-8, RFC 6532). The length written, or
   0 if the name is not valid, the value holds a NUL or the field does not
   fit. Not NUL-terminated. */
extern size_t rspamc_field(char *out, size_t max, const char *name, size_t namelen, const char *value, size_t valuelen);

/* the action's name as rspamd spells it ("?" for RSPAMC_UNKNOWN) */
extern const char *rspamc_action_name(int action);
#endif

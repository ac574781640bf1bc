#ifndef TERN_SEND_REMOTE_REPLY_H
#define TERN_SEND_REMOTE_REPLY_H
/* SMTP reply parser for tern-remote (RFC 5321 4.2), libc only, fed bytes
   incrementally from an untrusted server. Hard limits: a line (text + CRLF)
   of at most REPLY_LINE_MAX octets, at most REPLY_LINES_MAX lines in one
   reply; the kept text is capped at REPLY_TEXT_MAX (the rest is counted, not
   kept). Every line must start with the same 3-digit code (first digit 2..5,
   then two digits), followed by '-' (more lines), ' ' or the end of the line
   (last line). A NUL, a CR not before LF, or any byte outside 0x20..0x7e in
   the text is kept as '?'. Bare LF ends a line like CRLF (lenient). */
#include <stddef.h>

#define REPLY_LINE_MAX 2048   /* octets per line, CRLF included (RFC minimum 512) */
#define REPLY_LINES_MAX 1000  /* lines per reply */
#define REPLY_TEXT_MAX 3000   /* text kept, bytes, lines joined by '\n' */

#define REPLY_MORE 0          /* need more bytes */
#define REPLY_DONE 1          /* a complete reply; code and text are set */
#define REPLY_E_CODE -1       /* a line does not start with a valid 3-digit code, or codes differ */
#define REPLY_E_LINE -2       /* a line longer than REPLY_LINE_MAX */
#define REPLY_E_LINES -3      /* more than REPLY_LINES_MAX lines */

struct reply {
  int code;                          /* 200..599 once DONE, else 0 */
  unsigned lines;                    /* lines seen so far */
  size_t textlen;                    /* bytes in text */
  int truncated;                     /* 1 if text was cut at REPLY_TEXT_MAX */
  char text[REPLY_TEXT_MAX + 1];     /* "250-a\n250 b": whole lines, NUL-terminated */
  /* internal */
  unsigned state;
  size_t linelen;
  int linecode;
  int firstcode;
  int last;
  int err;
};

/* start a new reply */
extern void reply_init(struct reply *r);

/* Consume bytes s[0..len) up to the end of the reply; *used receives the
   number consumed (so the caller keeps the rest, e.g. the next pipelined
   reply). Returns REPLY_MORE, REPLY_DONE or REPLY_E_*; after DONE or an
   error, further calls return the same without consuming. */
extern int reply_feed(struct reply *r, const char *s, size_t len, size_t *used);

/* short English text for a REPLY_E_* code */
extern const char *reply_strerror(int e);

/* EHLO reply extensions (RFC 5321 4.1.1.1): looked for in lines 2.. of a
   DONE reply's text. */
struct ehlo {
  int pipelining;
  int eightbitmime;
  int smtputf8;
  int size;                 /* SIZE advertised */
  unsigned long sizemax;    /* its value, 0 = no fixed limit */
  int starttls;             /* STARTTLS advertised (RFC 3207) */
  int authplain, authlogin; /* AUTH (RFC 4954; also "AUTH=") offers PLAIN, LOGIN */
};
extern void reply_ehlo(const struct reply *r, struct ehlo *e);
#endif

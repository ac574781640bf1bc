#ifndef TERN_SEND_RREPORT_H
#define TERN_SEND_RREPORT_H
/* rreport: tern-rspawn's reader of tern-remote's report stream (libc only).
   tern-remote writes, in recipient order, zero or more recipient reports
   (letter r accepted, h permanent, s temporary; text; NUL), then exactly one
   message report (K, Z or D; text; NUL), and nothing after it (qmail-remote(8)
   format). That stream comes from another process, so it is validated and
   capped: at most RREPORT_IN_MAX bytes are looked at. */
#include <stddef.h>

#define RREPORT_IN_MAX 65536     /* bytes of tern-remote output accepted */
#define RREPORT_TEXT_MAX 4000    /* bytes of text per recipient in the reply */
#define RREPORT_RCPT_MAX 100     /* recipients per request */
/* worst-case reply size for n recipients (letter + text + NUL each) */
#define RREPORT_OUT_MAX(n) ((n) * (RREPORT_TEXT_MAX + 2))

/* Convert out[0..len) (tern-remote's output; overflow = 1 if it wrote more
   than RREPORT_IN_MAX) into the spawner reply body for nrcpt recipients:
   for each, `letter text NUL` with letter K, Z or D: r becomes K only when the
   message report is K, h becomes D, s becomes Z, a missing recipient report
   takes the message report's letter; text = for h and s the recipient text
   alone (if not empty), otherwise recipient text, LF, message text (just the
   message text when the recipient text is empty or missing), cut to
   RREPORT_TEXT_MAX, bytes outside 0x20..0x7e except LF shown as '?'.
   A malformed stream gives Z for every recipient. dst must hold
   RREPORT_OUT_MAX(nrcpt) bytes. Returns the bytes written; *ok is 1 if the
   stream was well-formed, 0 if not. */
extern size_t rreport_reply(char *dst, const char *out, size_t len, int overflow, size_t nrcpt, int *ok);

/* The same reply when tern-remote could not report: every recipient gets
   letter and the text msg (cut to RREPORT_TEXT_MAX). */
extern size_t rreport_all(char *dst, size_t nrcpt, char letter, const char *msg);
#endif

#ifndef TERN_SMTPD_PHASE_H
#define TERN_SMTPD_PHASE_H
/* phase: which SMTP command tern-smtpd accepts when (RFC 5321 4.1.4,
   RFC 3030 2). Pure (libc only, no I/O): tern-smtpd keeps the phase in its
   session, asks phase_check() before running any handler, and moves the
   phase on when a command succeeds. See smtpd/tern-smtpd.8 PROTOCOL. */
#include <stddef.h>

enum phase {
  PHASE_START = 0,   /* before HELO/EHLO */
  PHASE_GREETED,     /* HELO/EHLO seen, no transaction */
  PHASE_MAIL,        /* MAIL accepted, no recipient yet */
  PHASE_RCPT,        /* at least one recipient accepted */
  PHASE_BDAT,        /* a BDAT chunk went to the queue; LAST ends it */
  PHASE_BDATFAIL,    /* the queue could not be started for BDAT: RSET or MAIL */
  PHASE_N
};

struct phase_refusal {
  const char *reply;   /* the whole reply line, without CRLF */
  int bad;             /* 1: counts towards control/maxbadcmds */
};

/* May command verb (enum smtp_verb) with an argument of arglen octets run
   in phase? 0: yes. Otherwise the refusal: first an argument that must be
   there and is not (HELO, EHLO, VRFY) or must not be and is (DATA), then
   the phase. Commands tern-smtpd does not implement (EXPN, STARTTLS, AUTH,
   ETRN, TURN: 502) and unknown verbs (500) are refused in every phase. */
extern const struct phase_refusal *phase_check(int verb, int phase, size_t arglen);

/* The phase after the transaction ends (RSET, HELO/EHLO, QUIT, the reply to
   the end of a message): PHASE_START before any HELO/EHLO, else PHASE_GREETED. */
extern int phase_reset(int phase);
#endif

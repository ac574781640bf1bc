/* phase: the command order rules of tern-smtpd. See phase.h. */
#include "smtpd/phase.h"
#include "smtpd/smtp.h"

#define B(p) (1u << (p))
#define ALL (B(PHASE_N) - 1)

#define ARG_ANY 0
#define ARG_NEED 1     /* refused without an argument */
#define ARG_NONE 2     /* refused with an argument */

/* One row per refusal, checked in order: the first row for the verb whose
   argument rule or phase set matches refuses it. A verb runs in every phase
   no row refuses. */
static const struct rule {
  int verb;
  int arg;
  unsigned phases;
  struct phase_refusal no;
} rules[] = {
  { SMTP_V_HELO, ARG_NEED, 0, { "501 5.5.4 HELO needs a domain", 1 } },
  { SMTP_V_EHLO, ARG_NEED, 0, { "501 5.5.4 EHLO needs a domain", 1 } },
  { SMTP_V_VRFY, ARG_NEED, 0, { "501 5.5.4 VRFY needs an argument", 1 } },
  { SMTP_V_DATA, ARG_NONE, 0, { "501 5.5.4 DATA takes no argument", 1 } },
  { SMTP_V_MAIL, ARG_ANY, B(PHASE_START), { "503 5.5.1 send HELO or EHLO first", 1 } },
  { SMTP_V_MAIL, ARG_ANY, ALL & ~B(PHASE_GREETED), { "503 5.5.1 nested MAIL command", 1 } },
  { SMTP_V_RCPT, ARG_ANY, B(PHASE_START) | B(PHASE_GREETED), { "503 5.5.1 MAIL first", 1 } },
  { SMTP_V_RCPT, ARG_ANY, B(PHASE_BDAT), { "503 5.5.1 RCPT not allowed during BDAT", 1 } },
  { SMTP_V_DATA, ARG_ANY, B(PHASE_BDAT) | B(PHASE_BDATFAIL), { "503 5.5.1 DATA not allowed after BDAT", 1 } },
  { SMTP_V_DATA, ARG_ANY, B(PHASE_START) | B(PHASE_GREETED), { "503 5.5.1 MAIL first", 1 } },
  { SMTP_V_DATA, ARG_ANY, B(PHASE_MAIL), { "554 5.5.1 no valid recipients", 0 } },
  { SMTP_V_BDAT, ARG_ANY, B(PHASE_START) | B(PHASE_GREETED), { "503 5.5.1 MAIL first", 1 } },
  { SMTP_V_BDAT, ARG_ANY, B(PHASE_MAIL), { "554 5.5.1 no valid recipients", 1 } },
  { SMTP_V_BDAT, ARG_ANY, B(PHASE_BDATFAIL), { "503 5.5.1 previous BDAT failed, send RSET", 1 } },
  { SMTP_V_EXPN, ARG_ANY, ALL, { "502 5.5.1 not implemented", 1 } },
  { SMTP_V_STARTTLS, ARG_ANY, ALL, { "502 5.5.1 not implemented", 1 } },
  { SMTP_V_AUTH, ARG_ANY, ALL, { "502 5.5.1 not implemented", 1 } },
  { SMTP_V_ETRN, ARG_ANY, ALL, { "502 5.5.1 not implemented", 1 } },
  { SMTP_V_TURN, ARG_ANY, ALL, { "502 5.5.1 not implemented", 1 } },
};

static const struct phase_refusal unknown = { "500 5.5.1 unrecognized command", 1 };

static int known(int verb)
{
  return verb == SMTP_V_HELO || verb == SMTP_V_EHLO || verb == SMTP_V_MAIL
    || verb == SMTP_V_RCPT || verb == SMTP_V_DATA || verb == SMTP_V_BDAT
    || verb == SMTP_V_RSET || verb == SMTP_V_NOOP || verb == SMTP_V_QUIT
    || verb == SMTP_V_VRFY || verb == SMTP_V_HELP || verb == SMTP_V_EXPN
    || verb == SMTP_V_STARTTLS || verb == SMTP_V_AUTH || verb == SMTP_V_ETRN
    || verb == SMTP_V_TURN;
}

const struct phase_refusal *phase_check(int verb, int phase, size_t arglen)
{
  if (!known(verb) || phase < 0 || phase >= PHASE_N) return &unknown;
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    const struct rule *r = &rules[i];
    if (r->verb != verb) continue;
    if ((r->arg == ARG_NEED && !arglen) || (r->arg == ARG_NONE && arglen)
        || (r->phases & B(phase)))
      return &r->no;
  }
  return 0;
}

int phase_reset(int phase)
{
  return phase == PHASE_START ? PHASE_START : PHASE_GREETED;
}

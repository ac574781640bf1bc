/* smtpd-phase-test: tern-smtpd's command order rules (smtpd/phase.c), one
   row per verb, phase and argument: which reply refuses it, or none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/phase.h"
#include "smtpd/smtp.h"

#define S PHASE_START
#define G PHASE_GREETED
#define M PHASE_MAIL
#define R PHASE_RCPT
#define B PHASE_BDAT
#define F PHASE_BDATFAIL

static const struct row {
  int verb, phase;
  size_t arglen;
  const char *reply;   /* 0: may run; else the start of the refusal */
  int bad;
} rows[] = {
  { SMTP_V_HELO, S, 4, 0, 0 }, { SMTP_V_HELO, B, 4, 0, 0 },
  { SMTP_V_HELO, G, 0, "501 5.5.4 HELO needs", 1 },
  { SMTP_V_EHLO, R, 0, "501 5.5.4 EHLO needs", 1 }, { SMTP_V_EHLO, F, 3, 0, 0 },
  { SMTP_V_MAIL, S, 9, "503 5.5.1 send HELO or EHLO first", 1 },
  { SMTP_V_MAIL, G, 9, 0, 0 },
  { SMTP_V_MAIL, M, 9, "503 5.5.1 nested MAIL", 1 },
  { SMTP_V_MAIL, R, 9, "503 5.5.1 nested MAIL", 1 },
  { SMTP_V_MAIL, B, 9, "503 5.5.1 nested MAIL", 1 },
  { SMTP_V_MAIL, F, 9, "503 5.5.1 nested MAIL", 1 },
  { SMTP_V_RCPT, S, 9, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_RCPT, G, 9, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_RCPT, M, 9, 0, 0 }, { SMTP_V_RCPT, R, 9, 0, 0 }, { SMTP_V_RCPT, F, 9, 0, 0 },
  { SMTP_V_RCPT, B, 9, "503 5.5.1 RCPT not allowed during BDAT", 1 },
  { SMTP_V_DATA, R, 0, 0, 0 },
  { SMTP_V_DATA, R, 1, "501 5.5.4 DATA takes no argument", 1 },
  { SMTP_V_DATA, S, 1, "501 5.5.4 DATA takes no argument", 1 },   /* the argument first */
  { SMTP_V_DATA, S, 0, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_DATA, G, 0, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_DATA, M, 0, "554 5.5.1 no valid recipients", 0 },
  { SMTP_V_DATA, B, 0, "503 5.5.1 DATA not allowed after BDAT", 1 },
  { SMTP_V_DATA, F, 0, "503 5.5.1 DATA not allowed after BDAT", 1 },
  { SMTP_V_BDAT, S, 2, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_BDAT, G, 2, "503 5.5.1 MAIL first", 1 },
  { SMTP_V_BDAT, M, 2, "554 5.5.1 no valid recipients", 1 },
  { SMTP_V_BDAT, R, 2, 0, 0 }, { SMTP_V_BDAT, B, 2, 0, 0 },
  { SMTP_V_BDAT, F, 2, "503 5.5.1 previous BDAT failed", 1 },
  { SMTP_V_RSET, S, 0, 0, 0 }, { SMTP_V_RSET, B, 0, 0, 0 },
  { SMTP_V_NOOP, F, 0, 0, 0 }, { SMTP_V_QUIT, B, 0, 0, 0 }, { SMTP_V_HELP, S, 0, 0, 0 },
  { SMTP_V_VRFY, S, 0, "501 5.5.4 VRFY needs an argument", 1 }, { SMTP_V_VRFY, M, 3, 0, 0 },
  { SMTP_V_EXPN, G, 3, "502 5.5.1 not implemented", 1 },
  { SMTP_V_STARTTLS, G, 0, "502 5.5.1 not implemented", 1 },
  { SMTP_V_AUTH, R, 5, "502 5.5.1 not implemented", 1 },
  { SMTP_V_ETRN, S, 0, "502 5.5.1 not implemented", 1 },
  { SMTP_V_TURN, S, 0, "502 5.5.1 not implemented", 1 },
  { SMTP_V_UNKNOWN, G, 0, "500 5.5.1 unrecognized command", 1 },
  { 999, G, 0, "500 5.5.1 unrecognized command", 1 },
  { SMTP_V_NOOP, PHASE_N, 0, "500 5.5.1", 1 },
};

static void test_rows(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const struct phase_refusal *no = phase_check(rows[i].verb, rows[i].phase, rows[i].arglen);
    if (!rows[i].reply) {
      if (no) fail_msg("row %zu: refused with %s", i, no->reply);
      continue;
    }
    if (!no) fail_msg("row %zu: allowed, expected %s", i, rows[i].reply);
    if (strncmp(no->reply, rows[i].reply, strlen(rows[i].reply)))
      fail_msg("row %zu: %s, expected %s", i, no->reply, rows[i].reply);
    assert_int_equal(no->bad, rows[i].bad);
  }
}

static void test_reset(void **st)
{
  (void)st;
  assert_int_equal(phase_reset(PHASE_START), PHASE_START);
  for (int p = PHASE_GREETED; p < PHASE_N; p++) assert_int_equal(phase_reset(p), PHASE_GREETED);
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_rows), cmocka_unit_test(test_reset) };
  return cmocka_run_group_tests(tests, 0, 0);
}

/* common/envelope.c: the qmail-queue envelope fed whole and byte by byte
   (truncated, missing final NUL, wrong letters, address at the limit and
   one over, too many recipients), and the queue envelope file walker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/envelope.h"
#include "common/qqcode.h"

#define L(s) s, sizeof(s) - 1
struct frow { const char *in; size_t n; int rc; size_t used; size_t nrcpt; };
static const struct frow feeds[] = {
  { L("Fa@b\0Tc@d\0\0"), ENVELOPE_DONE, 11, 1 },
  { L("F\0Tc@d\0\0"), ENVELOPE_DONE, 8, 1 },                    /* null sender */
  { L("Fa\0Tb\0Tc\0\0"), ENVELOPE_DONE, 10, 2 },
  { L("Fa\0\0"), ENVELOPE_DONE, 4, 0 },                          /* no recipient: caller decides */
  { L("Fa\0Tb\0\0trailing"), ENVELOPE_DONE, 7, 1 },              /* stops at the final NUL */
  { L("Fa@b\0Tc@d\0"), ENVELOPE_MORE, 10, 1 },                   /* missing final NUL */
  { L("Fa@b\0Tc@d"), ENVELOPE_MORE, 9, 1 },                      /* truncated */
  { L("Fa@b"), ENVELOPE_MORE, 4, 0 },
  { L("F"), ENVELOPE_MORE, 1, 0 },
  { L(""), ENVELOPE_MORE, 0, 0 },
  { L("\0"), ENVELOPE_EFORMAT, 0, 0 },
  { L("Ta@b\0\0"), ENVELOPE_EFORMAT, 0, 0 },                     /* not F first */
  { L("fa@b\0\0"), ENVELOPE_EFORMAT, 0, 0 },
  { L("Fa\0Xb\0\0"), ENVELOPE_EFORMAT, 3, 0 },                   /* other type */
  { L("Fa\0Fb\0\0"), ENVELOPE_EFORMAT, 3, 0 },
  { L("Fa\0T\0\0"), ENVELOPE_EFORMAT, 4, 1 },                    /* empty recipient */
  { L("Fa\rb\0Tc\0\0"), ENVELOPE_DONE, 9, 1 },                  /* CR: the caller's problem */
  /* a LF in an address: tern-send's reader (envelope_next) refuses it, so
     the injector must too, or an accepted message is never delivered */
  { L("Fa\r\nb\0Tc\0\0"), ENVELOPE_EFORMAT, 3, 0 },
  { L("Fmallory@demo.test\0Talice@demo.test\nX: y\0\0"), ENVELOPE_EFORMAT, 35, 1 },
};

static void run_row(const struct frow *r, int bytewise)
{
  struct envelope_reader rd = ENVELOPE_READER_ZERO;
  size_t used = 0, total = 0;
  int rc = ENVELOPE_MORE;
  if (!bytewise) {
    rc = envelope_feed(&rd, r->in, r->n, &used);
    total = used;
  } else {
    for (size_t i = 0; i < r->n && rc == ENVELOPE_MORE; i++) {
      rc = envelope_feed(&rd, r->in + i, 1, &used);
      total += used;
    }
    if (!r->n) rc = envelope_feed(&rd, r->in, 0, &used);
  }
  assert_int_equal(rc, r->rc);
  assert_int_equal(total, r->used);
  assert_int_equal(rd.nrcpt, r->nrcpt);
  /* sticky result */
  if (rc != ENVELOPE_MORE) {
    assert_int_equal(envelope_feed(&rd, "Fx\0\0", 4, &used), rc);
    assert_int_equal(used, 0);
  }
}

static void t_feed(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
    run_row(&feeds[i], 0);
    run_row(&feeds[i], 1);
  }
}

static void t_feed_limits(void **st)
{
  size_t n = 4 + ENVELOPE_ADDR_MAX + 1 + 1 + 4;
  char *b = malloc(n + 10000);
  struct envelope_reader rd = ENVELOPE_READER_ZERO;
  size_t used;
  (void)st;
  /* sender at exactly the limit, then one over */
  b[0] = 'F'; memset(b + 1, 's', ENVELOPE_ADDR_MAX); memcpy(b + 1 + ENVELOPE_ADDR_MAX, "\0Tr\0\0", 5);
  assert_int_equal(envelope_feed(&rd, b, 1 + ENVELOPE_ADDR_MAX + 5, &used), ENVELOPE_DONE);
  rd = (struct envelope_reader)ENVELOPE_READER_ZERO;
  b[0] = 'F'; memset(b + 1, 's', ENVELOPE_ADDR_MAX + 1); memcpy(b + 2 + ENVELOPE_ADDR_MAX, "\0Tr\0\0", 5);
  assert_int_equal(envelope_feed(&rd, b, 2 + ENVELOPE_ADDR_MAX + 5, &used), ENVELOPE_ETOOLONG);
  assert_int_equal(used, 1 + ENVELOPE_ADDR_MAX);
  /* recipient at the limit and one over */
  rd = (struct envelope_reader)ENVELOPE_READER_ZERO;
  memcpy(b, "F\0T", 3); memset(b + 3, 'r', ENVELOPE_ADDR_MAX); memcpy(b + 3 + ENVELOPE_ADDR_MAX, "\0\0", 2);
  assert_int_equal(envelope_feed(&rd, b, 5 + ENVELOPE_ADDR_MAX, &used), ENVELOPE_DONE);
  rd = (struct envelope_reader)ENVELOPE_READER_ZERO;
  memset(b + 3, 'r', ENVELOPE_ADDR_MAX + 1); memcpy(b + 4 + ENVELOPE_ADDR_MAX, "\0\0", 2);
  assert_int_equal(envelope_feed(&rd, b, 6 + ENVELOPE_ADDR_MAX, &used), ENVELOPE_ETOOLONG);
  /* 10 000 bytes of one address */
  rd = (struct envelope_reader)ENVELOPE_READER_ZERO;
  b[0] = 'F'; memset(b + 1, 'x', 9999);
  assert_int_equal(envelope_feed(&rd, b, 10000, &used), ENVELOPE_ETOOLONG);
  free(b);
}

static void t_feed_rcptmax(void **st)
{
  struct envelope_reader rd = ENVELOPE_READER_ZERO;
  size_t used;
  (void)st;
  assert_int_equal(envelope_feed(&rd, "Fa\0", 3, &used), ENVELOPE_MORE);
  for (size_t i = 0; i < ENVELOPE_RCPT_MAX; i++)
    assert_int_equal(envelope_feed(&rd, "Tb\0", 3, &used), ENVELOPE_MORE);
  assert_int_equal(rd.nrcpt, ENVELOPE_RCPT_MAX);
  {
    struct envelope_reader copy = rd;
    assert_int_equal(envelope_feed(&copy, "\0", 1, &used), ENVELOPE_DONE);   /* exactly the limit */
  }
  assert_int_equal(envelope_feed(&rd, "Tb\0\0", 4, &used), ENVELOPE_EFORMAT); /* one over */
  assert_int_equal(used, 0);
}

static void t_next(void **st)
{
  static const char q[] = "u1000\0p42\0F\0Ta@b\0Tc@d\0";
  const char *v;
  size_t pos = 0, vl;
  char t;
  (void)st;
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 1);
  assert_int_equal(t, 'u'); assert_string_equal(v, "1000"); assert_int_equal(vl, 4);
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 1);
  assert_int_equal(t, 'p'); assert_string_equal(v, "42");
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 1);
  assert_int_equal(t, 'F'); assert_string_equal(v, ""); assert_int_equal(vl, 0);
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 1);
  assert_int_equal(t, 'T'); assert_string_equal(v, "a@b");
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 1);
  assert_string_equal(v, "c@d");
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 0);
  assert_int_equal(envelope_next(q, sizeof q - 1, &pos, &t, &v, &vl), 0);

  {
    static const struct { const char *in; size_t n; int last; } rows[] = {
      { L("Fa\0Tb"), -1 },            /* no final NUL */
      { L("Fa\0\0Tb\0"), -1 },        /* empty record in the middle */
      { L("Fa\0Tb\0\0"), 0 },         /* one final NUL: qmail-queue wire form, clean end */
      { L("Fa\0Tb\0\0\0"), -1 },
      { L("T"), -1 },
      { L("\0"), 0 },
      { L(""), 0 },
      { L("Fa\0Tb\nX: y\0"), -1 },   /* a LF in a value: refused as envelope_feed refuses it */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
      int r, k = 0;
      pos = 0;
      while ((r = envelope_next(rows[i].in, rows[i].n, &pos, &t, &v, &vl)) == 1 && k < 10) k++;
      assert_int_equal(r, rows[i].last);
    }
  }
  {
    /* value at the limit and one over; 10 000 bytes without NUL */
    char *b = malloc(10002);
    b[0] = 'T'; memset(b + 1, 'x', ENVELOPE_ADDR_MAX); b[1 + ENVELOPE_ADDR_MAX] = 0;
    pos = 0;
    assert_int_equal(envelope_next(b, 2 + ENVELOPE_ADDR_MAX, &pos, &t, &v, &vl), 1);
    assert_int_equal(vl, ENVELOPE_ADDR_MAX);
    memset(b + 1, 'x', ENVELOPE_ADDR_MAX + 1); b[2 + ENVELOPE_ADDR_MAX] = 0;
    pos = 0;
    assert_int_equal(envelope_next(b, 3 + ENVELOPE_ADDR_MAX, &pos, &t, &v, &vl), -1);
    memset(b, 'x', 10000);
    pos = 0;
    assert_int_equal(envelope_next(b, 10000, &pos, &t, &v, &vl), -1);
    pos = 20000;
    assert_int_equal(envelope_next(b, 10000, &pos, &t, &v, &vl), -1);
    free(b);
  }
}

/* envelope_readfd on a pipe holding s[0..n) then end of file */
static int readfd(const char *s, size_t n, char **buf, size_t *len)
{
  int p[2], r;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], s, n), (ssize_t)n);
  close(p[1]);
  r = envelope_readfd(p[0], buf, len);
  close(p[0]);
  return r;
}

static void t_readfd(void **st)
{
  char *b, big[1100];
  size_t n;
  (void)st;
  assert_int_equal(readfd("Fa@b\0Tc@d\0\0extra", 16, &b, &n), 0);
  assert_int_equal(n, 11);
  assert_memory_equal(b, "Fa@b\0Tc@d\0\0", 11);
  free(b);
  assert_int_equal(readfd("Fa@b\0Tc@d\0", 10, &b, &n), QQ_ENVELOPE);
  assert_null(b);
  assert_int_equal(readfd("Xa@b\0\0", 6, &b, &n), QQ_ENVELOPE);
  assert_null(b);
  memset(big, 'a', sizeof big);
  big[0] = 'F';
  assert_int_equal(readfd(big, sizeof big, &b, &n), QQ_TOOLONG);
  assert_null(b);
  assert_int_equal(envelope_readfd(-1, &b, &n), QQ_READ);
  assert_null(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_feed),
    cmocka_unit_test(t_feed_limits),
    cmocka_unit_test(t_feed_rcptmax),
    cmocka_unit_test(t_next),
    cmocka_unit_test(t_readfd),
  };
  return cmocka_run_group_tests_name("common-envelope", tests, 0, 0);
}

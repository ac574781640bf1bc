/* common/qproto.c: the queue socket's frames as tern-queued reads them
   (good requests whole and byte by byte, every refusal), and the answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/qproto.h"
#include "common/qqcode.h"

static size_t frame(char *dst, char t, const char *s, size_t n)
{
  qproto_hdr((unsigned char *)dst, t, (uint32_t)n);
  memcpy(dst + QPROTO_HDR, s, n);
  return QPROTO_HDR + n;
}

/* feed s[0..n) in chunks of `chunk`; message and envelope collected;
   returns the last event */
static int feed(const char *s, size_t n, size_t chunk, uint64_t max, char *msg, size_t *ml, char *env, size_t *el)
{
  struct qproto_reader r = QPROTO_READER_ZERO;
  int ev = QPROTO_MORE;
  *ml = *el = 0;
  for (size_t i = 0; i < n; i += chunk) {
    size_t c = n - i < chunk ? n - i : chunk, off = 0;
    do {
      const char *o;
      size_t u, ol;
      ev = qproto_next(&r, s + i + off, c - off, &u, &o, &ol, max);
      off += u;
      if (ev < 0) return ev;
      if (ev == QPROTO_MSG) { memcpy(msg + *ml, o, ol); *ml += ol; }
      if (ev == QPROTO_ENV || ev == QPROTO_END) { memcpy(env + *el, o, ol); *el += ol; }
    } while (off < c && ev != QPROTO_MORE);
  }
  return ev;
}

static void t_good(void **st)
{
  char in[256], msg[256], env[256];
  size_t n = 0, ml, el;
  (void)st;
  n += frame(in + n, 'M', "Subject: a\n\n", 12);
  n += frame(in + n, 'M', "body\n", 5);
  n += frame(in + n, 'E', "Fa@b\0T", 6);
  n += frame(in + n, 'E', "c@d\0\0", 5);
  for (size_t chunk = 1; chunk <= n; chunk++) {
    assert_int_equal(feed(in, n, chunk, 0, msg, &ml, env, &el), QPROTO_END);
    assert_int_equal(ml, 17);
    assert_memory_equal(msg, "Subject: a\n\nbody\n", 17);
    assert_int_equal(el, 10);   /* the final NUL is not handed out */
    assert_memory_equal(env, "Fa@b\0Tc@d\0", 10);
  }
  /* no message frame at all, no recipient: allowed (qmail-queue allows it) */
  n = frame(in, 'E', "F\0\0", 3);
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_END);
  assert_int_equal(ml, 0);
  assert_int_equal(el, 2);
}

static void t_refused(void **st)
{
  char in[256], msg[256], env[256];
  size_t n, ml, el;
  (void)st;
  n = frame(in, 'X', "abc", 3);
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'M', "", 0);                       /* empty frame */
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  qproto_hdr((unsigned char *)in, 'M', QPROTO_FRAME_MAX + 1);  /* oversized frame */
  assert_int_equal(feed(in, QPROTO_HDR, QPROTO_HDR, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'E', "Fa\0", 3);                   /* M after E */
  n += frame(in + n, 'M', "x", 1);
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'E', "Fa\0Tb\0\0x", 8);            /* a byte after the final NUL, same frame */
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'E', "Fa\0Tb\0\0", 7);             /* a frame after the end */
  n += frame(in + n, 'M', "x", 1);
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'E', "Fmallory@demo.test\0Talice@demo.test\nX: y\0\0", 42);  /* a LF in a recipient */
  assert_int_equal(feed(in, n, n, 0, msg, &ml, env, &el), QPROTO_EFORMAT);
  n = frame(in, 'M', "0123456789", 10);            /* over maxbytes */
  n += frame(in + n, 'M', "0", 1);
  assert_int_equal(feed(in, n, n, 10, msg, &ml, env, &el), QPROTO_EBIG);
  assert_int_equal(feed(in, n, n, 11, msg, &ml, env, &el), QPROTO_MSG);  /* at the limit: fine */
  {
    static char big[QPROTO_HDR + 1200];
    memset(big + QPROTO_HDR, 'x', 1200);
    big[QPROTO_HDR] = 'F';
    n = frame(big, 'E', big + QPROTO_HDR, 1200);
    assert_int_equal(feed(big, n, n, 0, msg, &ml, env, &el), QPROTO_ETOOLONG);
  }
  /* errors are sticky */
  {
    struct qproto_reader r = QPROTO_READER_ZERO;
    const char *o;
    size_t u, ol;
    n = frame(in, 'X', "a", 1);
    assert_int_equal(qproto_next(&r, in, n, &u, &o, &ol, 0), QPROTO_EFORMAT);
    n = frame(in, 'M', "a", 1);
    assert_int_equal(qproto_next(&r, in, n, &u, &o, &ol, 0), QPROTO_EFORMAT);
  }
}

static void t_reply(void **st)
{
  char r[QPROTO_REPLY_MAX], id[QPROTO_ID_MAX + 1];
  int code;
  size_t n;
  (void)st;
  n = qproto_reply(r, 0, "msg 12 qp 34", 12);
  assert_int_equal(n, 14);
  assert_true(qproto_parsereply(r, n, &code, id));
  assert_int_equal(code, 0);
  assert_string_equal(id, "msg 12 qp 34");
  n = qproto_reply(r, QQ_ENVELOPE, 0, 0);
  assert_true(qproto_parsereply(r, n, &code, id));
  assert_int_equal(code, QQ_ENVELOPE);
  assert_string_equal(id, "");
  assert_false(qproto_parsereply(r, 1, &code, id));       /* short */
  r[1] = 5;
  assert_false(qproto_parsereply(r, 2, &code, id));       /* says more than it has */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_good),
    cmocka_unit_test(t_refused),
    cmocka_unit_test(t_reply),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}

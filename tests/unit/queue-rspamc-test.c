/* queue/rspamc.c: rspamd's /checkv2 answer: the HTTP head, each action,
   the messages, symbols and milter add_headers members, JSON strictness
   (escapes, surrogates, nesting, trailing bytes), the limits, and the
   header field writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "queue/rspamc.h"

static struct rspamc_verdict v;
static char big[RSPAMC_REPLY_MAX + 64];

static int parse(const char *json)
{
  int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(json), json);
  return rspamc_reply(big, (size_t)n, &v);
}

static void t_actions(void **st)
{
  static const char *const names[] = { "no action", "add header", "rewrite subject", "greylist", "soft reject", "reject" };
  char j[128];
  (void)st;
  for (int i = 0; i < 6; i++) {
    snprintf(j, sizeof j, "{\"action\":\"%s\",\"score\":1.5}", names[i]);
    assert_int_equal(parse(j), 0);
    assert_int_equal(v.action, i);
    assert_string_equal(rspamc_action_name(i), names[i]);
  }
  assert_int_equal(parse("{\"action\":\"discard\"}"), 0);
  assert_int_equal(v.action, RSPAMC_UNKNOWN);
  assert_int_equal(parse("{}"), 0);
  assert_int_equal(v.action, RSPAMC_UNKNOWN);
  assert_string_equal(rspamc_action_name(RSPAMC_UNKNOWN), "?");
}

/* an answer as rspamd 3.4 gives it */
static void t_real(void **st)
{
  (void)st;
  assert_int_equal(parse("{\"is_skipped\":false,\"score\":-0.100000,\"required_score\":15.0,\"action\":\"no action\","
    "\"symbols\":{\"ARC_NA\":{\"name\":\"ARC_NA\",\"score\":0.0,\"metric_score\":0.0,\"description\":\"ARC signature absent\"},"
    "\"MIME_GOOD\":{\"name\":\"MIME_GOOD\",\"score\":-0.100000,\"options\":[\"text/plain\"]}},"
    "\"messages\":{},\"message-id\":\"1@good.test\",\"time_real\":0.216447,"
    "\"milter\":{\"add_headers\":{\"Authentication-Results\":{\"value\":\"mx; spf=pass smtp.mailfrom=a@b.test\",\"order\":0},"
    "\"X-Spam-Status\":\"No, score=-0.10\"},\"remove_headers\":{\"X-Spam\":0}}}"), 0);
  assert_int_equal(v.action, RSPAMC_NOACTION);
  assert_string_equal(v.score, "-0.100000");
  assert_string_equal(v.required, "15.0");
  assert_string_equal(v.symbols, "ARC_NA,MIME_GOOD");
  assert_string_equal(v.message, "");
  assert_int_equal(v.nhdrs, 2);
  assert_int_equal(v.xspam, 0);
  assert_int_equal(v.hdrslen, strlen("Authentication-Results: mx; spf=pass smtp.mailfrom=a@b.test\nX-Spam-Status: No, score=-0.10\n"));
  assert_memory_equal(v.hdrs, "Authentication-Results: mx; spf=pass smtp.mailfrom=a@b.test\nX-Spam-Status: No, score=-0.10\n", v.hdrslen);
}

static void t_members(void **st)
{
  (void)st;
  assert_int_equal(parse("{\"action\":\"reject\",\"messages\":{\"smtp_message\":\"Rejected: \\u00e9 \\t policy\"}}"), 0);
  assert_int_equal(v.action, RSPAMC_REJECT);
  assert_string_equal(v.message, "Rejected: ?? ? policy");  /* printable ASCII only */
  /* an array of values: one field each; an X-Spam field noticed */
  assert_int_equal(parse("{\"milter\":{\"add_headers\":{\"X-Spam\":[\"Yes\",{\"value\":\"again\"}],\"Bad Name\":\"x\",\"\":\"y\"}}}"), 0);
  assert_int_equal(v.nhdrs, 2);
  assert_int_equal(v.xspam, 1);
  assert_memory_equal(v.hdrs, "X-Spam: Yes\nX-Spam: again\n", v.hdrslen);
  /* a folded value stays one field; a bare line end gets a TAB */
  assert_int_equal(parse("{\"milter\":{\"add_headers\":{\"A\":\"one\\r\\n\\ttwo\\nX-Injected: no\\r\\n\"}}}"), 0);
  assert_int_equal(v.nhdrs, 1);
  assert_memory_equal(v.hdrs, "A: one\n\ttwo\n\tX-Injected: no\n", v.hdrslen);
  /* members of the wrong type are read and ignored */
  assert_int_equal(parse("{\"score\":\"high\",\"messages\":[1,2],\"milter\":{\"add_headers\":[\"x\"]},\"symbols\":null}"), 0);
  assert_string_equal(v.score, "");
  assert_int_equal(v.nhdrs, 0);
  /* surrogate pair: UTF-8 kept in a header value */
  assert_int_equal(parse("{\"milter\":{\"add_headers\":{\"B\":\"\\ud83d\\ude00\"}}}"), 0);
  assert_memory_equal(v.hdrs, "B: \xf0\x9f\x98\x80\n", v.hdrslen);
}

static void t_strict(void **st)
{
  static const char *const bad[] = {
    "", "{", "{}x", "[]", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":tru}", "{\"a\":01}", "{\"a\":1.}",
    "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\ud800x\"}", "{\"a\":\"tab\there\"}", "{\"a\":[1,]}", "{\"a\":\"open}", "{'a':1}",
  };
  (void)st;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(parse(bad[i]), -1);
    assert_int_equal(v.action, RSPAMC_UNKNOWN);
    assert_int_equal(v.nhdrs, 0);
  }
  assert_int_equal(parse(" {\"a\":[1,-2.5e+3,true,false,null,{\"b\":[]}]} \r\n"), 0);
  /* nesting: RSPAMC_DEPTH levels accepted, one more refused */
  {
    char d[400];
    size_t n = 0;
    int levels = 0;
    d[n++] = '{'; levels++;
    while (levels < RSPAMC_DEPTH) { memcpy(d + n, "\"a\":{", 5); n += 5; levels++; }
    for (int i = 0; i < levels; i++) d[n++] = '}';
    d[n] = 0;
    assert_int_equal(parse(d), 0);
    n = 0; levels = 0;
    d[n++] = '{'; levels++;
    while (levels < RSPAMC_DEPTH + 1) { memcpy(d + n, "\"a\":{", 5); n += 5; levels++; }
    for (int i = 0; i < levels; i++) d[n++] = '}';
    d[n] = 0;
    assert_int_equal(parse(d), -1);
  }
}

static void t_http(void **st)
{
  (void)st;
  assert_int_equal(rspamc_reply("HTTP/1.0 200 OK\n\n{}", 19, &v), 0);
  assert_int_equal(rspamc_reply("HTTP/1.1 500 Internal\r\n\r\n{}", 27, &v), -1);
  assert_int_equal(rspamc_reply("HTTP/1.1 200 OK\r\n", 17, &v), -1);
  assert_int_equal(rspamc_reply("HTTP/2 200 OK\r\n\r\n{}", 19, &v), -1);
  assert_int_equal(rspamc_reply("", 0, &v), -1);
  /* over the limit: refused unread */
  memset(big, ' ', sizeof big);
  memcpy(big, "HTTP/1.1 200 OK\r\n\r\n{}", 21);
  assert_int_equal(rspamc_reply(big, RSPAMC_REPLY_MAX, &v), 0);
  assert_int_equal(rspamc_reply(big, RSPAMC_REPLY_MAX + 1, &v), -1);
}

static void t_field(void **st)
{
  char out[64];
  (void)st;
  assert_int_equal(rspamc_field(out, sizeof out, "X-A", 3, "v", 1), 7);
  assert_memory_equal(out, "X-A: v\n", 7);
  assert_int_equal(rspamc_field(out, sizeof out, "X:A", 3, "v", 1), 0);
  assert_int_equal(rspamc_field(out, sizeof out, "", 0, "v", 1), 0);
  assert_int_equal(rspamc_field(out, sizeof out, "A", 1, "a\0b", 3), 0);
  assert_int_equal(rspamc_field(out, sizeof out, "A", 1, "a\001\177b", 4), 8);
  assert_memory_equal(out, "A: a  b\n", 8);
  assert_int_equal(rspamc_field(out, sizeof out, "A", 1, "a\r\n b\r", 6), 8);
  assert_memory_equal(out, "A: a\n b\n", 8);
  assert_int_equal(rspamc_field(out, 7, "A", 1, "abcd", 4), 0);   /* needs 8 */
  assert_int_equal(rspamc_field(out, 8, "A", 1, "abcd", 4), 8);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_actions),
    cmocka_unit_test(t_real),
    cmocka_unit_test(t_members),
    cmocka_unit_test(t_strict),
    cmocka_unit_test(t_http),
    cmocka_unit_test(t_field),
  };
  return cmocka_run_group_tests_name("queue-rspamc", tests, 0, 0);
}

/* trace: tern-smtpd's Received line and log lines. See trace.h. */
#include <string.h>
#include <unistd.h>
#include "smtpd/trace.h"
#include "common/date822.h"
#include "common/safe.h"

void lg_cat(struct lg *l, const char *s, size_t n)
{
  if (n > LOG_MAX - l->n) n = LOG_MAX - l->n;
  memcpy(l->s + l->n, s, n);
  l->n += n;
}

void lg_cats(struct lg *l, const char *s) { lg_cat(l, s, strlen(s)); }

void lg_safe(struct lg *l, const char *s, size_t n)
{
  if (n > LOG_MAX - l->n) n = LOG_MAX - l->n;
  safe_copy(l->s + l->n, s, n, '?', 0);
  l->n += n;
}

void lg_ulong(struct lg *l, unsigned long long u)
{
  char t[24];
  size_t n = 0;
  do t[sizeof t - 1 - n++] = (char)('0' + u % 10); while (u /= 10);
  lg_cat(l, t + sizeof t - n, n);
}

void lg_log(const struct lg *l)
{
  char buf[LOG_MAX + 1];
  memcpy(buf, l->s, l->n);
  buf[l->n] = '\n';
  (void)!write(2, buf, l->n + 1);
}

void trace_transid(char *dst, time_t now, pid_t pid, unsigned long n)
{
  struct lg l;
  l.n = 0;
  lg_ulong(&l, (unsigned long long)now);
  lg_cats(&l, ".");
  lg_ulong(&l, (unsigned long long)pid);
  lg_cats(&l, ".");
  lg_ulong(&l, n);
  if (l.n >= TRANSID_MAX) l.n = TRANSID_MAX - 1;
  memcpy(dst, l.s, l.n);
  dst[l.n] = 0;
}

static void safe_capped(struct lg *l, const char *s, size_t max)
{
  size_t n = strlen(s);
  lg_safe(l, s, n > max ? max : n);
}

void trace_received(struct lg *l, const struct session *s, const struct client *c,
                    const char *me, time_t now)
{
  char date[DATE822_MAX];
  const struct tx *t = &s->tx;
  l->n = 0;
  lg_cats(l, "Received: from ");
  lg_safe(l, s->helo, s->helolen);
  lg_cats(l, c->unverified ? " (unverified: " : " (");
  if (c->remotehost) { safe_capped(l, c->remotehost, 255); lg_cats(l, " "); }
  lg_cats(l, "[");
  if (strchr(c->remoteip, ':')) lg_cats(l, "IPv6:");
  safe_capped(l, c->remoteip, 64);
  lg_cats(l, "])\n\tby ");
  lg_safe(l, me, strlen(me));
  lg_cats(l, " (tern-smtpd) with ");
  lg_cats(l, t->mailp.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP");
  lg_cats(l, " id ");
  lg_cats(l, t->id);
  if (t->nrcpt == 1) {
    lg_cats(l, "\n\tfor <");
    lg_safe(l, t->firstrcpt, strlen(t->firstrcpt));
    lg_cats(l, ">");
  }
  lg_cats(l, "; ");
  date822_fmt(date, now);
  lg_cats(l, date);
  lg_cats(l, "\n");
}

static void head(struct lg *l, const char *level, const struct client *c)
{
  l->n = 0;
  lg_cats(l, "tern-smtpd: ");
  lg_cats(l, level);
  lg_cats(l, c->remoteip);
  lg_cats(l, " ");
}

void trace_transaction(const struct session *s, const struct client *c,
                       const char *result, uint64_t size, pid_t qp)
{
  const struct tx *t = &s->tx;
  struct lg l;
  size_t pos;
  head(&l, "info: ", c);
  lg_cats(&l, "helo ");
  lg_safe(&l, s->helo, s->helolen);
  lg_cats(&l, " from <");
  lg_safe(&l, t->from.s, t->from.len);
  lg_cats(&l, "> to");
  pos = t->rcptoff;
  while (pos < t->envlen) {
    size_t k = strlen(t->env + pos + 1);
    lg_cats(&l, " <");
    lg_safe(&l, t->env + pos + 1, k);
    lg_cats(&l, ">");
    pos += k + 2;
  }
  lg_cats(&l, " size ");
  lg_ulong(&l, size);
  lg_cats(&l, " id ");
  lg_cats(&l, t->id);
  if (t->q.id[0]) { lg_cats(&l, " "); lg_cats(&l, t->q.id); }
  else if (qp > 0) { lg_cats(&l, " qp "); lg_ulong(&l, (unsigned long long)qp); }
  lg_cats(&l, " result ");
  lg_cat(&l, result, strlen(result) > 200 ? 200 : strlen(result));
  lg_log(&l);
}

void trace_refusal(const struct session *s, const struct client *c,
                   const char *what, const struct addr *a)
{
  struct lg l;
  head(&l, "info: ", c);
  lg_cats(&l, what);
  lg_cats(&l, " from <");
  lg_safe(&l, s->tx.from.s, s->tx.from.len);
  lg_cats(&l, "> to <");
  lg_safe(&l, a->s, a->len);
  lg_cats(&l, ">");
  lg_log(&l);
}

void trace_warn(const struct client *c, const char *what)
{
  struct lg l;
  head(&l, "warning: ", c);
  lg_cats(&l, what);
  lg_log(&l);
}

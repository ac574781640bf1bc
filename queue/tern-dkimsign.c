/* tern-dkimsign: a qmail-queue(8) filter that adds DKIM signatures (RFC
   6376, relaxed/relaxed; rsa-sha256 and ed25519-sha256, RFC 8463) for the
   From: domain when HOME/dkim/DOMAIN/selector exists, then hands the
   message and the unchanged envelope to $QMAILQUEUE_NEXT, or to the queue
   socket when that is not set. It never reads a key: the signatures come
   from tern-dkimkeyd on HOME/sock/dkim, which gets only the digest. See
   queue/tern-dkimsign.8. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "common/base64.h"
#include "common/ctl.h"
#include "common/dkimcanon.h"
#include "common/envelope.h"
#include "common/home.h"
#include "common/qclient.h"
#include "common/qqcode.h"

#define DEATH 86400               /* seconds for the whole injection, as tern-queue */
#define BYTES_DEFAULT 67108864UL  /* control/dkimbytes when absent: 64 MiB */
#define SERVICE_TIMEOUT 10        /* seconds for one answer of tern-dkimkeyd */
#define REPLYMAX 2048             /* bytes of one answer */
#define HDRMAX 4096               /* the DKIM-Signature field without b= */
#define PERNAME 8                 /* instances of one field name signed, at most (bottom up) */
#define SIGNED "from", "to", "subject", "date", "message-id", "mime-version", \
  "content-type", "content-transfer-encoding", "cc", "reply-to"

static struct qclient q;
static const char *home;

static void say(const char *a, const char *b)
{
  char m[512];
  int n = snprintf(m, sizeof m, "tern-dkimsign: %s%s\n", a, b ? b : "");
  if (n > 0 && write(2, m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1) < 0) { /* nothing more to say */ }
}

static void die(int code, const char *a, const char *b)
{
  say(a, b);
  qclient_abort(&q);
  _exit(code);
}

struct buf { char *s; size_t n, cap; };

static void cat(struct buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    size_t c = b->cap ? b->cap : 65536;
    while (c < b->n + n + 1) c *= 2;
    if (!(b->s = realloc(b->s, c))) die(QQ_NOMEM, "out of memory", 0);
    b->cap = c;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = 0;
}

/* fd 0, whole, at most max bytes */
static void read_message(struct buf *m, unsigned long max)
{
  char tmp[65536];
  for (;;) {
    ssize_t r = read(0, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die(QQ_READ, "cannot read the message", 0);
    if (!r) return;
    if ((unsigned long)r > max - m->n) die(QQ_PERM_REFUSED, "message larger than control/dkimbytes", 0);
    cat(m, tmp, (size_t)r);
  }
}

/* SHA-256 through a buffer, so that the canonicaliser's small writes do
   not each cost a digest call */
struct hash { EVP_MD_CTX *c; size_t n; char b[8192]; };

static void hash_init(struct hash *h)
{
  h->n = 0;
  if (!(h->c = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->c, EVP_sha256(), 0) != 1) die(QQ_NOMEM, "cannot start SHA-256", 0);
}

static void hash_put(void *ctx, const char *s, size_t n)
{
  struct hash *h = ctx;
  if (n > sizeof h->b - h->n) {
    EVP_DigestUpdate(h->c, h->b, h->n);
    h->n = 0;
    if (n > sizeof h->b) { EVP_DigestUpdate(h->c, s, n); return; }
  }
  memcpy(h->b + h->n, s, n);
  h->n += n;
}

static void hash_end(struct hash *h, unsigned char d[32])
{
  unsigned int l = 32;
  EVP_DigestUpdate(h->c, h->b, h->n);
  if (EVP_DigestFinal_ex(h->c, d, &l) != 1 || l != 32) die(QQ_BUG, "SHA-256 failed", 0);
  EVP_MD_CTX_free(h->c);
}

/* The header fields of a message: where each starts, and its length */
struct field { size_t off, len; };
#define FIELDS_MAX 1000

struct message {
  const char *s;
  size_t n, body;             /* body: offset of the body (after the empty line) */
  size_t nf;
  int toomany;                /* more than FIELDS_MAX fields: not signed */
  struct field f[FIELDS_MAX];
  const char *eol;            /* the message's own line end, for the fields we add */
};

static void cut(struct message *m)
{
  size_t i = 0, l;
  m->nf = 0;
  m->toomany = 0;
  while ((l = dkim_field_len(m->s + i, m->n - i)) > 0) {
    if (m->nf < FIELDS_MAX) { m->f[m->nf].off = i; m->f[m->nf].len = l; m->nf++; }
    else m->toomany = 1;
    i += l;
  }
  m->body = i + dkim_blank_len(m->s + i, m->n - i);
  {
    const char *lf = memchr(m->s, '\n', m->n);
    m->eol = lf && lf > m->s && lf[-1] == '\r' ? "\r\n" : "\n";
  }
}

/* The signing domain: the From: domain, only with exactly one From field */
static size_t from_domain(const struct message *m, char *dom, size_t cap)
{
  size_t k = 0, l = 0;
  if (m->toomany) return 0;
  for (size_t i = 0; i < m->nf; i++)
    if (dkim_field_is(m->s + m->f[i].off, m->f[i].len, "from")) {
      k++;
      l = dkim_from_domain(dom, cap, m->s + m->f[i].off, m->f[i].len);
    }
  return k == 1 ? l : 0;
}

/* name onto the h= list, folded (after a colon) before the line passes
   70 bytes: SMTP lines stay short however many fields are signed */
static void add_name(struct buf *h, const char *eol, const char *name)
{
  const char *last = h->n ? strrchr(h->s, '\n') : 0;
  size_t col = last ? h->n - (size_t)(last - h->s) : h->n + 10;
  if (h->n) cat(h, ":", 1);
  if (h->n && col + strlen(name) > 70) { cat(h, eol, strlen(eol)); cat(h, "\t", 1); }
  cat(h, name, strlen(name));
}

/* The relaxed form of the fields to sign into hin, bottom-up per name
   (RFC 6376 5.4.2), and their names into h (From once more than it
   occurs: no From can be added after signing) */
static void signed_fields(const struct message *m, struct buf *hin, struct buf *h)
{
  static const char *const names[] = { SIGNED };
  char *tmp = 0;
  size_t tcap = 0;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    int seen = 0;
    for (size_t i = m->nf; i-- > 0;) {
      const char *f = m->s + m->f[i].off;
      size_t len = m->f[i].len, rl;
      if (!dkim_field_is(f, len, names[k])) continue;
      if (++seen > PERNAME) break;  /* the last PERNAME instances are signed */
      if (len + 2 > tcap) { tcap = len + 2; if (!(tmp = realloc(tmp, tcap))) die(QQ_NOMEM, "out of memory", 0); }
      rl = dkim_relax_header(tmp, f, len, 1);
      cat(hin, tmp, rl);
      add_name(h, m->eol, names[k]);
    }
    if (!k) add_name(h, m->eol, "from");
  }
  free(tmp);
}

/* One signature to make: its field without the b= value, the digest
   tern-dkimkeyd signs, and the answer */
struct sig {
  const char *alg;           /* rsa-sha256, ed25519-sha256 */
  char sel[96];              /* the DNS selector: SELECTOR-rsa, SELECTOR-ed25519 */
  char f[HDRMAX + 64];       /* "DKIM-Signature: ... b=" */
  size_t fl;
  unsigned char dig[32];     /* SHA-256 of the header hash input */
  char b[REPLYMAX];          /* the b= value, or "" */
};

/* the field for s (all but b=) and the digest of the header hash input:
   the signed fields (hin) and the field itself, relaxed, without its CRLF
   (RFC 6376 section 3.7). 0 if the field would be too long. */
static int prepare(struct sig *s, const struct message *m, const char *dom, const char *bh, const struct buf *hin, const struct buf *h)
{
  char rel[HDRMAX + 64], f[HDRMAX + 64];
  struct hash hh;
  int l = snprintf(f, sizeof f, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;%s\td=%s; s=%s; t=%lld;%s\th=%s;%s\tbh=%s;%s\tb=",
                   s->alg, m->eol, dom, s->sel, (long long)time(0), m->eol, h->s, m->eol, bh, m->eol);
  if (l < 0 || (size_t)l >= HDRMAX) return 0;
  s->fl = (size_t)l;
  memcpy(s->f, f, s->fl);
  hash_init(&hh);
  hash_put(&hh, hin->s, hin->n);
  hash_put(&hh, rel, dkim_relax_header(rel, s->f, s->fl, 0));
  hash_end(&hh, s->dig);
  return 1;
}

/* Ask tern-dkimkeyd, on one connection, to sign the n digests: each
   s[i].b gets its signature, or stays "" (why says why) */
static void keyd(struct sig *s, int n, const char *dom, char *why, size_t whymax)
{
  struct sockaddr_un a;
  struct timeval tv = { SERVICE_TIMEOUT, 0 };
  char req[4 * 600], ans[4 * REPLYMAX], *p;
  size_t got = 0;
  int fd, l = 0;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/sock/dkim", home) >= sizeof a.sun_path) { snprintf(why, whymax, "socket path too long"); return; }
  for (int i = 0; i < n; i++) {
    l += snprintf(req + l, sizeof req - (size_t)l, "%s %s %s ", s[i].alg, dom, s[i].sel);
    for (int j = 0; j < 32; j++) l += snprintf(req + l, sizeof req - (size_t)l, "%02x", s[i].dig[j]);
    req[l++] = '\n';
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0
      || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 || write(fd, req, (size_t)l) != l) {
    snprintf(why, whymax, "cannot reach %s: %s", a.sun_path, strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  shutdown(fd, SHUT_WR);  /* no more requests: the service ends after the answers */
  for (;;) {
    ssize_t r = read(fd, ans + got, sizeof ans - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof ans - 1) break;
  }
  close(fd);
  ans[got] = 0;
  snprintf(why, whymax, "no answer");
  p = ans;
  for (int i = 0; i < n; i++) {
    char *lf = strchr(p, '\n');
    if (!lf) break;
    *lf = 0;
    if (p[0] == '+' && p[1] && (size_t)(lf - p) < REPLYMAX) memcpy(s[i].b, p + 1, (size_t)(lf - p));
    else snprintf(why, whymax, "%s %s: %.200s", s[i].alg, s[i].sel, p + (p[0] == '-'));
    p = lf + 1;
  }
}

/* s as a whole field onto out, b= folded every 64 characters */
static void put_sig(struct buf *out, const struct message *m, const struct sig *s)
{
  size_t sl = strlen(s->b), el = strlen(m->eol);
  cat(out, s->f, s->fl);
  for (size_t i = 0; i < sl; i += 64) {
    if (i) { cat(out, m->eol, el); cat(out, "\t", 1); }
    cat(out, s->b + i, sl - i < 64 ? sl - i : 64);
  }
  cat(out, m->eol, el);
}

/* Is there a key file HOME/dkim/DOMAIN/SEL-ALG.key (the name only: the
   file itself is ternk's)? */
static int have_key(const char *dom, const char *sel, const char *alg)
{
  char p[1024];
  struct stat st;
  return (size_t)snprintf(p, sizeof p, "%s/dkim/%s/%s-%s.key", home, dom, sel, alg) < sizeof p && stat(p, &st) == 0;
}

/* The signatures for message m into out; nothing when From's domain has
   no HOME/dkim/DOMAIN/selector. A domain with keys that gets no signature
   at all is a temporary failure. */
static void sign(struct buf *out, struct message *m)
{
  static struct sig sg[2];
  static const char *const alg[2] = { "rsa-sha256", "ed25519-sha256" }, *const file[2] = { "rsa", "ed25519" };
  char dom[256], sel[64], path[1024], bh[BASE64_ENCODED_LEN(32) + 1], why[400];
  struct buf hin = { 0, 0, 0 }, h = { 0, 0, 0 };
  struct dkim_body b = DKIM_BODY_ZERO;
  struct hash bhash;
  unsigned char d[32];
  size_t sl;
  int r, n = 0, done = 0;
  cut(m);
  if (!from_domain(m, dom, sizeof dom)) return;
  snprintf(path, sizeof path, "%s/dkim/%s/selector", home, dom);
  r = ctl_readline(path, sel, sizeof sel, &sl);
  if (r == 0) return;  /* not a signing domain */
  if (r < 0 || !dkim_name_ok(sel)) die(QQ_CONFIG, "cannot read a selector from ", path);
  hash_init(&bhash);
  dkim_body_feed(&b, m->s + m->body, m->n - m->body, hash_put, &bhash);
  dkim_body_end(&b, hash_put, &bhash);
  hash_end(&bhash, d);
  base64_encode((const char *)d, 32, bh);
  signed_fields(m, &hin, &h);
  snprintf(why, sizeof why, "too many fields to sign");
  for (int i = 0; i < 2; i++) {
    if (!have_key(dom, sel, file[i])) continue;
    sg[n].alg = alg[i];
    sg[n].b[0] = 0;
    snprintf(sg[n].sel, sizeof sg[n].sel, "%s-%s", sel, file[i]);
    if (prepare(&sg[n], m, dom, bh, &hin, &h)) n++;
  }
  if (n) keyd(sg, n, dom, why, sizeof why);
  for (int i = 0; i < n; i++)
    if (sg[i].b[0]) { put_sig(out, m, &sg[i]); done++; }
  if ((n || have_key(dom, sel, "rsa") || have_key(dom, sel, "ed25519")) && !done)
    die(QQ_NETWORK, "no signature from the signing service: ", why);
  free(hin.s);
  free(h.s);
}

int main(void)
{
  struct buf msg = { 0, 0, 0 }, sigs = { 0, 0, 0 };
  char *env;
  size_t envlen;
  static struct message m;
  const char *next = getenv("QMAILQUEUE_NEXT");
  unsigned long max;
  char path[1024];
  int code;
  signal(SIGPIPE, SIG_IGN);
  home = home_get();
  snprintf(path, sizeof path, "%s/control/dkimbytes", home);
  if (ctl_readulong(path, &max, BYTES_DEFAULT) < 0) die(QQ_CONFIG, "cannot read ", path);
  if (!max) max = BYTES_DEFAULT;
  read_message(&msg, max);
  if ((code = envelope_readfd(1, &env, &envlen)))
    die(code, code == QQ_TOOLONG ? "address too long" : code == QQ_ENVELOPE ? "envelope format error" : code == QQ_NOMEM ? "out of memory" : "cannot read the envelope", 0);
  m.s = msg.s ? msg.s : "";
  m.n = msg.n;
  sign(&sigs, &m);
  if (qclient_open(&q, next && *next ? next : 0, QCLIENT_WANTID, DEATH) < 0) die(QQ_NOMEM, "cannot start the next stage", 0);
  if (sigs.n) qclient_write(&q, sigs.s, sigs.n);
  qclient_write(&q, m.s, m.n);
  code = qclient_close(&q, env, envlen);
  qclient_relay(&q, code);
  _exit(code);
}

/* tern-qread: list every message in the queue (qmail-qread(8)'s format):
     DATE GMT  #ID  SIZE  <sender> [ bouncing]
   then one line per recipient: "\tlocal\taddr" or "\tremote\taddr" (as
   control/locals, virtualdomains, percenthack and envnoathost classify it
   now), with "  done" in front when delivered. "Mail queue is empty" when
   empty. Read-only and safe while the system runs: messages that vanish
   are skipped. Runs as root (everything) or a member of group tern (done
   marks are in tern-send's journal queue/state/journal, root's and
   tern-send's: without it no recipient shows as done). See tern-qread.8. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/ctl.h"
#include "common/envelope.h"
#include "common/home.h"
#include "common/qfn.h"
#include "common/qmsg.h"
#include "send/sched.h"

struct msg { uint64_t id; time_t t; };
static struct msg *msgs;
static size_t nmsgs;
static int nostate;   /* state/ unreadable (not root) */
static struct ctl_list locals = CTL_LIST_ZERO, vdoms = CTL_LIST_ZERO, phack = CTL_LIST_ZERO;
static char envnoathost[CTL_LINE_MAX + 1] = "envnoathost";
static struct sched_ctl sctl = { &locals, &vdoms, &phack, envnoathost };

static void nomem(void) { fputs("tern-qread: fatal: out of memory\n", stderr); exit(111); }

static void warnid(uint64_t id, const char *what)
{
  fprintf(stderr, "tern-qread: warning: trouble with #%llu: %s: %s\n", (unsigned long long)id, what, strerror(errno));
}

/* bytes outside 32..126 become '_' (qmail-qread) */
static void outs(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) putchar((s[i] >= 32 && s[i] <= 126) ? s[i] : '_');
}

static int bymsg(const void *a, const void *b)
{
  const struct msg *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* control/locals (else me), virtualdomains, percenthack, envnoathost (else
   me): what tern-send classifies with */
static void controls(void)
{
  char me[CTL_LINE_MAX + 1];
  size_t len;
  int r = ctl_readline("../control/me", me, sizeof me, &len);
  if (r <= 0 || !len) me[0] = 0;
  r = ctl_readline("../control/envnoathost", envnoathost, sizeof envnoathost, &len);
  if (r <= 0 || !len) strcpy(envnoathost, me[0] ? me : "envnoathost");
  if (ctl_readlist("../control/locals", &locals) <= 0 || !locals.n) {
    ctl_listfree(&locals);
    locals.len = strlen(me) + 1;
    locals.s = malloc(locals.len);
    if (!locals.s) nomem();
    memcpy(locals.s, me, locals.len);
    locals.n = me[0] ? 1 : 0;
  }
  if (ctl_readlist("../control/virtualdomains", &vdoms) < 0) ctl_listfree(&vdoms);
  if (ctl_readlist("../control/percenthack", &phack) < 0) ctl_listfree(&phack);
}

/* tern-send's journal, state/journal (send/journal.h): records
   type qid ' ' decimal ';' NUL, read once */
static char *journal;
static size_t jlen;

static void read_journal(void)
{
  struct stat st;
  int fd = open("state/journal", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) { if (errno != ENOENT) nostate = 1; return; }
  if (fstat(fd, &st) == 0 && st.st_size <= (256 << 20) && (journal = malloc((size_t)st.st_size + 1)))
    while (jlen < (size_t)st.st_size) {
      ssize_t r = read(fd, journal + jlen, (size_t)st.st_size - jlen);
      if (r <= 0) break;
      jlen += (size_t)r;
    }
  close(fd);
}

/* the D records of message qid into done[0..n) */
static void read_done(const char *qid, size_t ql, unsigned char *done, size_t n)
{
  size_t pos = 0, vlen;
  const char *v;
  char type;
  while (journal && envelope_next(journal, jlen, &pos, &type, &v, &vlen) == 1) {
    const char *q;
    size_t l;
    uint64_t k;
    if (type == 'D' && sched_jrec_parse(type, v, vlen, &q, &l, &k) && l == ql && !memcmp(q, qid, ql) && k < n) done[k] = 1;
  }
}

static size_t nshown;  /* messages listed: all may vanish while we look */

static void header(time_t t, uint64_t id, uint64_t size, const char *sender, size_t slen, int bouncing)
{
  static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  struct tm tm;
  nshown++;
  if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
  printf("%d %s %d %02d:%02d:%02d GMT  #%llu  %llu  <", tm.tm_mday, mon[tm.tm_mon % 12], tm.tm_year + 1900,
         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long long)id, (unsigned long long)size);
  outs(sender, slen);
  fputs("> ", stdout);
  if (bouncing) fputs(" bouncing", stdout);
  putchar('\n');
}

/* the recipients of env[0..elen) (after the F record at *pos), message
   qid[0..ql) */
static void recipients(const char *qid, size_t ql, const char *env, size_t elen, size_t pos)
{
  size_t n = 0, p = pos, vlen, k = 0;
  const char *v;
  char type, out[SCHED_REWRITE_MAX];
  unsigned char *done;
  while (envelope_next(env, elen, &p, &type, &v, &vlen) == 1) n++;
  done = calloc(n + 1, 1);
  if (!done) nomem();
  read_done(qid, ql, done, n);
  while (envelope_next(env, elen, &pos, &type, &v, &vlen) == 1 && type == 'T') {
    size_t ol;
    int c = sched_classify(v, vlen, &sctl, out, &ol, 0);
    fputs(done[k++] ? "  done\t" : "\t", stdout);
    fputs(c == SCHED_REMOTE ? "remote\t" : "local\t", stdout);
    outs(v, vlen);
    putchar('\n');
  }
  free(done);
}

static void show(uint64_t id)
{
  char fn[QFN_MAX], type, *env;
  const char *v, *qid = "";
  size_t elen, pos = 0, vlen, ql = 0;
  uint64_t moff, size;
  struct stat st;
  int fd, r;

  qmsg_fn(fn, "", id);
  fd = open(fn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) { if (errno != ENOENT) warnid(id, fn); return; }   /* gone: delivered meanwhile */
  r = fstat(fd, &st) < 0 ? -1 : qmsg_readenv(fd, &env, &elen, &moff, &size);
  close(fd);
  if (r <= 0) { warnid(id, fn); return; }
  while ((r = envelope_next(env, elen, &pos, &type, &v, &vlen)) == 1 && type != 'F')
    if (type == 'i') { qid = v; ql = vlen; }
  if (r == 1) {
    qfn_flat(fn, "bounce", id);
    header(st.st_mtime, id, size - moff, v, vlen, !nostate && access(fn, F_OK) == 0);
    recipients(qid, ql, env, elen, pos);
  } else { errno = EINVAL; warnid(id, "malformed envelope"); }
  free(env);
}

int main(int argc, char **argv)
{
  const char *home = home_get();
  DIR *d;
  (void)argv;
  if (argc > 1) { fprintf(stderr, "usage: tern-qread\n"); return 100; }
  if (chdir(home) < 0 || chdir("queue") < 0) {
    fprintf(stderr, "tern-qread: fatal: unable to chdir to %s/queue: %s%s\n", home, strerror(errno),
            errno == EACCES ? " (run as root or as a member of group tern)" : "");
    return 111;
  }
  controls();
  if (access("state", R_OK | X_OK) < 0 || (read_journal(), nostate)) {
    nostate = 1;
    fprintf(stderr, "tern-qread: warning: %s/queue/state is readable only by root: no recipient is shown as done\n", home);
  }
  d = opendir(QMSG_DIR);
  if (!d) {
    fprintf(stderr, "tern-qread: fatal: unable to read %s/queue/" QMSG_DIR ": %s%s\n", home, strerror(errno),
            errno == EACCES ? " (run as root or as a member of group tern)" : "");
    return 111;
  }
  for (;;) {
    struct dirent *de;
    uint64_t id;
    struct stat st;
    char fn[QFN_MAX];
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
    qmsg_fn(fn, "", id);
    if (stat(fn, &st) < 0) continue;   /* vanished */
    if (!(nmsgs & 1023)) { msgs = realloc(msgs, (nmsgs + 1024) * sizeof *msgs); if (!msgs) nomem(); }
    msgs[nmsgs].id = id;
    msgs[nmsgs].t = st.st_mtime;
    nmsgs++;
  }
  if (errno) { fprintf(stderr, "tern-qread: fatal: unable to read %s/queue/" QMSG_DIR ": %s\n", home, strerror(errno)); return 111; }
  closedir(d);
  qsort(msgs, nmsgs, sizeof *msgs, bymsg);
  for (size_t i = 0; i < nmsgs; i++) show(msgs[i].id);
  if (!nshown) fputs("Mail queue is empty\n", stdout);
  if (fflush(stdout) || ferror(stdout)) return 111;
  return 0;
}

/* tern-qread: list every message in the queue (qmail-qread(8)'s format):
     DATE GMT  #ID  SIZE  <sender> [ bouncing][ not yet preprocessed]
   then one line per recipient: "\tlocal\taddr" or "\tremote\taddr", with
   "  done" in front when delivered ("\tunsorted\taddr" for a message that
   tern-send has not preprocessed yet). "Mail queue is empty" when empty.
   Read-only and safe while the system runs: files that vanish are skipped.
   Runs as root (everything) or a member of group tern (without sender and
   recipients of preprocessed messages). See tern-qread.8. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/envelope.h"
#include "common/home.h"
#include "common/qfn.h"

struct msg { uint64_t id; time_t t; };
static struct msg *msgs;
static size_t nmsgs;
static int noinfo;   /* info/ unreadable (not root) */

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

/* the next record (letter + value + NUL) of f: 1 ok, 0 end, -1 malformed */
static int record(FILE *f, char *type, char *v, size_t *vlen)
{
  int c = getc(f);
  size_t n = 0;
  if (c == EOF) return 0;
  if (!c) return 0;   /* the wire form's final NUL */
  *type = (char)c;
  for (;;) {
    c = getc(f);
    if (c == EOF) return -1;
    if (!c) break;
    if (n == ENVELOPE_ADDR_MAX) return -1;
    v[n++] = (char)c;
  }
  v[n] = 0;
  *vlen = n;
  return 1;
}

static size_t nshown;  /* messages listed: all may vanish while we look */
static void stats(time_t t, uint64_t id, unsigned long long size, const char *sender, size_t slen, int known,
                  int bouncing, int todo)
{
  nshown++;
  static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  struct tm tm;
  if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
  printf("%d %s %d %02d:%02d:%02d GMT  #%llu  %llu  ", tm.tm_mday, mon[tm.tm_mon % 12], tm.tm_year + 1900,
         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long long)id, size);
  if (known) { putchar('<'); outs(sender, slen); fputs("> ", stdout); }
  else fputs("<?> ", stdout);
  if (bouncing) fputs(" bouncing", stdout);
  if (todo) fputs(noinfo ? " (preprocessing state unknown: info/ is root's)" : " not yet preprocessed", stdout);
  putchar('\n');
}

/* a message tern-send has not preprocessed: todo/N (u, p, F, T...) */
static int show_todo(FILE *f, uint64_t id, unsigned long long size)
{
  static char v[ENVELOPE_ADDR_MAX + 1], sender[ENVELOPE_ADDR_MAX + 1];
  struct stat st;
  char type;
  size_t vlen, slen = 0;
  int r, known = 0;
  if (fstat(fileno(f), &st) < 0) return 0;
  /* the header line needs the sender, which precedes every recipient */
  while ((r = record(f, &type, v, &vlen)) == 1) {
    if (type == 'F') { memcpy(sender, v, vlen + 1); slen = vlen; known = 1; break; }
  }
  stats(st.st_mtime, id, size, sender, slen, known, 0, 1);
  if (!known) return 1;
  while ((r = record(f, &type, v, &vlen)) == 1)
    if (type == 'T') { fputs("\tunsorted\t", stdout); outs(v, vlen); putchar('\n'); }
  if (r < 0) { errno = EINVAL; warnid(id, "malformed todo file"); }
  return 1;
}

static void show_channel(uint64_t id, const char *dir, const char *label)
{
  static char v[ENVELOPE_ADDR_MAX + 1];
  char fn[QFN_MAX], type;
  size_t vlen;
  int r;
  FILE *f;
  qfn_split(fn, dir, id);
  f = fopen(fn, "re");
  if (!f) { if (errno != ENOENT) warnid(id, fn); return; }
  /* T to do, D done, O the address before virtualdomains, E the trailer */
  while ((r = record(f, &type, v, &vlen)) == 1) {
    if (type == 'E') break;
    if (type == 'D') fputs("  done", stdout);
    else if (type != 'T') continue;
    putchar('\t'); fputs(label, stdout); putchar('\t');
    outs(v, vlen);
    putchar('\n');
  }
  if (r < 0) { errno = EINVAL; warnid(id, fn); }
  fclose(f);
}

/* info/S/N: 'F' sender, 'L' n, 'R' n, then the trailer 'E' count (tern-send
   writes it last). 1 complete (sender in v), 0 missing or incomplete (being
   written, or tern-send rebuilds it), -1 unreadable */
static int read_info(uint64_t id, char *v, size_t *vlen, time_t *t)
{
  static char x[ENVELOPE_ADDR_MAX + 1];
  char fn[QFN_MAX], type;
  size_t xl;
  int known = 0;
  struct stat st;
  FILE *f;
  qfn_split(fn, "info", id);
  f = fopen(fn, "re");
  if (!f) return errno == ENOENT ? 0 : -1;
  if (fstat(fileno(f), &st) < 0) { fclose(f); return -1; }
  *t = st.st_mtime;   /* the birth time */
  if (record(f, &type, v, vlen) == 1 && type == 'F') known = 1;
  while (known && record(f, &type, x, &xl) == 1)
    if (type == 'E') { fclose(f); return 1; }
  fclose(f);
  return 0;
}

static void show(uint64_t id)
{
  static char v[ENVELOPE_ADDR_MAX + 1];
  char fn[QFN_MAX];
  struct stat st;
  unsigned long long size;
  size_t vlen = 0;
  time_t t;
  int r;
  FILE *f;

  qfn_split(fn, "mess", id);
  if (stat(fn, &st) < 0) { if (errno != ENOENT) warnid(id, fn); return; }   /* gone: delivered meanwhile */
  size = (unsigned long long)st.st_size;
  t = st.st_mtime;
  r = noinfo ? -1 : read_info(id, v, &vlen, &t);
  if (r == 1) {
    qfn_flat(fn, "bounce", id);
    stats(t, id, size, v, vlen, 1, access(fn, F_OK) == 0, 0);
    show_channel(id, "local", "local");
    show_channel(id, "remote", "remote");
    return;
  }
  if (r < 0 && !noinfo) warnid(id, "info");
  /* not preprocessed (or, without access to info/, unknown): todo/N holds
     the envelope until the message is done */
  qfn_flat(fn, "todo", id);
  f = fopen(fn, "re");
  if (f) { show_todo(f, id, size); fclose(f); return; }
  if (errno != ENOENT) { warnid(id, fn); stats(t, id, size, "", 0, 0, 0, 0); }
  /* else: being injected, or finished meanwhile */
}

int main(int argc, char **argv)
{
  const char *home = home_get();
  char dir[QFN_MAX];
  (void)argv;
  if (argc > 1) { fprintf(stderr, "usage: tern-qread\n"); return 100; }
  if (chdir(home) < 0 || chdir("queue") < 0) {
    fprintf(stderr, "tern-qread: fatal: unable to chdir to %s/queue: %s%s\n", home, strerror(errno),
            errno == EACCES ? " (run as root or as a member of group tern)" : "");
    return 111;
  }
  if (access("info/0", R_OK | X_OK) < 0) {
    noinfo = 1;
    fprintf(stderr, "tern-qread: warning: %s/queue/info is readable only by root: senders and recipients of preprocessed messages are not shown\n", home);
  }
  for (unsigned s = 0; s < QUEUE_SPLIT; s++) {
    DIR *d;
    struct dirent *de;
    snprintf(dir, sizeof dir, "mess/%u", s);
    d = opendir(dir);
    if (!d) {
      fprintf(stderr, "tern-qread: fatal: unable to read %s/queue/%s: %s%s\n", home, dir, strerror(errno),
              errno == EACCES ? " (run as root or as a member of group tern)" : "");
      return 111;
    }
    for (;;) {
      uint64_t id;
      struct stat st;
      char fn[QFN_MAX];
      errno = 0;
      de = readdir(d);
      if (!de) break;
      if (!qfn_scanu64(de->d_name, strlen(de->d_name), &id)) continue;
      qfn_split(fn, "mess", id);
      if (stat(fn, &st) < 0) continue;   /* vanished */
      if (!(nmsgs & 1023)) { msgs = realloc(msgs, (nmsgs + 1024) * sizeof *msgs); if (!msgs) nomem(); }
      msgs[nmsgs].id = id;
      msgs[nmsgs].t = st.st_mtime;
      nmsgs++;
    }
    if (errno) { fprintf(stderr, "tern-qread: fatal: unable to read %s/queue/%s: %s\n", home, dir, strerror(errno)); return 111; }
    closedir(d);
  }
  if (!nmsgs) fputs("Mail queue is empty\n", stdout);
  else {
    qsort(msgs, nmsgs, sizeof *msgs, bymsg);
    for (size_t i = 0; i < nmsgs; i++) show(msgs[i].id);
    if (!nshown) fputs("Mail queue is empty\n", stdout);
  }
  if (fflush(stdout) || ferror(stdout)) return 111;
  return 0;
}

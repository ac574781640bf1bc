/* qwrite: the queue writer (queue/qwrite.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include "common/date822.h"
#include "common/qqcode.h"
#include "queue/qwrite.h"

/* all of s[0..len) into b (buffer_putall resumes at *w: start it at 0) */
static int put(buffer *b, const char *s, size_t len)
{
  size_t w = 0;
  return buffer_putall(b, s, len, &w);
}

/* fsync a directory: its entries are as durable as the files they name */
static int syncdir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e;
  if (fd < 0) return 0;
  if (fsync(fd) < 0 && errno != EINVAL) { e = errno; close(fd); errno = e; return 0; }
  close(fd);
  return 1;
}

static size_t fmt_received(char *dst, uint64_t pid, uint64_t uid, time_t now)
{
  size_t n = 0;
  memcpy(dst + n, "Received: (tern ", 16); n += 16;
  n += qfn_fmtu64(dst + n, pid);
  memcpy(dst + n, " invoked by uid ", 16); n += 16;
  n += qfn_fmtu64(dst + n, uid);
  memcpy(dst + n, "); ", 3); n += 3;
  n += date822_fmt(dst + n, now);
  dst[n++] = '\n';
  return n;
}

void qwrite_undo(struct qwrite *w)
{
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  if (w->madetodo) unlink(w->fntodo);
  if (w->madeintd) unlink(w->fnintd);
  if (w->mademess) unlink(w->fnmess);
  if (w->madepid) unlink(w->fnpid);
  w->madetodo = w->madeintd = w->mademess = w->madepid = 0;
}

/* pid/PID.TIME.SEQ, O_EXCL; its inode number names the message: the file
   becomes mess/S/N (linked, the pid name removed) */
int qwrite_open(struct qwrite *w, uint64_t pid, uint64_t uid, time_t now)
{
  char received[128];
  struct timespec ts;
  struct stat st;
  int seq;
  w->fd = -1;
  w->madepid = w->mademess = w->madeintd = w->madetodo = 0;
  w->pid = pid;
  w->uid = uid;
  for (seq = 1; seq <= 9; seq++) {
    size_t l = 0;
    memcpy(w->fnpid, "pid/", 4); l = 4;
    l += qfn_fmtu64(w->fnpid + l, pid); w->fnpid[l++] = '.';
    l += qfn_fmtu64(w->fnpid + l, (uint64_t)now); w->fnpid[l++] = '.';
    w->fnpid[l++] = (char)('0' + seq); w->fnpid[l] = 0;
    w->fd = open(w->fnpid, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd >= 0) break;
    if (errno != EEXIST) return QQ_PID;
  }
  if (w->fd < 0) return QQ_PID;
  w->madepid = 1;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (fstat(w->fd, &st) < 0) return QQ_PID;
  w->n = (uint64_t)st.st_ino;
  qid_fmt(w->qid, (uint64_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), w->n);
  qfn_split(w->fnmess, "mess", w->n);
  qfn_flat(w->fnintd, "intd", w->n);
  qfn_flat(w->fntodo, "todo", w->n);
  if (link(w->fnpid, w->fnmess) < 0) return QQ_MESS;
  w->mademess = 1;
  if (unlink(w->fnpid) < 0) return QQ_PID;
  w->madepid = 0;
  buffer_init(&w->out, &buffer_write, w->fd, w->outbuf, sizeof w->outbuf);
  if (!put(&w->out, received, fmt_received(received, pid, uid, now))) return QQ_WRITE;
  return 0;
}

int qwrite_mess(struct qwrite *w, const char *s, size_t len)
{
  return put(&w->out, s, len) ? 0 : QQ_WRITE;
}

/* the message durable with its directory entry; intd/N begun: u uid, p pid */
int qwrite_endmess(struct qwrite *w)
{
  char dir[QFN_MAX], head[2 * (2 + 20 + 1) + 2 + QID_MAX];
  size_t l;
  int fd = w->fd;
  w->fd = -1;
  if (!buffer_flush(&w->out) || fsync(fd) < 0) { close(fd); return QQ_WRITE; }
  if (close(fd) < 0) return QQ_WRITE;
  l = qfn_split(dir, "mess", w->n);
  while (l && dir[l - 1] != '/') l--;
  dir[l ? l - 1 : 0] = 0;
  if (!syncdir(dir)) return QQ_WRITE;

  w->fd = open(w->fnintd, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w->fd < 0) return QQ_INTD;
  w->madeintd = 1;
  buffer_init(&w->out, &buffer_write, w->fd, w->outbuf, sizeof w->outbuf);
  l = 0;
  head[l++] = 'u'; l += qfn_fmtu64(head + l, w->uid); head[l++] = 0;
  head[l++] = 'p'; l += qfn_fmtu64(head + l, w->pid); head[l++] = 0;
  head[l++] = 'i'; memcpy(head + l, w->qid, strlen(w->qid) + 1); l += strlen(w->qid) + 1;
  return put(&w->out, head, l) ? 0 : QQ_WRITE;
}

int qwrite_env(struct qwrite *w, const char *s, size_t len)
{
  return put(&w->out, s, len) ? 0 : QQ_WRITE;
}

int qwrite_commit(struct qwrite *w)
{
  int fd = w->fd;
  w->fd = -1;
  if (!buffer_flush(&w->out) || fsync(fd) < 0) { close(fd); return QQ_WRITE; }
  if (close(fd) < 0) return QQ_WRITE;
  if (link(w->fnintd, w->fntodo) < 0) return QQ_TODO;
  w->madetodo = 1;
  if (!syncdir("todo")) return QQ_TODO;
  w->madetodo = w->madeintd = w->mademess = 0;  /* safely queued: nothing to undo */
  /* wake tern-send; failure does not matter, its scan finds todo/N anyway */
  fd = open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) { if (write(fd, "", 1) < 0) { /* ignored */ } close(fd); }
  return 0;
}

size_t qwrite_id(const struct qwrite *w, char *id)
{
  size_t l = 0;
  memcpy(id, "msg ", 4); l = 4;
  memcpy(id + l, w->qid, strlen(w->qid)); l += strlen(w->qid);
  memcpy(id + l, " qp ", 4); l += 4;
  l += qfn_fmtu64(id + l, w->pid);
  id[l] = 0;
  return l;
}

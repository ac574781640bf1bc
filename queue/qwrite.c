/* qwrite: the queue writer (queue/qwrite.h). */
#define _GNU_SOURCE 1   /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include "common/date822.h"
#include "common/qfn.h"
#include "common/qqcode.h"
#include "queue/qwrite.h"

/* the most bytes the u, p and i records take */
#define UPI_MAX (2 * (2 + 20) + 2 + QID_MAX)

/* all of s[0..len) into b (buffer_putall resumes at *w: start it at 0) */
static int put(buffer *b, const char *s, size_t len)
{
  size_t w = 0;
  return buffer_putall(b, s, len, &w);
}

int qwrite_syncdir(void)
{
  int fd = open(QMSG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e;
  if (fd < 0) return QQ_TODO;
  if (fsync(fd) < 0 && errno != EINVAL) { e = errno; close(fd); errno = e; return QQ_TODO; }
  close(fd);
  return 0;
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
  if (w->linked) unlink(w->fn);
  w->linked = 0;
  stralloc_free(&w->env);
}

/* a new unnamed file in msg/: w->fd, w->n; 0 or QQ_MESS */
static int newfile(struct qwrite *w)
{
  struct stat st;
  w->fd = open(QMSG_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
  if (w->fd < 0) return QQ_MESS;
  if (fstat(w->fd, &st) < 0) return QQ_MESS;
  w->n = (uint64_t)st.st_ino;
  qid_fmt(w->qid, w->sec, w->usec, w->n);
  qmsg_fn(w->fn, "", w->n);
  return 0;
}

int qwrite_open(struct qwrite *w, uint64_t pid, uint64_t uid, time_t now)
{
  char received[128];
  struct timespec ts;
  int e;
  w->fd = -1;
  w->linked = 0;
  w->env = (stralloc)STRALLOC_ZERO;
  w->pid = pid;
  w->uid = uid;
  clock_gettime(CLOCK_REALTIME, &ts);
  w->sec = (uint64_t)ts.tv_sec;
  w->usec = (uint32_t)(ts.tv_nsec / 1000);
  if ((e = newfile(w))) return e;
  if (lseek(w->fd, QMSG_RESERVE, SEEK_SET) < 0) return QQ_WRITE;
  buffer_init(&w->out, &buffer_write, w->fd, w->outbuf, sizeof w->outbuf);
  if (!put(&w->out, received, fmt_received(received, pid, uid, now))) return QQ_WRITE;
  return 0;
}

int qwrite_mess(struct qwrite *w, const char *s, size_t len)
{
  return put(&w->out, s, len) ? 0 : QQ_WRITE;
}

int qwrite_endmess(struct qwrite *w)
{
  return buffer_flush(&w->out) ? 0 : QQ_WRITE;
}

int qwrite_env(struct qwrite *w, const char *s, size_t len)
{
  return stralloc_catb(&w->env, s, len) ? 0 : QQ_NOMEM;
}

/* the message moves to offset moff of a new unnamed file (an envelope too
   long for QMSG_RESERVE): 0 or a qmail-queue code */
static int relocate(struct qwrite *w, uint64_t moff)
{
  int old = w->fd, e;
  off_t in = QMSG_RESERVE, out = (off_t)moff;
  if ((e = newfile(w))) { close(old); return e; }
  for (;;) {
    ssize_t r = pread(old, w->outbuf, sizeof w->outbuf, in);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { close(old); return QQ_WRITE; }
    if (!r) break;
    for (ssize_t k = 0; k < r; ) {
      ssize_t x = pwrite(w->fd, w->outbuf + k, (size_t)(r - k), out);
      if (x < 0 && errno == EINTR) continue;
      if (x <= 0) { close(old); return QQ_WRITE; }
      k += x; out += x;
    }
    in += r;
  }
  close(old);
  return 0;
}

int qwrite_link(struct qwrite *w)
{
  char head[QMSG_HEAD + UPI_MAX], proc[64];
  size_t l = QMSG_HEAD, ql;
  uint64_t moff = qmsg_offset(UPI_MAX + w->env.len);
  int e;
  if (moff != QMSG_RESERVE && (e = relocate(w, moff))) return e;
  ql = strlen(w->qid);
  head[l++] = 'u'; l += qfn_fmtu64(head + l, w->uid); head[l++] = 0;
  head[l++] = 'p'; l += qfn_fmtu64(head + l, w->pid); head[l++] = 0;
  head[l++] = 'i'; memcpy(head + l, w->qid, ql + 1); l += ql + 1;
  qmsg_head(head, moff, l - QMSG_HEAD + w->env.len);
  if (pwrite(w->fd, head, l, 0) != (ssize_t)l) return QQ_WRITE;
  if (w->env.len && pwrite(w->fd, w->env.s, w->env.len, (off_t)l) != (ssize_t)w->env.len) return QQ_WRITE;
  /* the one flush of the file: data, size and inode */
  if (fsync(w->fd) < 0) return QQ_WRITE;
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, w->fn, AT_SYMLINK_FOLLOW) < 0) return QQ_TODO;
  w->linked = 1;
  close(w->fd);
  w->fd = -1;
  return 0;
}

int qwrite_commit(struct qwrite *w)
{
  int fd;
  w->linked = 0;   /* safely queued: nothing to undo */
  stralloc_free(&w->env);
  /* wake tern-send; failure does not matter, its scan finds msg/N anyway */
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

/* tern-qstat: how many messages are in the queue, and how many of them are
   not yet preprocessed (qmail-qstat(8)'s two lines). Read-only: counts the
   entries of HOME/queue/mess/0..22, and those of HOME/queue/todo that have
   no info/S/N yet; safe while the system runs. Root or a member of group
   tern. See tern-qstat.8. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/home.h"
#include "common/qfn.h"

static const char *home;

static void fatal(const char *dir)
{
  int e = errno;
  fprintf(stderr, "tern-qstat: fatal: unable to read %s/queue/%s: %s%s\n", home, dir, strerror(e),
          e == EACCES ? " (run as root or as a member of group tern)" : "");
  _exit(111);
}

static int noinfo;

/* tern-send keeps todo/N until the message is done: a todo entry is
   preprocessed once info/S/N exists */
static int preprocessed(uint64_t id)
{
  char fn[QFN_MAX];
  struct stat st;
  if (noinfo) return 0;
  qfn_split(fn, "info", id);
  if (stat(fn, &st) == 0) return 1;
  if (errno == EACCES) {
    noinfo = 1;
    fprintf(stderr, "tern-qstat: warning: %s/queue/info is readable only by root: every todo entry counted as not preprocessed\n", home);
  }
  return 0;
}

/* numeric entries of dir (relative to HOME/queue); todo: only those not
   preprocessed */
static unsigned long count(const char *dir, int todo)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  unsigned long n = 0;
  if (!d) fatal(dir);
  for (;;) {
    uint64_t id;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (qfn_scanu64(de->d_name, strlen(de->d_name), &id) && !(todo && preprocessed(id))) n++;
  }
  if (errno) fatal(dir);
  closedir(d);
  return n;
}

int main(int argc, char **argv)
{
  char dir[QFN_MAX];
  unsigned long mess = 0, todo;
  (void)argv;
  if (argc > 1) { fprintf(stderr, "usage: tern-qstat\n"); return 100; }
  home = home_get();
  if (chdir(home) < 0 || chdir("queue") < 0) {
    int e = errno;
    fprintf(stderr, "tern-qstat: fatal: unable to chdir to %s/queue: %s%s\n", home, strerror(e),
            e == EACCES ? " (run as root or as a member of group tern)" : "");
    return 111;
  }
  for (unsigned s = 0; s < QUEUE_SPLIT; s++) {
    snprintf(dir, sizeof dir, "mess/%u", s);
    mess += count(dir, 0);
  }
  todo = count("todo", 1);
  printf("messages in queue: %lu\nmessages in queue but not yet preprocessed: %lu\n", mess, todo);
  if (fflush(stdout) || ferror(stdout)) return 111;
  return 0;
}

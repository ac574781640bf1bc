/* tern-qstat: how many messages are in the queue (qmail-qstat(8)'s two
   lines; the second is always 0: nothing waits for preprocessing).
   Read-only: counts the entries of HOME/queue/msg; safe while the system
   runs. Root or a member of group
   tern. See tern-qstat.8. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/home.h"
#include "common/qfn.h"
#include "common/qmsg.h"

static const char *home;

static void fatal(const char *dir)
{
  int e = errno;
  fprintf(stderr, "tern-qstat: fatal: unable to read %s/queue/%s: %s%s\n", home, dir, strerror(e),
          e == EACCES ? " (run as root or as a member of group tern)" : "");
  _exit(111);
}

/* numeric entries of dir (relative to HOME/queue) */
static unsigned long count(const char *dir)
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
    if (qfn_scanu64(de->d_name, strlen(de->d_name), &id)) n++;
  }
  if (errno) fatal(dir);
  closedir(d);
  return n;
}

int main(int argc, char **argv)
{
  unsigned long mess;
  (void)argv;
  if (argc > 1) { fprintf(stderr, "usage: tern-qstat\n"); return 100; }
  home = home_get();
  if (chdir(home) < 0 || chdir("queue") < 0) {
    int e = errno;
    fprintf(stderr, "tern-qstat: fatal: unable to chdir to %s/queue: %s%s\n", home, strerror(e),
            e == EACCES ? " (run as root or as a member of group tern)" : "");
    return 111;
  }
  mess = count(QMSG_DIR);
  /* the second line of qmail-qstat: tern-send reads each message into
     memory as it arrives, nothing waits for preprocessing */
  printf("messages in queue: %lu\nmessages in queue but not yet preprocessed: 0\n", mess);
  if (fflush(stdout) || ferror(stdout)) return 111;
  return 0;
}

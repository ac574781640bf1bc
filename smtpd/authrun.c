/* authrun: run a checkpassword program. See authrun.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/checkpw.h"
#include "smtpd/authrun.h"

int authrun_split(char *s, char **argv)
{
  int n = 0;
  while (*s) {
    while (*s == ' ' || *s == '\t') *s++ = 0;
    if (!*s) break;
    if (n == AUTHRUN_ARGS) return 0;
    argv[n++] = s;
    while (*s && *s != ' ' && *s != '\t') s++;
  }
  argv[n] = 0;
  return n > 0 && (argv[0][0] == '/' || !strchr(argv[0], '/'));
}

static void child(char *const *argv, int rfd)
{
  int nul;
  if (rfd != 3 && dup2(rfd, 3) < 0) _exit(111);
  nul = open("/dev/null", O_WRONLY);   /* not 3: that is taken now */
  if (dup2(3, 0) < 0 || nul < 0 || dup2(nul, 1) < 0) _exit(111);
  for (int fd = 4; fd < 1024; fd++) close(fd);
  execvp(argv[0], argv);   /* a name without '/' is looked up in PATH */
  _exit(111);
}

int authrun(char *const *argv, const char *req, size_t n, unsigned timeout)
{
  int p[2], st;
  pid_t pid, r;
  struct timespec tick = { 0, 20 * 1000 * 1000 };
  unsigned long ticks = (unsigned long)timeout * 50;
  if (n > CHECKPW_REQ_MAX || pipe(p) < 0) return CHECKPW_TEMP;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return CHECKPW_TEMP; }
  if (!pid) { close(p[1]); child(argv, p[0]); }
  close(p[0]);
  /* the request fits a pipe's buffer (CHECKPW_REQ_MAX < PIPE_BUF); a
     checker that exits before reading it must not kill us with SIGPIPE */
  {
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    if (write(p[1], req, n) != (ssize_t)n) { close(p[1]); kill(pid, SIGKILL); }
    else close(p[1]);
    signal(SIGPIPE, old);
  }
  for (;;) {
    r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return CHECKPW_TEMP;
    if (!ticks--) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) ;
      return CHECKPW_TEMP;
    }
    nanosleep(&tick, 0);
  }
  if (!WIFEXITED(st)) return CHECKPW_TEMP;
  if (WEXITSTATUS(st) == 0) return CHECKPW_OK;
  if (WEXITSTATUS(st) == 1) return CHECKPW_BAD;
  return CHECKPW_TEMP;
}

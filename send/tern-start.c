/* tern-start: runs as root from the send service. Creates the pipes between
   tern-send and its helpers (a socket pair to tern-rspawn, which gets each
   message as a descriptor), starts tern-lspawn (root), tern-rspawn (ternr,
   its own group only, if installed) and tern-clean (ternq), then becomes
   terns and execs tern-send. Reads nothing, writes only error lines on
   fd 2. See tern-start.8. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>

#include "common/home.h"
#include "common/priv.h"

struct id {
  const char *name;
  uid_t uid;
  gid_t gid;   /* the user's own group */
};

static gid_t tern_gid;
static char prog[4][4200];

static void getid(struct id *u)
{
  struct passwd *pw = getpwnam(u->name);
  if (!pw) strerr_dief2x(111, "unknown user ", u->name);
  if (!pw->pw_uid) strerr_dief3x(111, "user ", u->name, " has uid 0");
  u->uid = pw->pw_uid;
  u->gid = pw->pw_gid;
}

/* gid tern, groups tern plus the user's own; returns only as u. ternr
   (tern-rspawn, tern-remote: they talk to remote servers) gets its own
   group only, so that nothing in the queue opens for it. */
static void become(const struct id *u)
{
  gid_t g[2];
  if (!strcmp(u->name, "ternr")) {
    if (u->gid == tern_gid) strerr_dief1x(111, "user ternr has group tern: rerun install.sh, which gives it its own group");
    priv_drop(PROG, u->uid, u->gid, 1, &u->gid);
    return;
  }
  g[0] = tern_gid;
  g[1] = u->gid;
  priv_drop(PROG, u->uid, tern_gid, u->gid == tern_gid ? 1 : 2, g);
}

/* in a child: fd 0 = in, fd 1 = out, fd 2 stays the log; close the rest */
static void wire(int in, int out)
{
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0) strerr_diefu1sys(111, "dup2");
  for (int fd = 3; fd < 9; fd++) close(fd);
}

/* fork a child that runs program path (argv[0] name) with cmd on its fd 0
   and res on its fd 1, as user u (0: stays root) */
static void child(const char *name, const char *prog_, const char *path, int cmd, int res, const struct id *u)
{
  pid_t pid = fork();
  if (pid < 0) strerr_diefu1sys(111, "fork");
  if (!pid) {
    char const *argv[2] = { name, 0 };
    PROG = prog_;
    wire(cmd, res);
    if (u) become(u);
    execv(path, (char *const *)argv);
    strerr_dieexec(111, path);
  }
}

/* the command socket HOME/sock/send (tern-queuectl(8)), listening, close
   on exec; anyone may connect (mode 0777): tern-send decides from the
   client's uid. -1 when it cannot be made (logged; tern-send then runs
   without commands) */
static int ctl_socket(void)
{
  struct sockaddr_un sa;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, "sock/send");
  if (fd < 0) { strerr_warnwu1sys("create the command socket"); return -1; }
  if ((unlink(sa.sun_path) < 0 && errno != ENOENT) || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0
      || chmod(sa.sun_path, 0777) < 0 || listen(fd, 16) < 0) {
    strerr_warnwu2sys("bind and listen on ", "sock/send");
    close(fd);
    return -1;
  }
  return fd;
}

int main(void)
{
  struct id q = { "ternq", 0, 0 }, s = { "terns", 0, 0 }, r = { "ternr", 0, 0 };
  struct group *gr;
  int lcmd[2], lres[2], rcmd[2], rres[2], ccmd[2], cres[2];
  int remote;
  struct stat st;
  const char *home = home_get();
  PROG = "tern-start";

  if (geteuid()) strerr_dief1x(100, "must be started as root");
  if (strlen(home) > 4096) strerr_dief1x(111, "home directory name too long");
  if (chdir(home) < 0) strerr_diefu2sys(111, "chdir to ", home);
  getid(&q);
  getid(&s);
  getid(&r);
  gr = getgrnam("tern");
  if (!gr) strerr_dief1x(111, "unknown group tern");
  tern_gid = gr->gr_gid;
  umask(077);

  strcpy(prog[0], home); strcat(prog[0], "/bin/tern-lspawn");
  strcpy(prog[1], home); strcat(prog[1], "/bin/tern-rspawn");
  strcpy(prog[2], home); strcat(prog[2], "/bin/tern-clean");
  strcpy(prog[3], home); strcat(prog[3], "/bin/tern-send");
  remote = !stat(prog[1], &st) && S_ISREG(st.st_mode);

  /* fill 0..8 so that the pipes land on 9 and up: every dup2 below then
     really copies (dup2(x, x) would keep O_CLOEXEC) */
  for (;;) {
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) strerr_diefu1sys(111, "open /dev/null");
    if (fd >= 9) { close(fd); break; }
  }
  if (pipecoe(lcmd) < 0 || pipecoe(lres) < 0 || pipecoe(ccmd) < 0
      || pipecoe(cres) < 0 || pipecoe(rres) < 0)
    strerr_diefu1sys(111, "create pipes");
  /* tern-send -> tern-rspawn: a Unix socket, one way, so that each request
     can carry its message as a descriptor (SCM_RIGHTS) */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rcmd) < 0
      || shutdown(rcmd[0], SHUT_WR) < 0 || shutdown(rcmd[1], SHUT_RD) < 0)
    strerr_diefu1sys(111, "create the socket pair to tern-rspawn");

  child("tern-lspawn", "tern-start (lspawn)", prog[0], lcmd[0], lres[1], 0);
  if (remote) child("tern-rspawn", "tern-start (rspawn)", prog[1], rcmd[0], rres[1], &r);
  child("tern-clean", "tern-start (clean)", prog[2], ccmd[0], cres[1], &q);

  /* tern-send: 0 = /dev/null, 1 and 2 = log, 3 -> lspawn, 4 <- lspawn,
     5 -> rspawn, 6 <- rspawn (both closed when there is no tern-rspawn),
     7 -> clean, 8 <- clean, 9 the command socket (closed when there is
     none) */
  {
    char const *argv[2] = { "tern-send", 0 };
    int ctl = ctl_socket();
    int nul = open("/dev/null", O_RDONLY);
    if (nul < 0 || dup2(nul, 0) < 0 || dup2(1, 2) < 0 || dup2(lcmd[1], 3) < 0 || dup2(lres[0], 4) < 0
        || dup2(ccmd[1], 7) < 0 || dup2(cres[0], 8) < 0)
      strerr_diefu1sys(111, "dup2");
    if (remote) {
      if (dup2(rcmd[1], 5) < 0 || dup2(rres[0], 6) < 0) strerr_diefu1sys(111, "dup2");
    } else {
      close(5);
      close(6);
    }
    close(nul);
    if (ctl >= 0 && dup2(ctl, 9) < 0) strerr_diefu1sys(111, "dup2");
    become(&s);
    execv(prog[3], (char *const *)argv);
    strerr_dieexec(111, prog[3]);
  }
}

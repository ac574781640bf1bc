/* tern-authfile: a checkpassword program over a file of hashed passwords.
     tern-authfile [-0] [-f file] [prog...]     check (request on fd 3, or fd 0 with -0)
     tern-authfile -m                           print a yescrypt hash of the password on stdin
   See tern-authfile.8. libc and libcrypt only. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/checkpw.h"
#include "common/home.h"
#include "common/say.h"

#define FILE_MAX (4u << 20)    /* largest password file, bytes */
#define LINE_MAX_ 1024         /* longest line */

static void die(int code, const char *a, const char *b) { say3("tern-authfile", a, b, 0); _exit(code); }

/* read all of fd into buf (max bytes); the length, or -1 (error or too long) */
static long readall(int fd, char *buf, size_t max)
{
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, max + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (!r) return (long)n;
    n += (size_t)r;
    if (n > max) return -1;
  }
}

/* constant-time comparison of two NUL-terminated strings */
static int same(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = la != lb;
  for (size_t i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return !d;
}

/* the hash for user in the file text f[0..n); 0 if the user is not there */
static const char *lookup(char *f, size_t n, const char *user)
{
  size_t ul = strlen(user), pos = 0;
  while (pos < n) {
    char *line = f + pos, *nl = memchr(line, '\n', n - pos);
    size_t ll = nl ? (size_t)(nl - line) : n - pos;
    pos += ll + 1;
    if (ll && line[ll - 1] == '\r') ll--;
    line[ll] = 0;
    if (!ll || line[0] == '#' || ll > LINE_MAX_) continue;
    if (ll > ul && line[ul] == ':' && !memcmp(line, user, ul)) return line + ul + 1;
  }
  return 0;
}

static void make_hash(void)
{
  char pw[CHECKPW_PASS_MAX + 2], salt[CRYPT_GENSALT_OUTPUT_SIZE];
  struct crypt_data cd;
  long n = readall(0, pw, CHECKPW_PASS_MAX + 1);
  const char *h;
  if (n < 0) die(100, "password too long or unreadable (at most 200 bytes)", 0);
  while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) n--;
  if (!n || memchr(pw, 0, (size_t)n)) die(100, "empty password or a NUL byte in it", 0);
  pw[n] = 0;
  if (!crypt_gensalt_rn("$y$", 0, 0, 0, salt, sizeof salt)) die(111, "unable to make a salt", 0);
  memset(&cd, 0, sizeof cd);
  h = crypt_r(pw, salt, &cd);
  if (!h || h[0] == '*') die(111, "unable to hash", 0);
  (void)!write(1, h, strlen(h));
  (void)!write(1, "\n", 1);
  _exit(0);
}

int main(int argc, char **argv)
{
  static char req[CHECKPW_REQ_MAX + 1], file[FILE_MAX + 1], path[4200];
  /* a valid yescrypt hash of a random string: unknown users cost the same time */
  static const char dummy[] = "$y$j9T$6VytJZM1kLWz9SZ13FKWa1$JveBYrvzC7h3SMXNQcvn64R601aq10kC8m6M.rdmtY.";
  const char *fn = 0, *user, *pass, *hash, *got;
  struct crypt_data cd;
  int opt, infd = 3, fd, good;
  long n, fl;
  while ((opt = getopt(argc, argv, "+0f:m")) != -1) {
    switch (opt) {
      case '0': infd = 0; break;
      case 'f': fn = optarg; break;
      case 'm': make_hash(); break;
      default: die(2, "usage: tern-authfile [-0] [-f file] [prog...] | tern-authfile -m", 0);
    }
  }
  n = readall(infd, req, CHECKPW_REQ_MAX);
  close(infd);
  if (n < 0 || checkpw_parse(req, (size_t)n, &user, &pass) < 0) die(2, "malformed checkpassword request", 0);
  if (!fn) {
    const char *h = home_get();
    if (strlen(h) + 20 > sizeof path) die(111, "home too long", 0);
    strcpy(path, h);
    strcat(path, "/auth/passwd");
    fn = path;
  }
  fd = open(fn, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(111, "unable to open ", fn);
  fl = readall(fd, file, FILE_MAX);
  close(fd);
  if (fl < 0) die(111, "unable to read (or over 4 MiB): ", fn);
  hash = lookup(file, (size_t)fl, user);
  memset(&cd, 0, sizeof cd);
  got = crypt_r(pass, hash && hash[0] == '$' ? hash : dummy, &cd);
  good = hash && hash[0] == '$' && got && got[0] != '*' && same(got, hash);
  explicit_bzero(req, sizeof req);
  if (!good) _exit(CHECKPW_BAD);
  if (optind < argc) {
    execvp(argv[optind], argv + optind);
    die(111, "unable to run ", argv[optind]);
  }
  return CHECKPW_OK;
}

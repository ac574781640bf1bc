/* tern-dkimkey DOMAIN [SELECTOR]: make DOMAIN's DKIM keys and print the
   DNS records to publish. SELECTOR (default "tern") names the pair: a
   2048-bit RSA key with DNS selector SELECTOR-rsa and an Ed25519 key with
   DNS selector SELECTOR-ed25519, in HOME/dkim/DOMAIN/SELECTOR-rsa.key and
   SELECTOR-ed25519.key (PEM, owner ternk, mode 0600; the directories and
   the public files are root's). Writes the records
   (name line, value line, for each key) to HOME/dkim/DOMAIN/SELECTOR.txt
   and stdout, then SELECTOR into HOME/dkim/DOMAIN/selector, which is what
   makes tern-dkimsign sign for DOMAIN. Keys that exist are kept and their
   records printed again. Run as root. Exit 0, 100 usage, 111 failure. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "common/base64.h"
#include "common/dkimcanon.h"
#include "common/home.h"

#define PATHMAX 1024
#define DNSMAX 2048    /* one record value */

static void die(int code, const char *a, const char *b)
{
  fprintf(stderr, "tern-dkimkey: fatal: %s%s%s\n", a, b ? b : "", code == 111 && errno ? ": " : "");
  if (code == 111 && errno) fprintf(stderr, "  (%s)\n", strerror(errno));
  _exit(code);
}

/* directory p, root's, mode 0755: ternk reads its keys there but can
   change nothing (so a subverted signer cannot plant a link that this
   program, as root, would follow); a link or non-directory is refused */
static void mkdir_root(const char *p)
{
  struct stat st;
  if (mkdir(p, 0755) < 0 && errno != EEXIST) die(111, "cannot create ", p);
  if (lstat(p, &st) < 0) die(111, "cannot stat ", p);
  if (!S_ISDIR(st.st_mode)) die(111, "not a directory: ", p);
  if (chown(p, 0, 0) < 0 || chmod(p, 0755) < 0) die(111, "cannot set the owner of ", p);
}

/* s into path atomically (path.tmp, fsync, rename), owner uid, mode */
static void put_file(const char *path, const char *s, size_t n, uid_t uid, gid_t gid, mode_t mode)
{
  char tmp[PATHMAX + 8];
  int fd;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) die(111, "cannot create ", tmp);
  if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0) die(111, "cannot set the owner of ", tmp);
  if (write(fd, s, n) != (ssize_t)n || fsync(fd) < 0 || close(fd) < 0) die(111, "cannot write ", tmp);
  if (rename(tmp, path) < 0) die(111, "cannot rename ", tmp);
}

/* the key at path: read if it exists, else made (type "RSA" 2048 bits or
   "ED25519") and written owner ternk 0600 */
static EVP_PKEY *key(const char *path, int ed, uid_t uid, gid_t gid)
{
  FILE *f = fopen(path, "r");
  EVP_PKEY *k;
  char *pem;
  long n;
  BIO *b;
  if (f) {
    k = PEM_read_PrivateKey(f, 0, 0, 0);
    fclose(f);
    if (!k) die(111, "cannot parse ", path);
    return k;
  }
  if (errno != ENOENT) die(111, "cannot open ", path);
  k = ed ? EVP_PKEY_Q_keygen(0, 0, "ED25519") : EVP_PKEY_Q_keygen(0, 0, "RSA", (size_t)2048);
  if (!k) die(111, "cannot make a key for ", path);
  b = BIO_new(BIO_s_mem());
  if (!b || PEM_write_bio_PrivateKey(b, k, 0, 0, 0, 0, 0) != 1) die(111, "cannot write ", path);
  n = BIO_get_mem_data(b, &pem);
  put_file(path, pem, (size_t)n, uid, gid, 0600);
  BIO_free(b);
  return k;
}

/* "v=DKIM1; k=...; p=..." for k into v: the SubjectPublicKeyInfo for
   RSA (RFC 6376 3.6.1), the raw 32-byte key for Ed25519 (RFC 8463) */
static void record(char *v, EVP_PKEY *k, int ed)
{
  unsigned char der[DNSMAX / 2], *p = der;
  char b64[DNSMAX];
  size_t n = sizeof der;
  int l;
  if (ed) {
    if (EVP_PKEY_get_raw_public_key(k, der, &n) != 1) die(111, "cannot read the Ed25519 public key", 0);
  } else {
    l = i2d_PUBKEY(k, 0);
    if (l <= 0 || (size_t)l > sizeof der || i2d_PUBKEY(k, &p) != l) die(111, "cannot encode the RSA public key", 0);
    n = (size_t)l;
  }
  base64_encode((const char *)der, n, b64);
  snprintf(v, DNSMAX + 64, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", b64);
}

int main(int argc, char **argv)
{
  const char *dom, *sel = "tern", *home = home_get();
  char dir[PATHMAX], path[PATHMAX + 64], txt[2 * (DNSMAX + 64) + 2 * PATHMAX];
  char rv[DNSMAX + 64], ev[DNSMAX + 64];
  struct passwd *pw;
  EVP_PKEY *rk, *ek;
  size_t tl;
  if (argc < 2 || argc > 3) die(100, "usage: tern-dkimkey DOMAIN [SELECTOR]", 0);
  dom = argv[1];
  if (argc == 3) sel = argv[2];
  if (!dkim_name_ok(dom) || !strchr(dom, '.')) die(100, "not a domain (lowercase letters, digits, - and .): ", dom);
  if (!dkim_name_ok(sel) || strlen(sel) > 40) die(100, "not a selector (lowercase letters, digits, -, _ and ., at most 40): ", sel);
  errno = 0;
  if (!(pw = getpwnam("ternk"))) die(111, "no user ternk (queue/install.sh creates it)", 0);
  umask(077);
  snprintf(dir, sizeof dir, "%s/dkim", home);
  mkdir_root(dir);
  if ((size_t)snprintf(dir, sizeof dir, "%s/dkim/%s", home, dom) >= sizeof dir) die(100, "domain too long: ", dom);
  mkdir_root(dir);
  snprintf(path, sizeof path, "%s/%s-rsa.key", dir, sel);
  rk = key(path, 0, pw->pw_uid, pw->pw_gid);
  snprintf(path, sizeof path, "%s/%s-ed25519.key", dir, sel);
  ek = key(path, 1, pw->pw_uid, pw->pw_gid);
  record(rv, rk, 0);
  record(ev, ek, 1);
  tl = (size_t)snprintf(txt, sizeof txt, "%s-rsa._domainkey.%s\n%s\n%s-ed25519._domainkey.%s\n%s\n", sel, dom, rv, sel, dom, ev);
  snprintf(path, sizeof path, "%s/%s.txt", dir, sel);
  put_file(path, txt, tl, 0, 0, 0644);
  snprintf(path, sizeof path, "%s/selector", dir);
  snprintf(rv, sizeof rv, "%s\n", sel);
  put_file(path, rv, strlen(rv), 0, 0, 0644);
  if (fwrite(txt, 1, tl, stdout) != tl || fflush(stdout)) die(111, "cannot write to stdout", 0);
  return 0;
}

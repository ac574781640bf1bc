/* tern-rules: compile tcprules(1)-format access rules into the cdb that
   tern-listen -x reads.  tern-rules rules.cdb rules.tmp < rules.txt
   See tern-rules.8. Edge program: libowfat + libc only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdb_make.h"

#define RULE_LINE_MAX 4096   /* one rule, bytes */
#define RULE_DATA_MAX 4096   /* instructions of one rule, bytes */

static void die(int code, const char *a, const char *b, unsigned long line)
{
  if (line) fprintf(stderr, "tern-rules: fatal: line %lu: %s%s\n", line, a, b ? b : "");
  else fprintf(stderr, "tern-rules: fatal: %s%s%s%s\n", a, b ? b : "", errno ? ": " : "", errno ? strerror(errno) : "");
  exit(code);
}

static struct cdb_make cm;
static const char *tmpname;

static void add(const char *k, size_t kl, const char *d, size_t dl)
{
  if (cdb_make_add(&cm, (const unsigned char *)k, kl, (const unsigned char *)d, dl) < 0) {
    unlink(tmpname);
    die(111, "unable to write ", tmpname, 0);
  }
}

/* the ':' that separates the address from "allow"/"deny" */
static char *split(char *s)
{
  for (char *p = s; (p = strchr(p, ':')); p++) {
    char *a = p + 1;
    size_t k = !strncmp(a, "allow", 5) ? 5 : !strncmp(a, "deny", 4) ? 4 : 0;
    if (k && (a[k] == 0 || a[k] == ',')) return p;
  }
  return 0;
}

int main(int argc, char **argv)
{
  char line[RULE_LINE_MAX + 2], data[RULE_DATA_MAX];
  unsigned long ln = 0;
  int fd;
  if (argc != 3) die(100, "usage: tern-rules rules.cdb rules.tmp < rules.txt", 0, 0);
  tmpname = argv[2];
  fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(111, "unable to create ", argv[2], 0);
  if (cdb_make_start(&cm, fd) < 0) die(111, "unable to write ", argv[2], 0);
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line), dl = 0;
    char *colon, *p, *addr;
    ln++;
    if (n && line[n - 1] != '\n' && !feof(stdin)) { unlink(tmpname); errno = 0; die(100, "line too long", 0, ln); }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = 0;
    if (!n || line[0] == '#') continue;
    colon = split(line);
    if (!colon) { unlink(tmpname); errno = 0; die(100, "no :allow or :deny in ", line, ln); }
    *colon = 0;
    addr = line;
    p = colon + 1;
    if (!strncmp(p, "deny", 4)) { memcpy(data, "D", 2); dl = 2; p += 4; }
    else p += 5;
    while (*p == ',') {
      char *name = ++p, *eq = strchr(p, '='), q, *end;
      size_t nl, vl;
      if (!eq) { unlink(tmpname); errno = 0; die(100, "instruction without = in ", name, ln); }
      nl = (size_t)(eq - name);
      q = eq[1];
      if (!q) { unlink(tmpname); errno = 0; die(100, "instruction without value: ", name, ln); }
      end = strchr(eq + 2, q);
      if (!end) { unlink(tmpname); errno = 0; die(100, "unterminated value: ", name, ln); }
      vl = (size_t)(end - (eq + 2));
      if (dl + nl + vl + 3 > sizeof data) { unlink(tmpname); errno = 0; die(100, "too many instructions", 0, ln); }
      data[dl++] = '+';
      memcpy(data + dl, name, nl); dl += nl;
      data[dl++] = '=';
      memcpy(data + dl, eq + 2, vl); dl += vl;
      data[dl++] = 0;
      p = end + 1;
    }
    if (*p) { unlink(tmpname); errno = 0; die(100, "garbage after instructions: ", p, ln); }
    /* a.b.c.x-y: a range in the last IPv4 component */
    {
      char *dash = strchr(addr, '-'), *dot = strrchr(addr, '.');
      if (dash && dot && dot < dash && addr[0] != '=') {
        unsigned long lo = strtoul(dot + 1, 0, 10), hi = strtoul(dash + 1, 0, 10);
        char key[300];
        size_t pl = (size_t)(dot + 1 - addr);
        if (lo > hi || hi > 255 || pl > 250) { unlink(tmpname); errno = 0; die(100, "bad range ", addr, ln); }
        for (unsigned long i = lo; i <= hi; i++) {
          int k = snprintf(key, sizeof key, "%.*s%lu", (int)pl, addr, i);
          add(key, (size_t)k, data, dl);
        }
        continue;
      }
    }
    add(addr, strlen(addr), data, dl);
  }
  if (ferror(stdin)) { unlink(tmpname); die(111, "unable to read input", 0, 0); }
  if (cdb_make_finish(&cm) < 0 || fsync(fd) < 0 || close(fd) < 0) { unlink(tmpname); die(111, "unable to write ", argv[2], 0); }
  if (rename(argv[2], argv[1]) < 0) { unlink(tmpname); die(111, "unable to move into place: ", argv[1], 0); }
  return 0;
}

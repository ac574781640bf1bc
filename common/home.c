/* home_get: the installation root, from where the running program lives. */
#include <string.h>
#include <unistd.h>
#include "common/home.h"

#ifndef CONF_HOME
#define CONF_HOME "/var/tern"
#endif

const char *home_get(void)
{
  static char home[4096];
  static int done = 0;
  ssize_t r;
  char *slash;
  if (done) return home;
  done = 1;
  r = readlink("/proc/self/exe", home, sizeof home - 1);
  if (r > 0) {
    home[r] = 0;
    slash = strrchr(home, '/');            /* HOME/bin/prog */
    if (slash) {
      *slash = 0;
      slash = strrchr(home, '/');          /* HOME/bin */
      if (slash && !strcmp(slash, "/bin") && slash != home) {
        *slash = 0;
        return home;
      }
    }
  }
  strcpy(home, CONF_HOME);
  return home;
}

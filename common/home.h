#ifndef TERN_COMMON_HOME_H
#define TERN_COMMON_HOME_H
/* The installation root. Every installed program lives in HOME/bin/, so
   HOME is the parent of the directory holding the running executable
   (/proc/self/exe). A program that is not in a directory named bin (the
   build tree) falls back to conf-home, compiled in as CONF_HOME. The result
   does not depend on the environment, so a client cannot redirect a
   daemon. Returns a static string; never fails (falls back instead). */
extern const char *home_get(void);
#endif

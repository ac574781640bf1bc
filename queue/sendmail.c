/* sendmail: the sendmail(8) interface of tern; the same code as tern-inject
   (queue/tern-inject.8). Installed also as mailq and newaliases. */
#include "queue/inject.h"
int main(int argc, char const *const *argv) { return inject_main(argc, argv); }

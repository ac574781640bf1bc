/* tern-inject: inject a message from a local user (queue/tern-inject.8) */
#include "queue/inject.h"
int main(int argc, char const *const *argv) { return inject_main(argc, argv); }

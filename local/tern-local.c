/* tern-local: deliver one message to one local recipient (local/deliver.c
   does the work; tern-lspawn calls the same function in its forked child
   without this exec). Runs as the recipient. See tern-local.8. */
#include "local/deliver.h"

int main(int argc, char **argv)
{
  return local_deliver(argc, argv);
}

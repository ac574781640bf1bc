# send/: programs of this family (see the top Makefile)
# scheduler side (tern-start, tern-send, tern-lspawn): core, skalibs only
CORE += send/tern-start send/tern-lspawn

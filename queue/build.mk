# queue/: tern-queue (the qmail-queue interface), tern-clean, tern-inject
# and sendmail (one module, two entry points). Core side: skalibs only.
CORE += queue/tern-queue
CORE += queue/tern-clean

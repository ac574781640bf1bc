#!/bin/sh
# 24-queued-clients.t: tern-queued with 20 concurrent good clients from
# ordinary local uids and hostile clients between them (24-queued-clients.py):
# every good message answered 0 and delivered once with its real uid in the
# Received line, every hostile one refused or dropped (one over its uid's
# byte limit in control/queueusers: 31), nothing left in the queue, the
# server still serving.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
# the over-limit client's uid: 2 at once, 50000 bytes at most
printf '41999:2:50000\n' | cat - "$ROOT/control/queueusers" > "$ROOT/qu.tmp" && mv "$ROOT/qu.tmp" "$ROOT/control/queueusers"
tern_start || exit 1
python3 "$SRC/tests/integration/24-queued-clients.py" "$ROOT" "$MAILDIR" > "$ROOT/24.out" 2>&1
rc=$?
n=$(grep -c '^\(not \)\{0,1\}ok - ' "$ROOT/24.out")
echo "1..$n"
i=0
grep -v '^\(not \)\{0,1\}ok - ' "$ROOT/24.out" | sed 's/^/# /'
grep '^\(not \)\{0,1\}ok - ' "$ROOT/24.out" | while IFS= read -r l; do
  i=$((i + 1))
  case $l in "not ok - "*) echo "not ok $i - ${l#not ok - }" ;; *) echo "ok $i - ${l#ok - }" ;; esac
done
[ $rc -eq 0 ]

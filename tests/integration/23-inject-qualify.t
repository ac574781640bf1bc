#!/bin/sh
# 23-inject-qualify.t: tern-inject qualifies host names as qmail-header(5)
# says: no @ -> @defaulthost; trailing + -> plusdomain; no dot ->
# .defaultdomain; address literals untouched. Runs without services: the
# queue program is a capturing $QMAILQUEUE script.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
R=$(mktemp -d); trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/control"
cp "$SRC/queue/sendmail" "$R/bin/"
echo demo.test > "$R/control/me"
echo def.test > "$R/control/defaulthost"
echo ex.org > "$R/control/defaultdomain"
echo plus.net > "$R/control/plusdomain"
printf '#!/bin/sh\ncat > /dev/null; tr "\\000" "\\n" <&1 > "%s/env"\n' "$R" > "$R/cap.sh"; chmod +x "$R/cap.sh"
echo 1..5
echo hi | QMAILQUEUE=$R/cap.sh "$R/bin/sendmail" a@host b@x.+ c d@[1.2.3.4] e@f.g
got=$(grep '^T' "$R/env" | tr '\n' ' ')
[ "$got" = "Ta@host.ex.org Tb@x.plus.net Tc@def.test Td@[1.2.3.4] Te@f.g " ] && echo "ok 1 - recipients qualified" || echo "not ok 1 - recipients qualified: $got"
echo hi | QMAILQUEUE=$R/cap.sh "$R/bin/sendmail" -f joe@box x@y.z
got=$(grep '^F' "$R/env")
[ "$got" = "Fjoe@box.ex.org" ] && echo "ok 2 - sender qualified" || echo "not ok 2 - sender qualified: $got"
n=3
for a in 'x@' '@demo.test' "$(printf 'a\nb@demo.test')"; do
  rm -f "$R/env"
  echo hi | QMAILQUEUE=$R/cap.sh "$R/bin/sendmail" "$a" 2>/dev/null
  rc=$?
  if [ $rc -eq 64 ] && [ ! -e "$R/env" ]; then echo "ok $n - recipient '$a' refused with 64, nothing queued"
  else echo "not ok $n - recipient '$a': exit $rc"; fi
  n=$((n + 1))
done

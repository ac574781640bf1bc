#!/bin/sh
# tests/fuzz/run.sh SECONDS: run every built libFuzzer harness
# (tests/fuzz/NAME-fuzz) for SECONDS each, starting from its seed corpus
# tests/fuzz/corpus/NAME/ (read only: new inputs go to a scratch copy in
# tests/fuzz/corpus-run/NAME/). A crash stops with exit 1 and leaves the
# input in tests/fuzz/crash-NAME-*; record it in tests/fuzz/README and turn
# it into a unit-test row.
secs=${1:-60}
cd "$(dirname "$0")" || exit 111
fail=0
for f in ./*-fuzz; do
  [ -x "$f" ] || continue
  name=$(basename "$f" -fuzz)
  mkdir -p "corpus-run/$name" "corpus/$name"
  start=$(date +%s)
  if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="crash-$name-" \
       "corpus-run/$name" "corpus/$name" > "corpus-run/$name.log" 2>&1; then
    echo "fuzz: $name: ok, $(( $(date +%s) - start )) s, $(grep -o 'stat::number_of_executed_units: [0-9]*' "corpus-run/$name.log" | awk '{print $2}') runs"
  else
    echo "fuzz: $name: FAILED (see tests/fuzz/corpus-run/$name.log)"; tail -n 30 "corpus-run/$name.log" | sed 's/^/  /'
    fail=1
  fi
done
exit $fail

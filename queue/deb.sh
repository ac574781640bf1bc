#!/bin/sh
# queue/deb.sh DIR: build tern's Debian package (make deb). The source
# tree's files (git ls-files: tracked and untracked, not ignored; without
# git, the tree as is after make clean) are copied into DIR/tern-VERSION,
# queue/debian becomes its debian/, and dpkg-buildpackage builds the binary
# package with debhelper. Results in DIR: tern_VERSION_ARCH.deb, the
# .changes and .buildinfo files, build.log and lintian.log (lintian over the
# .changes). Exit 0 built and lintian reports no error; 1 lintian errors;
# 100 usage; 111 the build failed.
set -eu
die() { echo "deb: fatal: $1" >&2; exit "${2:-111}"; }
[ $# -eq 1 ] || die "usage: queue/deb.sh DIR" 100
D=$1
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
ver=$(dpkg-parsechangelog -l "$src/queue/debian/changelog" -S Version) || die "cannot read queue/debian/changelog"
case $D in "$src"|"$src"/*) die "DIR must be outside the source tree: $D" 100 ;; esac
# DIR is emptied first: only one that is empty or that an earlier make deb
# made (it holds .tern-deb), never, say, /tmp itself
if [ -d "$D" ] && [ -n "$(ls -A "$D")" ] && [ ! -e "$D/.tern-deb" ]; then
  die "$D is not empty and was not made by make deb; refusing to empty it" 100
fi
rm -rf "$D"
B=$D/tern-$ver
mkdir -p "$B"
: > "$D/.tern-deb"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -co --exclude-standard | while IFS= read -r f; do if [ -e "$f" ]; then echo "$f"; fi; done) |
    tar -C "$src" -T - -cf - | tar -C "$B" -xf - || die "copying the tree"
else
  tar -C "$src" --exclude=./demo-root -cf - . | tar -C "$B" -xf - || die "copying the tree"
  make -C "$B" clean >/dev/null
fi
rm -rf "$B/debian"
cp -a "$B/queue/debian" "$B/debian"
echo "deb: building tern $ver in $B (log: $D/build.log)"
(cd "$B" && dpkg-buildpackage -us -uc -b) > "$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; die "dpkg-buildpackage failed; see $D/build.log"; }
deb=$(ls "$D"/tern_"$ver"_*.deb)
echo "deb: built $deb"
lintian --info --display-info "$D"/tern_"$ver"_*.changes > "$D/lintian.log" 2>&1 || :
if grep -q '^E: ' "$D/lintian.log"; then
  grep '^E: ' "$D/lintian.log" >&2
  echo "deb: lintian reports errors; see $D/lintian.log" >&2
  exit 1
fi
echo "deb: lintian: no error ($(grep -c '^W: ' "$D/lintian.log" || :) warnings; see $D/lintian.log)"

#!/bin/sh
# tests/fault/diskfull.t: the queue on a small tmpfs runs out of space
# (tests/fault/diskfull.py; see tests/fault/README).
. "$(dirname "$0")/../integration/lib.sh"
tern_init
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
mkdir -p "$ROOT/queue"
mount -t tmpfs -o size=${DF_SIZE:-8m},nr_inodes=${DF_NR_INODES:-2000},mode=0750 tmpfs "$ROOT/queue" 2>/dev/null || tap_skip_all "cannot mount a tmpfs"
trap 'tern_stop; umount "$ROOT/queue" 2>/dev/null || umount -l "$ROOT/queue"; tern_cleanup' EXIT
chown ternq:tern "$ROOT/queue" 2>/dev/null || { groupadd --system tern 2>/dev/null; useradd --system -g tern ternq 2>/dev/null; chown ternq:tern "$ROOT/queue"; }
tern_install || tap_abort install
tern_start || tap_abort start
export ROOT MAILDIR TERN_PORT
python3 "$SRC/tests/fault/diskfull.py"

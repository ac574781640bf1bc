#!/bin/sh
# tests/fault/diskfull-inodes.t: diskfull.t, but the queue's tmpfs runs out
# of inodes (empty ballast files leave 8 free) instead of blocks.
DF_INODES=8 DF_SIZE=64m exec sh "$(dirname "$0")/diskfull.t"

#!/usr/bin/env python3
"""tests/bench/perfsum.py: where a server's CPU goes, per program and per
kind of work, from a system-wide `perf record -a -g` taken during one load.

  perf record -g -F 999 -p PID,PID,... -o perf.data -- sh -c 'smtp-source ...; wait' ; \
  perf script -i perf.data -F comm,ip,sym,dso | perfsum.py --hz 999 --msgs 1000 PROG...

PROG... are the program names (perf's comm, 15 characters at most) that
belong to the server (default: every one; record with -p PIDS of the
server's processes, children follow); the output gives CPU milliseconds per message for
each program, split into: exec (execve and the dynamic loader), fault (page
faults), fork, exit (process teardown), fsync, fs (open/creat/link/unlink/
rename/mkdir and other file syscalls), ipc (read/write/poll/socket calls),
user (the program's own code and libc).
"""
import argparse
import re
import sys

FS = {"openat", "open", "creat", "link", "linkat", "unlink", "unlinkat", "rename", "renameat",
      "renameat2", "mkdir", "mkdirat", "newfstatat", "fstat", "stat", "lstat", "statx",
      "chdir", "fchdir", "readlink", "readlinkat", "access", "faccessat", "faccessat2",
      "futimens", "utimensat", "getdents64", "ftruncate", "fchmod", "fchown"}
IPC = {"read", "write", "readv", "writev", "pread64", "pwrite64", "poll", "ppoll", "select",
       "pselect6", "epoll_wait", "accept", "accept4", "connect", "socket", "sendmsg", "recvmsg",
       "sendto", "recvfrom", "pipe", "pipe2", "close", "dup2", "dup3", "wait4", "kill",
       "rt_sigaction", "rt_sigprocmask", "fcntl", "shutdown"}
KINDS = ["exec", "fault", "fork", "exit", "fsync", "fs", "ipc", "mm", "other", "user"]


def classify(frames):
    """frames: [(sym, dso)] innermost first"""
    syscall = None
    for sym, dso in reversed(frames):
        m = re.match(r"__(?:x64|do)_sys_(\w+)", sym)
        if m:
            syscall = m.group(1)
            break
        if sym in ("asm_exc_page_fault", "exc_page_fault"):
            return "fault"
        if sym in ("ret_from_fork", "ret_from_fork_asm"):
            return "fork"
    if syscall:
        if syscall in ("execve", "execveat"):
            return "exec"
        if syscall in ("clone", "clone3", "fork", "vfork"):
            return "fork"
        if syscall in ("exit", "exit_group"):
            return "exit"
        if syscall in ("fsync", "fdatasync", "sync_file_range", "syncfs"):
            return "fsync"
        if syscall in FS:
            return "fs"
        if syscall in IPC:
            return "ipc"
        if syscall in ("mmap", "munmap", "mprotect", "brk", "mremap"):
            return "mm"
        return "other"
    if frames and "ld-linux" in frames[0][1]:
        return "exec"  # the dynamic loader: part of starting a program
    if frames and "kernel" in frames[0][1]:
        # kernel work outside a syscall (interrupts, scheduling); exit paths
        for sym, _ in frames:
            if sym in ("do_exit", "do_group_exit"):
                return "exit"
        return "other"
    return "user"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hz", type=float, required=True)
    ap.add_argument("--msgs", type=int, required=True)
    ap.add_argument("progs", nargs="*", help="only these programs (default: every one)")
    a = ap.parse_args()
    want = {p[:15] for p in a.progs}
    tab = {}
    comm, frames = None, []

    def flush():
        if comm and (not want or comm in want):
            k = classify(frames)
            row = tab.setdefault(comm, dict.fromkeys(KINDS, 0))
            row[k] += 1

    for line in sys.stdin:
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            comm = line.split()[0] if line.split() else None
            continue
        m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)\s*$", line)
        if m:
            frames.append((m.group(1).split("+")[0], m.group(2)))
    flush()
    per = 1000.0 / a.hz / a.msgs  # ms per message per sample
    tot = dict.fromkeys(KINDS, 0)
    print("| program | " + " | ".join(KINDS) + " | total ms/msg |")
    print("|---|" + "---:|" * (len(KINDS) + 1))
    for comm, row in sorted(tab.items(), key=lambda kv: -sum(kv[1].values())):
        for k in KINDS:
            tot[k] += row[k]
        print("| %s | %s | %.2f |" % (comm, " | ".join("%.2f" % (row[k] * per) for k in KINDS),
                                     sum(row.values()) * per))
    print("| **all** | %s | **%.2f** |" % (" | ".join("%.2f" % (tot[k] * per) for k in KINDS),
                                           sum(tot.values()) * per))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""durability.py: prove from an strace log that a program made its work
durable before it reported success.

  durability.py [--exempt REGEX=REASON]... TRACE

TRACE is the output of
  strace [-f] -y -o TRACE PROG
(any -e trace= set that contains file, desc, fsync, fdatasync, link*,
rename*, unlink*, openat, mkdir; the crash test traces everything).
"Success" is the traced program's exit_group(0) (tern-queue exits 0 = the
message is queued; tern-local exits 0 = delivered). The check, for the
first process in the trace, up to that exit:

  1. every regular file it created (open with O_CREAT|O_EXCL, creat, or
     O_TMPFILE, named later by linkat through /proc/self/fd/N) or
     wrote through a descriptor it opened, and that still has a name at the
     end, was fsync'd / fdatasync'd after its last write;
  2. every directory whose entries it changed (a file created in it, link,
     rename to or from it, unlink, mkdir, rmdir, symlink) was fsync'd after
     the last such change.

A directory matching an --exempt regular expression (searched in its
absolute path) is not required to be synced; REASON is printed, so that
every exemption is stated where the test runs. Prints one line per missing
fsync naming the file or directory and the trace line of the change, and
exits 1 if any is missing, 0 if none, 2 if the trace is unusable (no
successful exit, cannot parse).

Limits: open(O_CREAT) without O_EXCL of a file that already existed is
not counted as a directory change (strace does not say whether it created
the file). The trace is read at most 50 MB.
"""
import os
import re
import sys

MAX_TRACE = 50 * 1024 * 1024

LINE = re.compile(r'^(?:(\d+)\s+)?(\w+)\((.*)\)\s+=\s+(.*)$')
UNFIN = re.compile(r'^(?:(\d+)\s+)?(\w+)\((.*) <unfinished \.\.\.>$')
RESUMED = re.compile(r'^(?:(\d+)\s+)?<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(.*)$')


def split_args(s):
    """top-level comma-separated arguments, keeping quoted strings, [], {}, <>"""
    out, cur, depth, i, q = [], [], 0, 0, False
    while i < len(s):
        c = s[i]
        if q:
            cur.append(c)
            if c == '\\' and i + 1 < len(s):
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True
            cur.append(c)
        elif c in '[{<(':
            depth += 1
            cur.append(c)
        elif c in ']}>)':
            depth -= 1
            cur.append(c)
        elif c == ',' and depth == 0:
            out.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if cur or out:
        out.append(''.join(cur).strip())
    return out


def unquote(a):
    m = re.match(r'^"(.*)"(\.\.\.)?$', a)
    if not m:
        return None
    return bytes(m.group(1), 'latin-1').decode('unicode_escape')


def fdnum_path(a):
    """'3</x/y>' -> (3, '/x/y'); 'AT_FDCWD</x>' -> ('AT_FDCWD', '/x')"""
    m = re.match(r'^(-?\d+|AT_FDCWD)(?:<(.*)>)?(\(deleted\))?$', a)
    if not m:
        return None, None
    n = m.group(1)
    return (n if n == 'AT_FDCWD' else int(n)), m.group(2)


class Trace:
    def __init__(self, exempt):
        self.exempt = exempt         # [(regex, reason)]
        self.cwd = None
        self.names = {}              # path -> identity (int)
        self.ident_names = {}        # identity -> set of paths
        self.ident_created = {}      # identity -> (line, path)
        self.ident_lastwrite = {}    # identity -> line
        self.ident_synced = {}       # identity -> line
        self.fds = {}                # fd -> (identity or None, path)
        self.dirchange = {}          # dir -> (line, what)
        self.dirsync = {}            # dir -> line
        self.next_ident = 1
        self.main = None
        self.success = None

    def resolve(self, dirfd_tok, path):
        if path is None:
            return None
        if path.startswith('/'):
            return os.path.normpath(path)
        base = None
        if dirfd_tok is not None:
            n, p = fdnum_path(dirfd_tok)
            if p:
                base = p
            elif n == 'AT_FDCWD':
                base = self.cwd
            elif isinstance(n, int) and n in self.fds:
                base = self.fds[n][1]
        else:
            base = self.cwd
        if base is None:
            base = '.'
        return os.path.normpath(os.path.join(base, path))

    def ident_of(self, path, create=False):
        if path in self.names:
            return self.names[path]
        if not create:
            return None
        i = self.next_ident
        self.next_ident += 1
        self.names[path] = i
        self.ident_names[i] = {path}
        return i

    def change(self, d, ln, what):
        self.dirchange[d] = (ln, what)

    def add_name(self, path, ident):
        old = self.names.get(path)
        if old is not None and old in self.ident_names:
            self.ident_names[old].discard(path)
        self.names[path] = ident
        self.ident_names.setdefault(ident, set()).add(path)

    def drop_name(self, path):
        i = self.names.pop(path, None)
        if i is not None and i in self.ident_names:
            self.ident_names[i].discard(path)

    def event(self, ln, pid, name, args, ret):
        if self.main is None:
            self.main = pid
        if pid != self.main or self.success is not None:
            return
        a = split_args(args)
        ok = not ret.startswith('-1') and ret != '?'
        rnum, rpath = fdnum_path(ret.split()[0]) if ret and ret[0].isdigit() else (None, None)
        # learn the cwd from strace -y's AT_FDCWD<...> annotations
        for x in a:
            if x.startswith('AT_FDCWD<'):
                self.cwd = fdnum_path(x)[1]
                break
        if name == 'exit_group':
            if a and a[0] == '0':
                self.success = ln
            return
        if not ok:
            return
        if name == 'chdir':
            self.cwd = self.resolve(None, unquote(a[0]))
        elif name in ('open', 'openat', 'creat'):
            if name == 'openat':
                dirfd, p, flags = a[0], unquote(a[1]), a[2] if len(a) > 2 else ''
            elif name == 'open':
                dirfd, p, flags = None, unquote(a[0]), a[1] if len(a) > 1 else ''
            else:
                dirfd, p, flags = None, unquote(a[0]), 'O_CREAT|O_EXCL|O_WRONLY'
            path = self.resolve(dirfd, p)
            created = 'O_CREAT' in flags and 'O_EXCL' in flags
            if 'O_TMPFILE' in flags:
                # an unnamed file in directory path: a new identity with no
                # name until a linkat through /proc/self/fd names it
                i = self.next_ident
                self.next_ident += 1
                self.ident_names[i] = set()
                self.ident_created[i] = (ln, path + '/(unnamed)')
                m = re.match(r'^(\d+)', ret)
                if m:
                    self.fds[int(m.group(1))] = (i, path + '/(unnamed)')
                return
            if created:
                i = self.ident_of(path, create=True)
                self.ident_created[i] = (ln, path)
                self.change(os.path.dirname(path), ln, 'created ' + path)
            else:
                i = self.ident_of(path, create=True)
            if isinstance(rnum, int):
                self.fds[rnum] = (i, path)
        elif name in ('write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'ftruncate', 'fallocate'):
            n, _ = fdnum_path(a[0])
            if n in self.fds and self.fds[n][0] is not None:
                self.ident_lastwrite[self.fds[n][0]] = ln
        elif name in ('fsync', 'fdatasync'):
            n, _ = fdnum_path(a[0])
            if n in self.fds:
                i, path = self.fds[n]
                if i is not None:
                    self.ident_synced[i] = ln
                self.dirsync[path] = ln
        elif name == 'close':
            n, _ = fdnum_path(a[0])
            self.fds.pop(n, None)
        elif name in ('dup', 'dup2', 'dup3') or (name == 'fcntl' and len(a) > 1 and a[1].startswith('F_DUPFD')):
            n, _ = fdnum_path(a[0])
            if n in self.fds and isinstance(rnum, int):
                self.fds[rnum] = self.fds[n]
        elif name in ('link', 'linkat'):
            if name == 'link':
                old, new = self.resolve(None, unquote(a[0])), self.resolve(None, unquote(a[1]))
            else:
                old, new = self.resolve(a[0], unquote(a[1])), self.resolve(a[2], unquote(a[3]))
            m = re.match(r'^/proc/self/fd/(\d+)$', old or '')
            if m and int(m.group(1)) in self.fds:
                i = self.fds[int(m.group(1))][0]   # linkat of an open (unnamed) file
            else:
                i = self.ident_of(old, create=True)
            self.add_name(new, i)
            self.change(os.path.dirname(new), ln, 'link %s -> %s' % (old, new))
        elif name in ('rename', 'renameat', 'renameat2'):
            if name == 'rename':
                old, new = self.resolve(None, unquote(a[0])), self.resolve(None, unquote(a[1]))
            else:
                old, new = self.resolve(a[0], unquote(a[1])), self.resolve(a[2], unquote(a[3]))
            i = self.ident_of(old, create=True)
            self.drop_name(old)
            self.add_name(new, i)
            self.change(os.path.dirname(old), ln, 'rename %s -> %s' % (old, new))
            self.change(os.path.dirname(new), ln, 'rename %s -> %s' % (old, new))
        elif name in ('unlink', 'unlinkat', 'rmdir'):
            if name == 'unlinkat':
                p = self.resolve(a[0], unquote(a[1]))
            else:
                p = self.resolve(None, unquote(a[0]))
            self.drop_name(p)
            self.change(os.path.dirname(p), ln, '%s %s' % (name, p))
        elif name in ('mkdir', 'mkdirat', 'symlink', 'symlinkat'):
            if name == 'mkdir':
                p = self.resolve(None, unquote(a[0]))
            elif name == 'mkdirat':
                p = self.resolve(a[0], unquote(a[1]))
            elif name == 'symlink':
                p = self.resolve(None, unquote(a[1]))
            else:
                p = self.resolve(a[1], unquote(a[2]))
            self.change(os.path.dirname(p), ln, '%s %s' % (name, p))

    def missing(self):
        out = []
        for i, (ln, path) in sorted(self.ident_created.items(), key=lambda x: x[1][0]):
            if not self.ident_names.get(i):
                continue   # a temporary: no name left
            last = self.ident_lastwrite.get(i, ln)
            if self.ident_synced.get(i, 0) <= last:
                out.append('missing fsync of file %s (created at trace line %d, last written at line %d, now named %s)'
                           % (path, ln, last, ' '.join(sorted(self.ident_names[i]))))
        for i, last in sorted(self.ident_lastwrite.items(), key=lambda x: x[1]):
            if i in self.ident_created or not self.ident_names.get(i):
                continue
            if self.ident_synced.get(i, 0) <= last:
                out.append('missing fsync of written file %s (last written at trace line %d)'
                           % (' '.join(sorted(self.ident_names[i])), last))
        for d, (ln, what) in sorted(self.dirchange.items(), key=lambda x: x[1][0]):
            if self.dirsync.get(d, 0) > ln:
                continue
            ex = [r for (rx, r) in self.exempt if re.search(rx, d)]
            if ex:
                continue
            out.append('missing fsync of directory %s after "%s" (trace line %d)' % (d, what, ln))
        return out

    def exempted(self):
        out = []
        for d, (ln, what) in sorted(self.dirchange.items(), key=lambda x: x[1][0]):
            if self.dirsync.get(d, 0) > ln:
                continue
            for (rx, r) in self.exempt:
                if re.search(rx, d):
                    out.append('directory %s not synced after "%s": allowed: %s' % (d, what, r))
                    break
        return out


def check(path, exempt):
    t = Trace(exempt)
    pending = {}
    with open(path, 'r', encoding='latin-1') as f:
        data = f.read(MAX_TRACE)
    for ln, line in enumerate(data.split('\n'), 1):
        line = line.rstrip()
        m = UNFIN.match(line)
        if m:
            pending[(m.group(1), m.group(2))] = m.group(3)
            continue
        m = RESUMED.match(line)
        if m:
            head = pending.pop((m.group(1), m.group(2)), '')
            t.event(ln, m.group(1), m.group(2), head + m.group(3), m.group(4))
            continue
        m = LINE.match(line)
        if m:
            t.event(ln, m.group(1), m.group(2), m.group(3), m.group(4))
            continue
        m = re.match(r'^(?:(\d+)\s+)?exit_group\((\d+)\)\s+=\s+\?$', line)
        if m:
            t.event(ln, m.group(1), 'exit_group', m.group(2), '?')
    return t


def main(argv):
    exempt = []
    args = argv[1:]
    while args and args[0] == '--exempt':
        rx, _, reason = args[1].partition('=')
        exempt.append((rx, reason or 'no reason given'))
        args = args[2:]
    if len(args) != 1:
        print('usage: durability.py [--exempt REGEX=REASON]... TRACE', file=sys.stderr)
        return 2
    t = check(args[0], exempt)
    if t.success is None:
        print('durability: %s: the traced program did not exit 0' % args[0])
        return 2
    for e in t.exempted():
        print('durability: note: ' + e)
    miss = t.missing()
    for m in miss:
        print('durability: ' + m)
    if not miss:
        print('durability: ok: every created file and changed directory synced before exit 0 (line %d)' % t.success)
    return 1 if miss else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

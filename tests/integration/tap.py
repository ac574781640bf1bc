"""TAP for the Python test scripts of tests/integration and tests/fault
(prove reads it).

    import tap
    from tap import ok, diag
    tap.need(PATH)        # "1..0 # SKIP" and exit 0 unless PATH is executable
    tap.plan(N)           # optional: the plan first, when the count is fixed
    ok(cond, "what must hold", diag)   # diag printed as # lines on failure
    ok(cond, "known gap", todo="why")  # "# TODO": a failure is not counted
    diag("text")          # # lines
    tap.skip("why")       # an "ok N # SKIP" line
    tap.done()            # the plan (unless given), then exit 1 if anything failed

Without tap.plan the plan comes last (TAP allows it), so scripts need not
count ahead. tap.n and tap.failed hold the counts so far.
A script in another folder imports it with
    sys.path.insert(0, os.path.join(SRC, 'tests', 'integration'))
"""
import os
import sys

n = 0
failed = 0
planned = None


def need(path):
    if not os.access(path, os.X_OK):
        print('1..0 # SKIP %s not built' % path)
        sys.exit(0)


def skip_all(reason):
    print('1..0 # SKIP %s' % reason)
    sys.exit(0)


def plan(count):
    global planned
    planned = count
    print('1..%d' % count)
    sys.stdout.flush()


def diag(text):
    for line in str(text).split('\n'):
        print('# ' + line)
    sys.stdout.flush()


def ok(cond, desc, diag=None, todo=None):
    global n, failed
    n += 1
    t = ' # TODO ' + todo if todo else ''
    print('%s %d - %s%s' % ('ok' if cond else 'not ok', n, desc, t))
    if not cond:
        if not todo:
            failed += 1
        if diag is not None:
            text = diag if isinstance(diag, str) else repr(diag)
            for line in text[:2000].splitlines():
                print('#   ' + line)
    sys.stdout.flush()


def skip(reason):
    global n
    n += 1
    print('ok %d # SKIP %s' % (n, reason))
    sys.stdout.flush()


def done():
    if planned is None:
        print('1..%d' % n)
    sys.exit(1 if failed else 0)

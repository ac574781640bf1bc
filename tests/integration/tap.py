"""TAP for the Python test scripts of tests/integration (prove reads it).

    import tap
    from tap import ok
    tap.need(PATH)        # "1..0 # SKIP" and exit 0 unless PATH is executable
    ok(cond, "what must hold", diag)   # diag printed as # lines on failure
    tap.skip("why")       # an "ok N # SKIP" line
    tap.done()            # the plan, then exit 1 if anything failed

The plan comes last (TAP allows it), so scripts need not count ahead.
"""
import os
import sys

n = 0
failed = 0


def need(path):
    if not os.access(path, os.X_OK):
        print('1..0 # SKIP %s not built' % path)
        sys.exit(0)


def ok(cond, desc, diag=None):
    global n, failed
    n += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n, desc))
    if not cond:
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


def done():
    print('1..%d' % n)
    sys.exit(1 if failed else 0)

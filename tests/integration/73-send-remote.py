#!/usr/bin/env python3
"""73-send-remote.py: the transactions of 73-send-remote.t's grouped
message, from the sink's JSON lines (tests/integration/smtpsink.py).

    73-send-remote.py SINK.jsonl

One line per transaction with a recipient at r1.test or r2.test (any
case): its recipients, sorted, space-separated.
"""
import json
import sys

for line in open(sys.argv[1]):
    t = json.loads(line)
    if any(r.lower().endswith(("@r1.test", "@r2.test")) for r in t["rcpt"]):
        print(" ".join(sorted(t["rcpt"])))

#!/usr/bin/env python3
"""tests/bench/tlssum.py: the BENCHMARKS.md section of make bench's TLS
part (run.sh, BENCH_TLS=1): the table of bench.py --starttls (its JSON)
and, from a perf profile of each server under the same load, the share
of the server's CPU spent in the TLS library (samples whose innermost
frame is in libssl or libcrypto) and in the TLS process (tern-tlsd), and
tern-tlsd's samples by step: the outermost of its own functions in the
call chain (a DWARF call graph) says whether a sample served the
handshake, loading the context (certificate, key, ticket keys), the
relay, or none of them (starting and ending the process: exec, the
dynamic loader, OpenSSL's initialisation, exit).

  tlssum.py --json tls.json --msgs 1000 --hz 999 \\
      --perf tern=perf-tern.txt --perf postfix=perf-postfix.txt

perf-NAME.txt: `perf script -F comm,ip,sym,dso` of the profile.
Prints markdown on stdout.
"""
import argparse
import json
import re


STEPS = (("handshake", re.compile(r"^(tlspolicy_handshake|report)$")),
         ("context", re.compile(r"^(load|on_sni|tickets|load_ticketkeys|tlspolicy_server_ctx|tlspolicy_load)$")),
         ("relay", re.compile(r"^(tlspolicy_relay|relay_in|relay_out)$")))


def step(frames):
    """the step of tern-tlsd that a sample (frames innermost first) serves"""
    for sym, dso in reversed(frames):
        if dso.endswith("/tern-tlsd"):
            for name, rx in STEPS:
                if rx.match(sym):
                    return name
    return "process"


def shares(path):
    """(samples, samples in libssl/libcrypto, {comm: samples}, {tern-tlsd step: samples})
    of a perf script text"""
    total, tls, by, steps = 0, 0, {}, {}
    comm, frames = None, []

    def flush():
        nonlocal total, tls
        if comm is None:
            return
        total += 1
        by[comm] = by.get(comm, 0) + 1
        if frames and re.search(r"lib(ssl|crypto)\.so", frames[0][1]):
            tls += 1
        if comm == "tern-tlsd":
            k = step(frames)
            steps[k] = steps.get(k, 0) + 1

    with open(path, errors="replace") as fh:
        for line in fh:
            if not line.strip():
                flush()
                comm, frames = None, []
            elif not line.startswith((" ", "\t")):
                comm = line.split()[0]
            else:
                m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)\s*$", line)
                if m:
                    frames.append((m.group(1).split("+")[0], m.group(2)))
    flush()
    return total, tls, by, steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--msgs", type=int, default=1000)
    ap.add_argument("--hz", type=float, default=999)
    ap.add_argument("--perf", action="append", default=[], help="NAME=FILE")
    a = ap.parse_args()
    with open(a.json) as fh:
        table = json.load(fh)["table"]
    out = []
    for line in table:
        t, p = line.get("tern"), line.get("postfix")
        if not t or not p:
            continue
        out.append("| %d x %d KiB, %d clients, STARTTLS each | tern | postfix | tern/postfix |"
                   % (line["n"], line["size"] // 1024, line["c"]))
        out.append("|---|---:|---:|---:|")
        for label, key, d in (("delivered msg/s", "del_s", 0), ("CPU ms / msg", "cpu_1000", 1)):
            x, y = t[key], p[key]
            r = "%.2f" % (x / y) if x is not None and y else "-"
            out.append("| %s | %.*f | %.*f | %s |" % (label, d, x or 0, d, y or 0, r))
        out.append("")
        out.append("(median of %d rounds for tern, %d for Postfix; failed rounds: tern %d, Postfix %d)"
                   % (t["rounds"], p["rounds"], t["failed"], p["failed"]))
    per = 1000.0 / a.hz / a.msgs
    for spec in a.perf:
        name, path = spec.split("=", 1)
        try:
            total, tls, by, steps = shares(path)
        except OSError:
            continue
        if not total:
            continue
        tlsd = by.get("tern-tlsd", 0)
        top = ", ".join("%s %.1f" % (c, n * per) for c, n in sorted(by.items(), key=lambda kv: -kv[1])[:5])
        out.append("")
        out.append("profile of %s (perf, %d messages): %.1f CPU ms/msg in all; in libssl + libcrypto %.1f ms/msg "
                   "(%.0f %%)%s; by program (ms/msg): %s"
                   % (name, a.msgs, total * per, tls * per, 100.0 * tls / total,
                      "; in tern-tlsd %.1f ms/msg (%.0f %%)" % (tlsd * per, 100.0 * tlsd / total) if tlsd else "",
                      top))
        if tlsd:
            out.append("")
            out.append("tern-tlsd by step (ms/msg): " + ", ".join(
                "%s %.2f (%.0f %%)" % (k, steps.get(k, 0) * per, 100.0 * steps.get(k, 0) / tlsd)
                for k in ("handshake", "context", "relay", "process")))
    print("\n".join(out))


if __name__ == "__main__":
    main()

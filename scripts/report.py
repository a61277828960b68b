#!/usr/bin/env python3
"""Parse the consoles of the test machines and report.

For each RESULTS/MACHINE.log (with its MACHINE.plan) this reads
  - the KUnit KTAP printed at boot (before @@BOOTED): one result per case;
  - each suite's kselftest TAP between @@SUITE NAME and @@END NAME, and its
    exit code (@@RC N);
  - @@KMSG lines: kernel BUG/WARNING/Oops output and the debug tools'
    reports (KASAN, UBSAN, lockdep, kmemleak, ...), a failure of that
    suite; @@KREPORT lines, the whole report, printed with the failure.
A suite fails as a whole when it printed no results, when its TAP plan
(1..N) does not match the results it printed, when it exited non-zero
without a failing case, or when the machine crashed or hung before it ended.
Prints a per-suite table, the failing and skipped cases with their reasons,
and one line "N passed, N failed, N skipped"; exits 1 on any failure.
"""
import os
import re
import sys

KERNEL_PROBLEM = re.compile(r"BUG:|WARNING:|Oops|kernel BUG|UBSAN|KASAN|"
                            r"DEBUG_LOCKS_WARN_ON|Kernel panic|ODEBUG|"
                            r"list_(add|del) corruption")
RES = re.compile(r"^(not ok|ok) (\d+) (.*?)(?:\s+#\s*(SKIP|XFAIL|TODO)\b\s*(.*))?\s*$")


class Suite:
    def __init__(self, machine, name):
        self.machine, self.name = machine, name
        self.passed, self.failed, self.skipped = [], [], []
        self.kfailed = []  # failures mainline-known-failures lists, apart
        self.errors = []  # whole-suite problems, each counts as one failure
        self.report = []  # the kernel's own report of a problem, shown whole

    def counts(self):
        return len(self.passed), len(self.failed) + len(self.errors), len(self.skipped)


def parse_tap(lines, suite, indent=""):
    plan = None
    for ln in lines:
        if not ln.startswith(indent) or ln[len(indent):len(indent) + 1] == " ":
            continue
        s = ln[len(indent):]
        m = re.match(r"^1\.\.(\d+)", s)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = RES.match(s)
        if not m:
            continue
        ok, _, name, directive, reason = m.groups()
        if directive == "SKIP":
            suite.skipped.append((name, reason or ""))
        elif ok == "ok" or directive == "XFAIL":
            suite.passed.append(name)
        else:
            suite.failed.append((name, ""))
    seen = sum(suite.counts()) - len(suite.errors)
    if seen == 0:
        suite.errors.append("printed no results")
    elif plan is not None and plan != seen:
        suite.errors.append("plan 1..%d but %d results" % (plan, seen))
    return plan


def parse_kunit(machine, boot):
    """KTAP at boot: suites are '# Subtest: NAME' at 4 spaces, their cases
    'ok N name' at 4 spaces; parameterised cases nest deeper and are counted
    once, by their parent line."""
    suites, cur, body = [], None, []
    for ln in boot:
        m = re.match(r"^    # Subtest: (\S+)", ln)
        if m:
            if cur:
                parse_tap(body, cur, "    ")
            cur, body = Suite(machine, "kunit:" + m.group(1)), []
            suites.append(cur)
            continue
        if cur is not None:
            body.append(ln)
            if re.match(r"^(not )?ok \d+ ", ln):
                parse_tap(body, cur, "    ")
                cur, body = None, []
    if cur:
        parse_tap(body, cur, "    ")
        cur.errors.append("suite did not finish")
    return suites


def parse_machine(res, machine):
    log = open(os.path.join(res, machine + ".log"), errors="replace").read()
    lines = [l.rstrip("\r") for l in log.split("\n")]
    plan = open(os.path.join(res, machine + ".plan")).read().splitlines()
    want_kunit = [l.split()[1] for l in plan if l.startswith("#kunit ")]
    want = [l.split()[0] for l in plan if l.strip() and not l.startswith("#")]
    booted = next((i for i, l in enumerate(lines) if l.startswith("@@BOOTED")), None)
    suites = parse_kunit(machine, lines[:booted] if booted is not None else lines)
    for k in want_kunit:
        if not any(s.name == "kunit:" + k for s in suites):
            s = Suite(machine, "kunit:" + k)
            s.errors.append("suite did not run")
            suites.append(s)
    qemu = next((l for l in lines if l.startswith("@@QEMU ")), "@@QEMU rc=?")
    done = any(l.startswith("@@DONE") for l in lines)
    for name in want:
        s = Suite(machine, name)
        suites.append(s)
        try:
            a = lines.index("@@SUITE " + name)
        except ValueError:
            s.errors.append("never started (machine %s)" %
                            ("did not boot" if booted is None else "crashed or hung"))
            continue
        end = next((i for i in range(a + 1, len(lines))
                    if lines[i].startswith("@@END " + name + " ")), None)
        body = lines[a + 1:end if end is not None else len(lines)]
        parse_tap(body, s)
        if end is None:
            s.errors.append("did not end: crash or timeout (%s)" % qemu[2:])
        else:
            rcs = [l.split()[1] for l in body if l.startswith("@@RC ")]
            rc = rcs[-1] if rcs else "?"
            s.secs = re.search(r"secs=(\d+)", lines[end]).group(1)
            if rc != "0" and not s.failed and not s.errors:
                s.errors.append("exited with rc=%s%s" %
                                (rc, " (timeout)" if rc in ("124", "143") else ""))
    def target(name):
        tgt = next((s for s in suites if s.name == name), None)
        if tgt is None:
            tgt = Suite(machine, "kernel(%s)" % name)
            suites.append(tgt)
        return tgt
    for l in lines:
        m = re.match(r"^@@(KMSG|KREPORT) (\S+): (.*)", l)
        if m and m.group(1) == "KMSG":
            target(m.group(2)).errors.append("kernel: " + m.group(3))
        elif m:
            target(m.group(2)).report.append(m.group(3))
    if not done:
        s = Suite(machine, "(machine)")
        s.errors.append("did not reach @@DONE: %s (%s)" %
                        ("did not boot" if booted is None else "crashed or hung", qemu[2:]))
        # A panic replays the kernel log to the console (panic_print=0x20):
        # show the first report in it.
        first = next((i for i, l in enumerate(lines) if not l.startswith("@@")
                      and KERNEL_PROBLEM.search(l)), None)
        if first is not None:
            s.report = [l for l in lines[first:first + 150] if not l.startswith("@@")]
        suites.append(s)
    return suites


def known_skips():
    """(machine, suite, case) triples that may skip: the file known-skips."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "known-skips")
    known = set()
    for line in open(path):
        f = line.split()
        if len(f) >= 3 and not f[0].startswith("#"):
            known.add(tuple(f[:3]))
    return known


def known_failures():
    """{(machine, suite, case): reason} of mainline's selftests that the
    series cannot pass (the file mainline-known-failures); machine may be
    '*'."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "mainline-known-failures")
    known = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.split(None, 3)
            if len(f) >= 4 and not f[0].startswith("#"):
                known[tuple(f[:3])] = f[3].strip()
    return known


def apply_known_failures(s, kf):
    """Failures of mainline's own selftests that mainline-known-failures
    lists count apart; a listed case that passes fails, so that the list
    only ever names what still fails."""
    def listed(n):
        return kf.get((s.machine, s.name, n), kf.get(("*", s.name, n)))
    keep = []
    for n, r in s.failed:
        why = listed(n)
        if why is not None:
            s.kfailed.append((n, why))
        else:
            keep.append((n, r))
    s.failed = keep
    for n in s.passed:
        if listed(n) is not None:
            s.errors.append("%s passes but mainline-known-failures lists it: remove it" % n)


def main():
    res = sys.argv[1]
    machines = sys.argv[2:]
    known = known_skips()
    kf = known_failures()
    allsuites = []
    for m in machines:
        if not os.path.exists(os.path.join(res, m + ".log")):
            s = Suite(m, "(machine)")
            s.errors.append("no console log")
            allsuites.append(s)
            continue
        suites = parse_machine(res, m)
        if not suites:
            s = Suite(m, "(machine)")
            s.errors.append("ran no suite")
            suites = [s]
        for s in suites:
            if s.name.startswith("mainline-selftests:"):
                apply_known_failures(s, kf)
            for n, r in s.skipped:
                # MACHINE-debug (the debug kernel) skips what MACHINE does
                if (m, s.name, n) not in known and \
                        (m.removesuffix("-debug"), s.name, n) not in known:
                    s.errors.append("unexpected skip of %s (%s); known-skips lists the expected ones" % (n, r))
        allsuites += suites
    print("\n%-12s %-34s %6s %6s %6s %6s %6s" % ("machine", "suite", "pass", "fail", "skip",
                                               "kfail", "secs"))
    for s in allsuites:
        p, f, k = s.counts()
        print("%-12s %-34s %6d %6d %6d %6s %6s" % (s.machine, s.name, p, f, k,
                                                 len(s.kfailed) or "", getattr(s, "secs", "")))
    for s in allsuites:
        for n, r in s.failed:
            print("FAIL %s %s: %s" % (s.machine, s.name, n))
        for e in s.errors[:20]:
            print("FAIL %s %s: %s" % (s.machine, s.name, e))
        if len(s.errors) > 20:
            print("FAIL %s %s: ... %d more" % (s.machine, s.name, len(s.errors) - 20))
        if s.report and (s.failed or s.errors):
            print("---- kernel report (%s %s) ----" % (s.machine, s.name))
            print("\n".join(s.report))
            print("----")
    for s in allsuites:
        for n, r in s.kfailed:
            print("KNOWN-FAIL %s %s: %s (%s)" % (s.machine, s.name, n, r))
    for s in allsuites:
        for n, r in s.skipped:
            print("SKIP %s %s: %s (%s)" % (s.machine, s.name, n, r or "no reason given"))
    # What a check wants said loudly without failing (stable-check.sh: a
    # newer 6.12.y than the pin): @@NOTICE lines of any log.
    notices = []
    for m in machines:
        path = os.path.join(res, m + ".log")
        if os.path.exists(path):
            notices += [l[len("@@NOTICE "):].rstrip() for l in open(path, errors="replace")
                        if l.startswith("@@NOTICE ")]
    if notices:
        print("\n" + "#" * 72)
        for n in notices:
            print("# NOTICE: " + n)
        print("#" * 72)
    P = sum(s.counts()[0] for s in allsuites)
    F = sum(s.counts()[1] for s in allsuites)
    K = sum(s.counts()[2] for s in allsuites)
    KF = sum(len(s.kfailed) for s in allsuites)
    if KF:
        print("\n%d failures of mainline's selftests are listed in mainline-known-failures "
              "(counted apart, not as failed)" % KF)
    print("\n%d passed, %d failed, %d skipped" % (P, F, K))
    return 1 if F else 0


if __name__ == "__main__":
    sys.exit(main())

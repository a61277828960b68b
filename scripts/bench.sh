#!/bin/bash
# make bench: bench/iommufd_bench.c, the same binary (built against
# mainline's headers and mock ABI), on the series' x86_64 test kernel and
# on mainline 7.3's (Debian's linux-source-7.3, scripts/mainline.sh) built
# with the same fragments, each booted on the same machine (x86-mock) under
# QEMU's -icount (guest time counts guest instructions: shift=0, 1 ns per
# instruction, sleep=off), BENCH_RUNS runs each (default 3) of BENCH_N
# repetitions per operation (default 1000).  Prints the table (the median
# of the runs; spread = (max - min) / median, which must stay within 2%)
# and keeps it and the raw consoles in $CACHE/results-bench.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset PLAN SUITES APPEND QEMU_EXTRA
lock_cache
runs=${BENCH_RUNS:-3}
n=${BENCH_N:-1000}
res=$CACHE/results-bench
rm -rf "$res"
mkdir -p "$res"

# The series: make check's tree and build directory, built if needed
own_tree "$CHECK_TREE"
BUILD_PARTS=kernel bash "$TOP/scripts/build.sh" x86_64 "$CHECK_TREE" "$CACHE/build-check"
# Mainline: its fragments' options that only the series defines (its
# KUnit suites) are skipped, as make bisect skips them
mtree=$(bash "$TOP/scripts/mainline.sh" src)
FRAGS_LATER_OK=1 BUILD_PARTS=kernel bash "$TOP/scripts/build.sh" x86_64 "$mtree" \
	"$CACHE/build-bench-mainline"
# One binary for both, where make check keeps it (tests/mainline: make
# check's other tests stay as they are)
bash "$TOP/scripts/mainline.sh" selftests x86_64 "$res/bin" >/dev/null
for b in "$CACHE/build-check" "$CACHE/build-bench-mainline"; do
	mkdir -p "$b/x86_64/tests/mainline"
	cp "$res/bin/iommufd_bench" "$b/x86_64/tests/mainline/"
done

for k in series mainline; do
	case $k in
	series) b=$CACHE/build-check ;;
	mainline) b=$CACHE/build-bench-mainline ;;
	esac
	for r in $(seq 1 "$runs"); do
		PLAN="bench 1800 cd mainline && ./iommufd_bench -n $n" QEMU_EXTRA="-icount shift=0,sleep=off" \
			bash "$TOP/scripts/run-vm.sh" x86-mock "$b" "$res/$k-$r" >/dev/null 2>&1 || true
		cp "$res/$k-$r/x86-mock.log" "$res/$k-$r.log"
	done
done

python3 - "$res" "$runs" <<'PY'
import re, statistics, sys
res, runs = sys.argv[1], int(sys.argv[2])
def load(k):
    per = {}
    for r in range(1, runs + 1):
        for l in open("%s/%s-%d.log" % (res, k, r), errors="replace"):
            m = re.match(r"# OP (\S+) ns_per_call (\d+) ns_per_entry (\d+)", l)
            if m:
                per.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
            m = re.match(r"# MEM (\S+) bytes (-?\d+)", l)
            if m:
                per.setdefault("mem:" + m.group(1), []).append((int(m.group(2)), 0))
            if re.match(r"not ok ", l):
                print("FAILED on %s run %d: %s" % (k, r, l.strip()))
    return per
s, m = load("series"), load("mainline")
def med(v, i=0):
    return statistics.median(x[i] for x in v)
def spread(v):
    xs = [x[0] for x in v]
    md = statistics.median(xs)
    return (max(xs) - min(xs)) / md if md else 0
floor = med(s["floor"]) if "floor" in s else 0
out = ["| operation | series (ns/call) | mainline (ns/call) | ratio | series per entry | floor | spread s / m |",
       "|---|---|---|---|---|---|---|"]
bad = 0
for op in list(s) + [o for o in m if o not in s]:
    sv, mv = s.get(op), m.get(op)
    sm = med(sv) if sv else None
    mm = med(mv) if mv else None
    ratio = "%.2f" % (sm / mm) if sm and mm else "-"
    sp = "%.1f%% / %s" % (100 * spread(sv) if sv else 0,
                          "%.1f%%" % (100 * spread(mv)) if mv else "-")
    for v in (sv, mv):
        if v and len(v) == runs and spread(v) > 0.02 and not op.startswith("mem:"):
            bad = 1
    out.append("| %s | %s | %s | %s | %s | %d | %s |" % (
        op, sm if sm is not None else "-", mm if mm is not None else "-", ratio,
        med(sv, 1) if sv else "-", floor, sp))
t = "\n".join(out)
print(t)
open(res + "/table.md", "w").write(t + "\n")
if bad:
    print("WARNING: a spread above 2% (runs differ)")
PY

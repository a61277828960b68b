#!/bin/bash
# make bench: bench/iommufd_bench.c, the same binary (built against
# mainline's headers and mock ABI), on the series' test kernels and on
# mainline 7.3's (Debian's linux-source-7.3, scripts/mainline.sh) built
# with the same fragments, each booted on the same machines (x86-mock: the
# mock driver; arm64-smmu: the mock, and the vSMMU of QEMU's SMMUv3 with
# edu through VFIO) under QEMU's -icount (guest time counts guest
# instructions: shift=0, 1 ns per instruction, sleep=off) with one vCPU
# (with two, a kernel's results move from boot to boot: the other CPU's
# work lands in the timed loops differently), BENCH_RUNS runs
# each (default 3); in a run, each operation is timed in 5 rounds of
# BENCH_N repetitions (default 1000) and the median round counts.
# BENCH_MACHINES picks machines.  Prints one table (the median of the runs;
# spread = (max - min) / median, which must stay within 2%) and keeps it
# and the raw consoles in $CACHE/results-bench.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset PLAN SUITES APPEND QEMU_EXTRA
lock_cache
runs=${BENCH_RUNS:-3}
n=${BENCH_N:-1000}
res=$CACHE/results-bench
rm -rf "$res"
mkdir -p "$res"

# The machines, each with its architecture and the series' build directory
# (make check's); mainline's kernels are built beside them
machines=${BENCH_MACHINES:-x86-mock arm64-smmu}
arch_of() {
	case $1 in
	x86-mock) echo x86_64 ;;
	arm64-smmu) echo arm64 ;;
	*) die "make bench: no machine $1 (x86-mock, arm64-smmu)" ;;
	esac
}

# Mainline's source; arm64's with bench/mainline-vsmmu-gate.patch, which
# lets mainline offer the vSMMU on QEMU's SMMUv3 (no FWB, no CANWBS) as
# the series' test kernels do with arm_smmu_v3.iommufd_test_incoherent_vsmmu=1.
# The patched tree is a hard-linked copy: the patched file is a new one.
mtree=$(bash "$TOP/scripts/mainline.sh" src)
gated_tree() {
	local t=$CACHE/mainline/bench-src stamp
	stamp="$mtree $(sha256sum "$TOP/bench/mainline-vsmmu-gate.patch" | cut -c1-16)"
	if [ "$(cat "$t.stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$t" "$t.stamp"
		cp -al "$mtree" "$t"
		patch -s -p1 -d "$t" < "$TOP/bench/mainline-vsmmu-gate.patch"
		echo "$stamp" > "$t.stamp"
	fi
	echo "$t"
}

own_tree "$CHECK_TREE"
for m in $machines; do
	a=$(arch_of "$m")
	# The series: make check's tree and build directory, built if needed
	BUILD_PARTS=kernel bash "$TOP/scripts/build.sh" "$a" "$CHECK_TREE" "$CACHE/build-check"
	# Mainline: its fragments' options that only the series defines (its
	# KUnit suites) are skipped, as make bisect skips them
	# (and, on arm64, the options of bench/mainline-arm64.config)
	t=$mtree extra=
	if [ "$a" = arm64 ]; then
		t=$(gated_tree)
		extra=$TOP/bench/mainline-arm64.config
	fi
	EXTRA_CONFIGS=$extra FRAGS_LATER_OK=1 BUILD_PARTS=kernel \
		bash "$TOP/scripts/build.sh" "$a" "$t" "$CACHE/build-bench-mainline"
	# One binary for both, where make check keeps it (tests/mainline: make
	# check's other tests stay as they are)
	bash "$TOP/scripts/mainline.sh" selftests "$a" "$res/bin-$a" >/dev/null
	for b in "$CACHE/build-check" "$CACHE/build-bench-mainline"; do
		mkdir -p "$b/$a/tests/mainline"
		cp "$res/bin-$a/iommufd_bench" "$b/$a/tests/mainline/"
	done
done

for m in $machines; do
	for k in series mainline; do
		case $k in
		series) b=$CACHE/build-check ;;
		mainline) b=$CACHE/build-bench-mainline ;;
		esac
		for r in $(seq 1 "$runs"); do
			log "make bench: $m, $k, run $r"
			PLAN="bench 3600 cd mainline && ./iommufd_bench -n $n" \
			QEMU_EXTRA="-icount shift=0,sleep=off -smp 1" \
				bash "$TOP/scripts/run-vm.sh" "$m" "$b" "$res/$m-$k-$r" >/dev/null 2>&1 || true
			cp "$res/$m-$k-$r/$m.log" "$res/$m-$k-$r.log"
		done
	done
done

python3 - "$res" "$runs" $machines <<'PY'
import re, statistics, sys
res, runs, machines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(mach, k):
    per = {}
    for r in range(1, runs + 1):
        try:
            f = open("%s/%s-%s-%d.log" % (res, mach, k, r), errors="replace")
        except OSError:
            print("MISSING: %s %s run %d" % (mach, k, r))
            continue
        for l in f:
            m = re.match(r"# OP (\S+) ns_per_call (\d+) ns_per_entry (\d+)", l)
            if m:
                per.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
            m = re.match(r"# MEM (\S+) bytes (-?\d+)", l)
            if m:
                per.setdefault("mem:" + m.group(1), []).append((int(m.group(2)), 0))
            if re.match(r"not ok ", l) or re.search(r" # SKIP ", l):
                print("%s on %s %s run %d: %s" % ("SKIPPED" if "SKIP" in l else "FAILED",
                                                mach, k, r, l.strip()))
    return per
def med(v, i=0):
    return statistics.median(x[i] for x in v)
def spread(v):
    xs = [x[0] for x in v]
    md = statistics.median(xs)
    return (max(xs) - min(xs)) / md if md else 0
out = ["| machine | operation | series (ns/call) | mainline (ns/call) | ratio | per entry s / m | floor s / m | spread s / m |",
       "|---|---|---|---|---|---|---|---|"]
bad = 0
for mach in machines:
    s, m = load(mach, "series"), load(mach, "mainline")
    fl = "%s / %s" % (med(s["floor"]) if "floor" in s else "-",
                      med(m["floor"]) if "floor" in m else "-")
    for op in list(s) + [o for o in m if o not in s]:
        sv, mv = s.get(op), m.get(op)
        sm = med(sv) if sv else None
        mm = med(mv) if mv else None
        ratio = "%.2f" % (sm / mm) if sm and mm else "-"
        sp = "%s / %s" % ("%.1f%%" % (100 * spread(sv)) if sv else "-",
                          "%.1f%%" % (100 * spread(mv)) if mv else "-")
        mem = op.startswith("mem:")
        for v in (sv, mv):
            if v and len(v) == runs and spread(v) > 0.02 and not mem:
                bad = 1
        pe = "" if mem else "%s / %s" % (med(sv, 1) if sv else "-", med(mv, 1) if mv else "-")
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            mach, op, sm if sm is not None else "-", mm if mm is not None else "-",
            ratio, pe, "" if mem else fl, sp))
t = "\n".join(out)
print(t)
open(res + "/table.md", "w").write(t + "\n")
if bad:
    print("WARNING: a spread above 2% (runs differ)")
PY

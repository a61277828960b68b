#!/bin/bash
# make bench-profile: where a kernel spends one operation of bench/.
# Boots MACHINE (x86-mock, arm64-smmu) on the series' kernel (make check's
# build directory; "dev": the dev tree's) or on mainline 7.3's (make
# bench's), runs "iommufd_bench -o OP -n N" under -icount, and samples
# every vCPU's program counter through QEMU's QMP socket (stop, "info
# registers -a", cont) while the operation runs (the bench marks its start
# and end on the console).  The kernel's samples are resolved with its
# System.map (no KASLR in these kernels) and the functions printed by
# share, idle and userspace apart.  The samples are taken in host time: a
# share is of QEMU's effort, which follows guest instructions but weighs
# some more (a "rep movs" runs a translation block per element): it says
# where to look, make bench says how much.
#   scripts/bench-profile.sh MACHINE OP [series|dev|mainline] [N]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset PLAN SUITES APPEND QEMU_EXTRA
m=${1:?MACHINE (x86-mock, arm64-smmu)}
op=${2:?OP (an operation of iommufd_bench, e.g. vsmmu_invalidate_256)}
k=${3:-series}
n=${4:-100000}
case $m in
x86-mock) a=x86_64 ;;
arm64-smmu) a=arm64 ;;
*) die "bench-profile: no machine $m" ;;
esac
case $k in
series) b=$CACHE/build-check ;;
dev) b=$CACHE/build-dev ;;
mainline) b=$CACHE/build-bench-mainline ;;
*) die "bench-profile: series, dev or mainline, not $k" ;;
esac
[ -f "$b/$a/kernel/System.map" ] || die "bench-profile: no $k kernel for $a: run make bench (or make check) first"
res=$CACHE/results-profile/$m-$k-$op
rm -rf "$res"
mkdir -p "$res"
bash "$TOP/scripts/mainline.sh" selftests "$a" "$res/bin" >/dev/null
mkdir -p "$b/$a/tests/mainline"
cp "$res/bin/iommufd_bench" "$b/$a/tests/mainline/"

sock=$res/qmp.sock
PLAN="profile 3600 cd mainline && ./iommufd_bench -o $op -n $n" \
QEMU_EXTRA="-icount shift=0,sleep=off -smp 1 -qmp unix:$sock,server=on,wait=off" \
	bash "$TOP/scripts/run-vm.sh" "$m" "$b" "$res" >/dev/null 2>&1 &
vm=$!
python3 - "$sock" "$res/$m.log" "$b/$a/kernel/System.map" "$op" "$res/samples" <<'PY'
import bisect, collections, json, os, re, socket, sys, time
sock, log, smap, op, out = sys.argv[1:6]
start = "iommufd_bench: profile start " + op
end = "iommufd_bench: profile end " + op
def logtext():
    try:
        return open(log, errors="replace").read()
    except OSError:
        return ""
t0 = time.time()
while start not in logtext():
    if "@@QEMU rc=" in logtext() or time.time() - t0 > 600:
        sys.exit("bench-profile: the operation never started (see %s)" % log)
    time.sleep(0.2)
s = socket.socket(socket.AF_UNIX)
for i in range(100):
    try:
        s.connect(sock)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rw")
def cmd(c, **a):
    f.write(json.dumps(dict({"execute": c}, **({"arguments": a} if a else {}))) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
f.readline()
cmd("qmp_capabilities")
pcs = []
while True:
    # Stopped, every vCPU has left its translation block: the counters are
    # where it is (running, they are where it last left one)
    cmd("stop")
    r = cmd("human-monitor-command", **{"command-line": "info registers -a"})
    cmd("cont")
    if "error" in r:
        break
    txt = r["return"]
    pcs += [int(x, 16) for x in re.findall(r"(?:RIP|PC)=([0-9a-f]{16})", txt, re.I)]
    if end in logtext() or "@@QEMU rc=" in logtext():
        break
    time.sleep(0.005)
syms = []
for l in open(smap):
    a, t, name = l.split()[:3]
    if t in "tTwW":
        syms.append((int(a, 16), name))
syms.sort()
addrs = [x[0] for x in syms]
c = collections.Counter()
for pc in pcs:
    if pc < addrs[0]:
        c["(user)"] += 1
        continue
    c[syms[bisect.bisect_right(addrs, pc) - 1][1]] += 1
idle = sum(v for k, v in c.items() if re.search(r"idle|cpu_do_idle|halt|wfi", k))
total = sum(c.values())
busy = total - idle
with open(out, "w") as o:
    o.write("%d samples, %d idle (another vCPU), %d busy\n" % (total, idle, busy))
    for k, v in c.most_common():
        if re.search(r"idle|cpu_do_idle|halt|wfi", k):
            continue
        o.write("%6.2f%%  %6d  %s\n" % (100.0 * v / max(busy, 1), v, k))
print(open(out).read().rstrip()[:6000])
PY
wait $vm || true
grep -E '^# OP ' "$res/$m.log" || true
echo "samples: $res/samples"

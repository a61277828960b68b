#!/bin/bash
# run-vm.sh MACHINE BUILD RESULTS: boot one test machine under TCG and
# write its console to RESULTS/MACHINE.log.  Machines:
#   x86-mock    x86_64, no IOMMU model: the mock (iommufd, fail_nth, fuzz) + KUnit
#   arm64-smmu  arm64 virt, SMMUv3 stage=nested, edu: KUnit, selftests, DMA
#   x86-vtd     q35, VT-d scalable mode with first stage and PASIDs, edu: DMA
#   x86-amd     q35, AMD-Vi, edu: DMA
#   arm64-distro  arm64-smmu on the distribution kernel (modules)
#   arm64-qemu  arm64-smmu with EL2: QEMU 11.1 in L1 gives L2 a vSMMU (nesting)
# SUITES (space separated names) narrows the plan, e.g. SUITES=iommufd;
# PLAN replaces it (lines of NAME TIMEOUT COMMAND), for debugging.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# MACHINE-debug is MACHINE booting the debug kernel that BUILD holds
# (configs/debug.config); its console goes to RESULTS/MACHINE-debug.log.
m=${1:?usage: run-vm.sh MACHINE BUILD RESULTS}; build=$2; res=$3
base_m=${m%-debug}
mkdir -p "$res"
edu="-device edu,dma_mask=0xffffffffffffffff"
mem=2G
# The mock driver's suites (hugepages: the hugepage variants map with
# MAP_HUGETLB), and the fuzzer (fuzz/): FUZZ_SECS seconds (default 60)
# from seed FUZZ_SEED (default 1; make fuzz picks one at random) with
# FUZZ_JOBS threads (default 1: one thread replays the same operations
# from a seed; make fuzz uses 2).
fuzz_secs=${FUZZ_SECS:-60}
mock="iommufd 300 echo 256 > /proc/sys/vm/nr_hugepages; ./iommufd
iommufd_fail_nth 600 ./iommufd_fail_nth
fuzz $((fuzz_secs + 120)) ./iommufd_fuzz -s ${FUZZ_SEED:-1} -t $fuzz_secs -j ${FUZZ_JOBS:-1}"
# The distribution machines: the modules' cases around the suites, twice
# (vm/distro-modules.sh).  Suite names are unique in a plan: the second
# round's end in .2.
distro_plan="load 60 ./distro-modules.sh load
iommufd 300 echo 256 > /proc/sys/vm/nr_hugepages; ./iommufd
iommufd_fail_nth 600 ./iommufd_fail_nth
edu_dma 180 ./iommufd_edu_dma
unload 60 ./distro-modules.sh unload
load.2 60 ./distro-modules.sh load
iommufd.2 300 ./iommufd
edu_dma.2 180 ./iommufd_edu_dma
unload.2 60 ./distro-modules.sh unload"
# Mainline's own selftests (scripts/mainline.sh: built from mainline's
# source against its own uAPI and mock-test headers), where make check put
# them: the conformance suites of the mock machines.
mainline_plan() {
	[ -x "$build/$1/tests/mainline/iommufd" ] || return 0
	echo "mainline-selftests:iommufd 300 echo 256 > /proc/sys/vm/nr_hugepages; cd mainline && ./iommufd"
	echo "mainline-selftests:iommufd_fail_nth 600 cd mainline && ./iommufd_fail_nth"
}
# The benchmark (bench/, built against mainline's headers), once and short
# so that it cannot rot: every operation must work (make bench measures)
bench_plan() {
	[ -x "$build/$1/tests/mainline/iommufd_bench" ] || return 0
	echo "bench 120 cd mainline && ./iommufd_bench -n 20"
}
case "$base_m" in
x86-mock)
	arch=x86_64
	qemu=(qemu-system-x86_64 -M q35 -cpu max)
	append="console=ttyS0"
	plan="#kunit intel-iommu-pasid-kunit
#kunit amd-iommu-dte-kunit
$mock
$(mainline_plan x86_64)
$(bench_plan x86_64)" ;;
arm64-smmu)
	arch=arm64
	qemu=(qemu-system-aarch64 -M virt,gic-version=3,iommu=smmuv3
	      -global arm-smmuv3.stage=nested -cpu max,pauth-impdef=on -nic none $edu)
	# The emulated SMMU has no FWB: lift the vSMMU gate (test kernels only)
	append="console=ttyAMA0 arm_smmu_v3.iommufd_test_incoherent_vsmmu=1"
	plan="#kunit arm-smmu-v3-kunit-test
$mock
edu_dma 180 ./iommufd_edu_dma
$(mainline_plan arm64)
$(bench_plan arm64)" ;;
arm64-distro)
	# The distribution kernel (BUILD_FLAVOUR=distro: Debian's config,
	# iommufd and VFIO as modules): arm64-smmu's machine; the modules are
	# loaded, the mock suites and the SMMU's nested DMA run, everything is
	# unloaded, then loaded and run again.
	arch=arm64
	qemu=(qemu-system-aarch64 -M virt,gic-version=3,iommu=smmuv3
	      -global arm-smmuv3.stage=nested -cpu max,pauth-impdef=on -nic none $edu)
	# printk.time=0: Debian's config stamps every console line
	append="console=ttyAMA0 printk.time=0 arm_smmu_v3.iommufd_test_incoherent_vsmmu=1"
	plan="$distro_plan" ;;
arm64-qemu)
	# A real VMM on the series: L1 is the distribution kernel at EL2 (KVM)
	# on arm64-smmu's machine, with Debian's arm64 QEMU 11.1 (scripts/vmm.sh)
	# as its userspace; that QEMU gives an L2 guest (the same kernel, UEFI
	# and ACPI) a vSMMU backed by the series' nesting and passes edu
	# through; L2's driver (vm/l2) drives edu (vm/arm64-qemu.sh)
	arch=arm64
	qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3,iommu=smmuv3
	      -global arm-smmuv3.stage=nested -cpu max,pauth-impdef=on -nic none $edu)
	mem=3G
	append="console=ttyAMA0 printk.time=0 arm_smmu_v3.iommufd_test_incoherent_vsmmu=1"
	plan="setup 120 ./arm64-qemu.sh setup
l2 900 ./arm64-qemu.sh run
l2-memfd 900 ./arm64-qemu.sh run memfd" ;;
x86-vtd)
	arch=x86_64
	qemu=(qemu-system-x86_64 -M q35,kernel-irqchip=split -cpu max
	      -device intel-iommu,intremap=on,x-scalable-mode=on,x-flts=on,x-pasid-mode=on $edu)
	append="console=ttyS0 intel_iommu=on,sm_on"
	plan="edu_dma 180 ./iommufd_edu_dma" ;;
x86-amd)
	arch=x86_64
	qemu=(qemu-system-x86_64 -M q35 -cpu max -device amd-iommu,intremap=off,pt=off $edu)
	append="console=ttyS0 iommufd.allow_unsafe_interrupts=1"
	plan="edu_dma 180 ./iommufd_edu_dma" ;;
*) die "unknown machine $m" ;;
esac
case "$arch" in x86_64) kernel=$build/x86_64/bzImage ;; arm64) kernel=$build/arm64/Image ;; esac
[ -f "$kernel" ] || die "$kernel missing: build first"

[ -n "${PLAN:-}" ] && plan=$PLAN
# No empty lines (a suite a build lacks, e.g. the mainline ones on a debug
# kernel, leaves one)
plan=$(printf '%s\n' "$plan" | sed '/^[[:space:]]*$/d')
if [ -n "${SUITES:-}" ]; then
	plan=$(echo "$plan" | while read -r n rest; do
		case " $SUITES " in *" $n "*) echo "$n $rest" ;; esac; done)
fi
# A slow kernel (a debug one: its build says so in time-scale) gets its
# suites' timeouts scaled, and more time to boot.
scale=$(cat "$build/$arch/time-scale" 2>/dev/null || echo 1)
boot=240
if [ "$scale" != 1 ]; then
	boot=600
	plan=$(echo "$plan" | while read -r n t rest; do
		case "$n" in '#'*) echo "$n $t $rest" ;; *) echo "$n $((t * scale)) $rest" ;; esac
	done)
fi
printf '%s\n' "$plan" > "$res/$m.plan"
# arm64-qemu's L1 userspace: QEMU 11.1 and its libraries (Debian's), the
# L2 kernel (this one) and L2's initramfs (busybox, vm/l2/init, the test
# driver build.sh built against this kernel).
overlay=
if [ "$base_m" = arm64-qemu ]; then
	[ -f "$build/$arch/l2/edu_guest.ko" ] || die "$build/$arch/l2/edu_guest.ko missing: build the distribution kernel"
	vroot=$(bash "$TOP/scripts/vmm.sh" root)
	[ -x "$vroot/usr/bin/qemu-system-aarch64" ] || die "no L1 userspace ($vroot)"
	overlay=$(mktemp -d)
	trap 'rm -rf "$overlay"' EXIT
	mkdir -p "$overlay"/{l2,tests} "$overlay/l2/root"/{bin,dev,proc,sys,tmp}
	cp "$kernel" "$overlay/l2/Image"
	cp "$CACHE/busybox-arm64/bin/busybox" "$overlay/l2/root/bin/"
	for a in sh mount dmesg grep sed awk sleep insmod poweroff printf tr cat uname; do
		ln -s busybox "$overlay/l2/root/bin/$a"
	done
	cp "$TOP/vm/l2/init" "$build/$arch/l2/edu_guest.ko" "$overlay/l2/root/"
	chmod +x "$overlay/l2/root/init"
	(cd "$overlay/l2/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$overlay/l2/initrd"
	rm -rf "$overlay/l2/root"
	cp "$TOP/vm/arm64-qemu.sh" "$overlay/tests/"
fi
# A distribution kernel's modules (build.sh installs them) go in too.
bash "$TOP/scripts/initramfs.sh" "$arch" "$build/$arch/tests" "$res/$m.plan" "$res/$m.cpio" \
	"$build/$arch/modules" "${overlay:+$vroot:$overlay}"

# The whole VM gets the sum of its suites' timeouts plus boot time.
tmo=$(awk -v b=$boot '$1 !~ /^#/ {s += $2} END {print s + b}' "$res/$m.plan")
log "$m: booting ($arch, timeout ${tmo}s)"
start=$(date +%s)
set +e
timeout -k 10 "$tmo" "${qemu[@]}" -smp 2 -m "$mem" -display none -no-reboot \
	-monitor none -serial stdio -kernel "$kernel" -initrd "$res/$m.cpio" \
	-append "$append panic=-1 oops=panic panic_print=0x20 ${APPEND:-}" ${QEMU_EXTRA:-} </dev/null > "$res/$m.log" 2>&1
rc=$?
set -e
echo "@@QEMU rc=$rc secs=$(( $(date +%s) - start ))" >> "$res/$m.log"
# arm64-qemu: QEMU's iommufd calls with their return codes, per suite
[ "$base_m" = arm64-qemu ] &&
	sed -n 's/^@@SUITE /# suite /p; s/^# TRACE: //p' "$res/$m.log" > "$res/$m.trace"
log "$m: finished in $(( $(date +%s) - start ))s (qemu rc=$rc)"
rm -f "$res/$m.cpio"

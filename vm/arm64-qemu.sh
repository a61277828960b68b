#!/bin/sh
# The arm64-qemu machine's suites, in L1 (the distribution kernel with the
# series, at EL2 with KVM, on L0's emulated SMMUv3 with edu):
#   arm64-qemu.sh setup        modules, edu bound to vfio-pci, /dev/kvm
#   arm64-qemu.sh run [memfd]  unmodified QEMU 11.1 (Debian's arm64 build)
#       gives an L2 guest a vSMMU (arm-smmuv3,accel=on) backed by the
#       series' nesting and passes edu through; L2 (/l2: the same kernel,
#       UEFI + ACPI) runs edu_guest.ko.  With memfd, L2's RAM is a
#       memory-backend-memfd (QEMU maps it with IOMMU_IOAS_MAP_FILE).
# TAP out: L2's own results, then QEMU's iommufd calls (its trace events,
# each with its return code): every call but the map of the device's BAR
# must succeed.  L2's console and the trace are printed as "# " lines.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
edu() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
			{ echo "${d##*/}"; return 0; }
	done
	return 1
}

setup() {
	for m in iommufd vfio-pci; do
		if modprobe "$m"; then ok "modprobe $m"; else nok "modprobe $m"; fi
	done
	bdf=$(edu) || { nok "no edu device"; echo "1..$n"; return; }
	d=/sys/bus/pci/devices/$bdf
	echo vfio-pci > "$d/driver_override"
	[ -e "$d/driver" ] && echo "$bdf" > "$d/driver/unbind"
	echo "$bdf" > /sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	cdev=$(ls "$d/vfio-dev" 2>/dev/null)
	if [ "$drv" = vfio-pci ] && [ -c "/dev/vfio/devices/$cdev" ]; then
		ok "edu $bdf bound to vfio-pci, cdev /dev/vfio/devices/$cdev"
	else
		nok "edu $bdf: driver '$drv', cdev '$cdev'"
	fi
	for c in /dev/kvm /dev/iommu; do
		if [ -c "$c" ]; then ok "$c"; else nok "$c missing"; fi
	done
	if qemu-system-aarch64 --version | head -1 | grep -q 'version 11\.1'; then
		ok "QEMU: $(qemu-system-aarch64 --version | head -1)"
	else
		nok "QEMU: $(qemu-system-aarch64 --version 2>&1 | head -1)"
	fi
	echo "1..$n"
}

run() {
	bdf=$(edu) || { nok "no edu device"; echo "1..$n"; return; }
	mem="-m 512M"
	[ "${1:-}" = memfd ] &&
		mem="-m 512M -object memory-backend-memfd,id=ram,size=512M -machine memory-backend=ram"
	# shellcheck disable=SC2086
	qemu-system-aarch64 -M virt,gic-version=3,acpi=on -accel kvm -cpu host \
		-smp 1 $mem -nodefaults -display none -monitor none -no-reboot \
		-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd \
		-object iommufd,id=iommufd0 \
		-device arm-smmuv3,primary-bus=pcie.0,accel=on,ats=off,ril=on,ssidsize=0,oas=44,cmdqv=off \
		-device "vfio-pci,host=$bdf,iommufd=iommufd0" \
		-kernel /l2/Image -initrd /l2/initrd \
		-append "console=ttyAMA0 printk.time=0 iommu.passthrough=0 iommu.strict=1 panic=-1" \
		-serial stdio -trace 'iommufd_*' -D /tmp/qemu.trace \
		</dev/null 2>/tmp/qemu.err | tr -d '\r' > /tmp/l2.log
	rc=$?
	sed 's/^/# L2: /' /tmp/l2.log
	sed 's/^/# QEMU: /' /tmp/qemu.err
	# L2's own results
	sed -n 's/^@@L2 \(\(not \)\{0,1\}ok \)[0-9]* \(- .*\)$/\1\3/p' /tmp/l2.log > /tmp/tap
	while read -r l; do
		case "$l" in
		"not ok "*) nok "l2: ${l#not ok - }" ;;
		"ok "*) ok "l2: ${l#ok - }" ;;
		esac
	done < /tmp/tap
	if grep -q '^@@L2 DONE' /tmp/l2.log; then
		ok "l2: finished, QEMU exited with $rc"
	else
		nok "l2: did not finish (QEMU exited with $rc)"
	fi
	trace "${1:-plain}"
	echo "1..$n"
}

# QEMU's iommufd trace events (its "log" trace backend): one line per call,
# most with the ioctl's return value last in parentheses (-1: failed; the
# errno is in QEMU's own warning).  Printed whole ("# TRACE: "; run-vm.sh
# keeps them in RESULTS/arm64-qemu.trace).
trace() {
	mode=$1
	sed 's/^[0-9]*@[0-9.]*://' /tmp/qemu.trace | grep '^iommufd_' > /tmp/calls
	sed 's/^/# TRACE: /' /tmp/calls
	calls=$(grep -c . /tmp/calls)
	# The one failure allowed: edu's BAR (L2's address of it, from L2's
	# log), which QEMU maps for peer-to-peer DMA; a kernel without VFIO
	# dma-buf gives EFAULT, QEMU warns "PCI BAR?", unmaps what it could
	# not map (ENOENT) and goes on.  Any other failure is the series'.
	set -- $(sed -n 's/^pci 0000:00:01\.0: BAR 0 \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\]$/\1 \2/p' /tmp/l2.log | tail -1)
	bar=none
	[ $# = 2 ] && bar="iova=$(printf '0x%x' "$1") size=$(printf '0x%x' $(($2 - $1 + 1)))"
	grep -E '\((-[0-9]+|[1-9][0-9]*)\)$' /tmp/calls > /tmp/failed
	grep -E "^iommufd_backend_(map_dma|unmap_dma_non_exist) .* $bar( |$)" /tmp/failed > /tmp/barfail
	grep -vxF -f /tmp/barfail /tmp/failed > /tmp/other
	nbar=$(grep -c '^iommufd_backend_map_dma' /tmp/barfail)
	efault=$(grep -c 'IOMMU_IOAS_MAP failed: Bad address, PCI BAR?' /tmp/qemu.err)
	if [ "$calls" -gt 0 ] && ! grep -q . /tmp/other && [ "$nbar" = "$efault" ]; then
		ok "qemu: $calls iommufd calls, none failed but the $nbar map(s) of edu's BAR ($bar, EFAULT) and their unmap (ENOENT)"
	else
		nok "qemu: $calls iommufd calls; failed beyond the BAR ($bar; $nbar failed maps, $efault EFAULT warnings): $(head -3 /tmp/other | tr '\n' ';')"
	fi
	# The order iommufd_edu_dma's qemu_smmuv3_sequence replays: the nest
	# parent, guest RAM mapped, the vIOMMU, two nested HWPTs (the guest's
	# abort and bypass STEs), the vDEVICE when the guest finds the device,
	# the vEVENTQ when it enables its event queue, then the guest's stage-1
	# STE as a third nested HWPT, attached.
	awk '
		/^iommufd_backend_alloc_ioas / && !a { a = 1; print "ioas" }
		/^iommufd_backend_alloc_hwpt .*flags=0x1 / && !p { p = 1; print "nest_parent" }
		/^iommufd_backend_map(_file)?_dma .*iova=0x40000000 .*\(0\)$/ && !r { r = 1; print "map_ram" }
		/^iommufd_backend_alloc_viommu .*\(0\)$/ && !v { v = 1; print "viommu" }
		/^iommufd_backend_alloc_hwpt .*pt_id=[0-9]* flags=0x0 hwpt_type=2 .*\(0\)$/ { if (++h <= 3) print "nested" h }
		/^iommufd_backend_alloc_vdev .*\(0\)$/ && !d { d = 1; print "vdevice" }
		/^iommufd_viommu_alloc_eventq .*\(0\)$/ && !e { e = 1; print "veventq" }
	' /tmp/calls | tr '\n' ' ' > /tmp/order
	want="ioas nest_parent map_ram viommu nested1 nested2 vdevice veventq nested3 "
	if [ "$(cat /tmp/order)" = "$want" ]; then
		ok "qemu: the order the replay test follows: $want"
	else
		nok "qemu: order $(cat /tmp/order), the replay test's: $want"
	fi
	if grep -q '^iommufd_backend_invalidate_cache .*entry_num=1 done_num=1 .*(0)$' /tmp/calls; then
		ok "qemu: $(grep -c '^iommufd_backend_invalidate_cache' /tmp/calls) invalidations of one entry each through the vIOMMU"
	else
		nok "qemu: no invalidation through the vIOMMU"
	fi
	if [ "$mode" = memfd ]; then
		if grep -q '^iommufd_backend_map_file_dma .*iova=0x40000000 .*(0)$' /tmp/calls; then
			ok "qemu: guest RAM mapped with IOMMU_IOAS_MAP_FILE: $(grep -m1 '^iommufd_backend_map_file_dma .*iova=0x40000000' /tmp/calls)"
		else
			nok "qemu: guest RAM on memfd not mapped with IOMMU_IOAS_MAP_FILE"
		fi
	fi
}

case "$1" in
setup) setup ;;
run) shift; run "$@" ;;
esac

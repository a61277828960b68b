#!/bin/sh
# The arm64-qemu machine's suites, in L1 (the distribution kernel with the
# series, at EL2 with KVM, on L0's emulated SMMUv3 with edu):
#   arm64-qemu.sh setup        modules, edu bound to vfio-pci, /dev/kvm
#   arm64-qemu.sh run [memfd]  unmodified QEMU 11.1 (Debian's arm64 build)
#       gives an L2 guest a vSMMU (arm-smmuv3,accel=on) backed by the
#       series' nesting and passes edu through; L2 (/l2: the same kernel,
#       UEFI + ACPI) runs edu_guest.ko.  With memfd, L2's RAM is a
#       memory-backend-memfd (QEMU maps it with IOMMU_IOAS_MAP_FILE).
# TAP out, with a fixed plan: L2's own results, then QEMU's iommufd calls
# (its trace events, each with its return code): every call but the map of
# the device's BAR must succeed, in the order the replay test follows.
# Details, L2's console and the trace are "# " lines.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() {	# check NAME COMMAND...: ok if COMMAND succeeds
	c=$1
	shift
	if "$@"; then ok "$c"; else nok "$c"; fi
}
edu() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
			{ echo "${d##*/}"; return 0; }
	done
	return 1
}

setup() {
	echo "1..6"
	check modprobe_iommufd modprobe iommufd
	check modprobe_vfio_pci modprobe vfio-pci
	bdf=$(edu)
	d=/sys/bus/pci/devices/$bdf
	if [ -n "$bdf" ]; then
		echo vfio-pci > "$d/driver_override"
		[ -e "$d/driver" ] && echo "$bdf" > "$d/driver/unbind"
		echo "$bdf" > /sys/bus/pci/drivers_probe
	fi
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	cdev=$(ls "$d/vfio-dev" 2>/dev/null)
	echo "# edu '$bdf': driver '$drv', cdev '$cdev'"
	check edu_vfio_cdev [ -n "$bdf" -a "$drv" = vfio-pci -a -c "/dev/vfio/devices/$cdev" ]
	check dev_kvm [ -c /dev/kvm ]
	check dev_iommu [ -c /dev/iommu ]
	v=$(qemu-system-aarch64 --version 2>&1 | head -1)
	echo "# $v"
	check qemu_11_1 sh -c "echo '$v' | grep -q 'version 11\.1\.'"
}

run() {
	mode=${1:-plain}
	# L2's results (edu_guest.c's 7 cases and its init's 4) + 2 here + the
	# trace's 3 (4 on memfd)
	plan=16
	[ "$mode" = memfd ] && plan=17
	echo "1..$plan"
	rm -f /tmp/qemu.trace /tmp/qemu.err /tmp/qemu.rc /tmp/l2.log
	bdf=$(edu) || bdf=none
	mem="-m 512M"
	[ "$mode" = memfd ] &&
		mem="-m 512M -object memory-backend-memfd,id=ram,size=512M -machine memory-backend=ram"
	# Its own time limit, under the suite's: a hung guest must not leave
	# QEMU holding the device for the next suite
	# shellcheck disable=SC2086
	{ timeout 600 qemu-system-aarch64 -M virt,gic-version=3,acpi=on -accel kvm -cpu host \
		-smp 1 $mem -nodefaults -display none -monitor none -no-reboot \
		-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd \
		-object iommufd,id=iommufd0 \
		-device arm-smmuv3,primary-bus=pcie.0,accel=on,ats=off,ril=on,ssidsize=0,oas=44,cmdqv=off \
		-device "vfio-pci,host=$bdf,iommufd=iommufd0" \
		-kernel /l2/Image -initrd /l2/initrd \
		-append "console=ttyAMA0 printk.time=0 iommu.passthrough=0 iommu.strict=1 panic=-1" \
		-serial stdio -trace 'iommufd_*' -D /tmp/qemu.trace \
		</dev/null 2>/tmp/qemu.err; echo $? > /tmp/qemu.rc; } | tr -d '\r' > /tmp/l2.log
	rc=$(cat /tmp/qemu.rc 2>/dev/null || echo none)
	sed 's/^@@L2 # dmesg: /# L2 dmesg: /; s/^@@L2 /# L2: /; t; s/^/# L2 console: /' /tmp/l2.log
	sed 's/^/# QEMU: /' /tmp/qemu.err
	# L2's results, renumbered; its plan must be whole
	sed -n 's/^@@L2 \(\(not \)\{0,1\}ok\) [0-9]* - \(.*\)$/\3 \1/p' /tmp/l2.log > /tmp/tap
	while read -r name r; do
		case "$r" in
		ok) ok "l2_$name" ;;
		*) nok "l2_$name" ;;
		esac
	done < /tmp/tap
	l2plan=$(sed -n 's/^@@L2 1\.\.\([0-9]*\)$/\1/p' /tmp/l2.log)
	l2n=$(grep -c . /tmp/tap)
	echo "# L2: plan ${l2plan:-none}, $l2n results; QEMU exit code $rc"
	complete=no
	[ "${l2plan:-x}" = 11 ] && [ "$l2n" = 11 ] && grep -q '^@@L2 DONE 11$' /tmp/l2.log &&
		complete=yes
	check l2_complete [ $complete = yes ]
	check qemu_exit_0 [ "$rc" = 0 ]
	trace "$mode"
}

# QEMU's iommufd trace events (its "log" trace backend): one line per call,
# most with the ioctl's return value last in parentheses (-1: failed; the
# errno is in QEMU's own warning).  Printed whole ("# TRACE: "; run-vm.sh
# keeps them in RESULTS/arm64-qemu.trace).
trace() {
	mode=$1
	sed 's/^[0-9]*@[0-9.]*://' /tmp/qemu.trace 2>/dev/null | grep '^iommufd_' > /tmp/calls
	sed 's/^/# TRACE: /' /tmp/calls
	calls=$(grep -c . /tmp/calls)
	# The one failure allowed: edu's BAR (L2's address of it, from L2's
	# log), which QEMU maps for peer-to-peer DMA; a kernel without VFIO
	# dma-buf gives EFAULT, QEMU warns "PCI BAR?", unmaps what it could
	# not map (ENOENT) and goes on.  Any other failure is the series'.
	set -- $(sed -n 's/^@@L2 # dmesg: pci 0000:00:01\.0: BAR 0 \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\]$/\1 \2/p' /tmp/l2.log | tail -1)
	bar=none
	[ $# = 2 ] && bar="iova=$(printf '0x%x' "$1") size=$(printf '0x%x' $(($2 - $1 + 1)))"
	awk -v bar=" $bar " '
		!/\((-[0-9]+|[1-9][0-9]*)\)$/ { next }
		/^iommufd_backend_(map_dma|unmap_dma_non_exist) / && index($0 " ", bar) { print "bar", $0; next }
		{ print "other", $0 }
	' /tmp/calls > /tmp/failed
	nbar=$(grep -c '^bar iommufd_backend_map_dma' /tmp/failed)
	efault=$(grep -c 'IOMMU_IOAS_MAP failed: Bad address, PCI BAR?' /tmp/qemu.err)
	echo "# $calls iommufd calls; edu's BAR: $bar, $nbar failed map(s), $efault EFAULT warning(s); other failures:"
	sed -n 's/^other /#   /p' /tmp/failed
	good=no
	[ "$calls" -gt 0 ] && [ "$nbar" = "$efault" ] && ! grep -q '^other ' /tmp/failed &&
		good=yes
	check qemu_calls_succeed [ $good = yes ]
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
		/^iommufd_backend_alloc_hwpt .* flags=0x0 hwpt_type=2 .*\(0\)$/ && h < 3 {
			h++; print "nested" h
			if (h == 3) { s1 = $0; sub(/.*out_hwpt=/, "", s1); sub(/ .*/, "", s1) }
		}
		/^iommufd_backend_alloc_vdev .*\(0\)$/ && !d { d = 1; print "vdevice" }
		/^iommufd_viommu_alloc_eventq .*\(0\)$/ && !e { e = 1; print "veventq" }
		/^iommufd_cdev_pasid_attach_ioas_hwpt .*Successfully attached/ && s1 != "" && !t {
			if ($NF == "id=" s1) { t = 1; print "attach_nested3" }
		}
	' /tmp/calls | tr '\n' ' ' > /tmp/order
	want="ioas nest_parent map_ram viommu nested1 nested2 vdevice veventq nested3 attach_nested3 "
	echo "# call order: $(cat /tmp/order)"
	echo "# replayed:   $want"
	check qemu_order_as_replayed [ "$(cat /tmp/order)" = "$want" ]
	inv=$(grep -c '^iommufd_backend_invalidate_cache .*entry_num=1 done_num=1 .*(0)$' /tmp/calls)
	echo "# $inv invalidations through the vIOMMU, one entry each"
	check qemu_invalidations [ "$inv" -gt 0 ]
	if [ "$mode" = memfd ]; then
		grep -m1 '^iommufd_backend_map_file_dma .*iova=0x40000000 .*(0)$' /tmp/calls | sed 's/^/# /'
		check qemu_map_file grep -q '^iommufd_backend_map_file_dma .*iova=0x40000000 .*(0)$' /tmp/calls
	fi
}

case "$1" in
setup) setup ;;
run) shift; run "$@" ;;
esac

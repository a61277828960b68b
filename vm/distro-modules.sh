#!/bin/sh
# distro-modules.sh load|unload: the module cases of the distribution
# machines (TAP).  Their kernel builds iommufd and VFIO as modules
# (configs/distro.config); the IOMMU drivers and iommufd's driver helpers
# (drivers/iommu/iommufd/driver.c) are built in.
#   load    modprobe iommufd and vfio-pci: loaded, signed (no taint),
#           /dev/iommu there, the helpers in the kernel image, not a module
#   unload  rmmod them all: gone, /dev/iommu gone, the helpers still there
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n $*"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@" >/tmp/dm.out 2>&1; then ok "$d"; else sed 's/^/# /' /tmp/dm.out; nok "$d"; fi
}
loaded() { [ -d "/sys/module/$1" ]; }
gone() { ! [ -d "/sys/module/$1" ]; }
# A loaded module (initstate live, not built in) whose taint flags are empty
untainted() {
	[ "$(cat "/sys/module/$1/initstate" 2>/dev/null)" = live ] || { echo "$1: not a live module"; return 1; }
	t=$(cat "/sys/module/$1/taint") || return 1
	echo "taint of $1: '$t'"
	[ -z "$t" ]
}
# A symbol of the kernel image: kallsyms names a module's in [brackets]
builtin() { grep -E " [Tt] $1\$" /proc/kallsyms; }
helpers="iommufd_viommu_report_event iommufd_viommu_find_dev iommufd_viommu_get_vdev_id"
# The iommufd and VFIO modules modprobe loaded, in an order rmmod takes
# (vfio_iommu_type1 is loaded only for a VFIO container: not here)
mods="vfio_pci vfio_pci_core vfio iommufd"
case "$1" in
load)
	echo "1..10"
	check "modprobe iommufd" modprobe iommufd
	check "iommufd is loaded" loaded iommufd
	check "iommufd is signed as the build signs it (no taint)" untainted iommufd
	check "/dev/iommu" test -c /dev/iommu
	check "iommufd's own code is loaded (iommufd_fops_open)" sh -c "grep -q ' iommufd_fops_open' /proc/kallsyms"
	check "modprobe vfio-pci" modprobe vfio-pci
	check "vfio-pci is loaded" loaded vfio_pci
	check "vfio is signed as the build signs it (no taint)" untainted vfio
	check "the vfio-pci driver is registered" test -d /sys/bus/pci/drivers/vfio-pci
	for h in $helpers; do builtin "$h" || echo "$h: not in the kernel image"; done > /tmp/dm.h
	check "iommufd's driver helpers are in the kernel image ($helpers)" sh -c "! grep -q 'not in' /tmp/dm.h"
	;;
unload)
	echo "1..8"
	for m in $mods; do
		if loaded "$m"; then check "rmmod $m" rmmod "$m"; else nok "rmmod $m: was not loaded"; fi
	done
	check "no iommufd or vfio module left" sh -c "! grep -E '^(iommufd|vfio)' /proc/modules"
	check "/dev/iommu is gone" sh -c "! test -e /dev/iommu"
	for h in $helpers; do builtin "$h" || echo "$h: not in the kernel image"; done > /tmp/dm.h
	check "iommufd's driver helpers stay in the kernel image" sh -c "! grep -q 'not in' /tmp/dm.h"
	check "iommufd's own code is gone (iommufd_fops_open)" sh -c "! grep -q ' iommufd_fops_open' /proc/kallsyms"
	;;
*) echo "usage: $0 load|unload"; exit 2 ;;
esac
exit $fail

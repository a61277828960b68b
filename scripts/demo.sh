#!/bin/bash
# make (the demo): apply the series, build the x86_64 kernel, boot it on
# q35 with an emulated Intel VT-d and QEMU's edu DMA device, and show what
# the series does there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$CACHE/build-check
res=$CACHE/results-demo
say() { printf '\n== %s\n' "$*"; }
unset PLAN SUITES APPEND QEMU_EXTRA EXTRA_CONFIGS
lock_cache

say "Applying the series (series/) to Linux 6.12 in $CHECK_TREE"
own_tree "$CHECK_TREE"
tree=${LINUX_TREE:-$CHECK_TREE}
git -C "$tree" log --reverse --format='   %s' "$(base_ref "$tree")..iommufd-nesting"
say "Building the x86_64 kernel and the iommu selftests (ccache, out of tree)"
bash "$TOP/scripts/build.sh" x86_64 "$tree" "$build"
say "Booting it under QEMU (TCG), twice"
rm -rf "$res"
# The mock driver and a real IOMMU cannot share a 6.12 x86 machine: a
# device without a fwspec is probed by the first IOMMU registered without a
# fwnode, which is the VT-d one.
echo "   q35 without an IOMMU model: the mock driver of CONFIG_IOMMUFD_TEST"
PLAN="hw_info 300 ./iommufd -t get_hw_info" \
	bash "$TOP/scripts/run-vm.sh" x86-mock "$build" "$res"
echo "   q35 with VT-d (scalable mode, first stage) and QEMU's edu device"
bash "$TOP/scripts/run-vm.sh" x86-vtd "$build" "$res"
cat <<'TXT'

What ran:
 1. IOMMU_GET_HW_INFO, which the series extends with
    IOMMU_HW_INFO_FLAG_INPUT_TYPE: the selftest asks the mock driver for
    its default type, for its own type, and for a type it does not have
    (EOPNOTSUPP); a PASID-capable mock device reports its PASID width.
 2. Real DMA through the emulated VT-d: the edu device is bound to
    vfio-pci, attached through the VFIO cdev to an iommufd paging HWPT
    (first stage: patch 4), and moves buffers both ways; the test compares
    every byte, and a DMA to an unmapped IOVA must not land and must be
    reported by the IOMMU.

TXT
grep -hE '^(ok|not ok) |^# (kmsg:|.*bytes (matched|unchanged))' \
	"$res/x86-mock.log" "$res/x86-vtd.log" || true
python3 "$TOP/scripts/report.py" "$res" x86-mock x86-vtd

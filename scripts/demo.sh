#!/bin/bash
# make (the demo): apply the series, build the x86_64 kernel, boot it on
# q35 with an emulated Intel VT-d and QEMU's edu DMA device, and show what
# the series does there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$CACHE/build-check
res=$CACHE/results-demo
say() { printf '\n== %s\n' "$*"; }

say "Applying the series (series/) to Linux 6.12 in $CHECK_TREE"
own_tree "$CHECK_TREE"
git -C "$CHECK_TREE" log --format='   %s' base..iommufd-nesting
say "Building the x86_64 kernel and the iommu selftests (ccache, out of tree)"
bash "$TOP/scripts/build.sh" x86_64 "$CHECK_TREE" "$build"
say "Booting it under QEMU: q35, VT-d (scalable mode, first stage), edu"
rm -rf "$res"
bash "$TOP/scripts/run-vm.sh" x86-demo "$build" "$res"
cat <<'TXT'

What ran in the VM:
 1. IOMMU_GET_HW_INFO, which the series extends with
    IOMMU_HW_INFO_FLAG_INPUT_TYPE: the selftest asks the mock driver for
    its default type, for its own type, and for a type it does not have
    (EOPNOTSUPP); a PASID-capable mock device reports its PASID width.
 2. Real DMA through the emulated VT-d: the edu device is bound to
    vfio-pci, attached through the VFIO cdev to an iommufd paging HWPT,
    and moves buffers both ways; the test compares every byte, and a DMA
    to an unmapped IOVA must not land and must be reported by the IOMMU.
TXT
grep -E '^(ok|not ok) |^# .*(fault|DMAR|event|bytes)' "$res/x86-demo.log" | head -40 || true
python3 "$TOP/scripts/report.py" "$res" x86-demo

#!/bin/bash
# make check: apply the series to a clean tree, check it, build both
# kernels and their selftests, boot every machine, report.
# ARCHES (default "x86_64 arm64") and MACHINES narrow it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Debugging knobs of run-vm.sh and build.sh never reach make check.
unset PLAN SUITES APPEND QEMU_EXTRA EXTRA_CONFIGS
lock_cache
res=$CACHE/results
build=$CACHE/build-check
arches=${ARCHES:-x86_64 arm64}
if [ -z "${MACHINES:-}" ]; then
	MACHINES=
	case " $arches " in *" x86_64 "*) MACHINES="x86-mock" ;; esac
	case " $arches " in *" arm64 "*) MACHINES="$MACHINES arm64-smmu" ;; esac
	case " $arches " in *" x86_64 "*) MACHINES="$MACHINES x86-vtd x86-amd" ;; esac
fi
read -r -a machines <<< "host $MACHINES"
rm -rf "$res"
mkdir -p "$res"
# A machine must never boot a kernel of an earlier run.
rm -f "$build"/x86_64/bzImage "$build"/arm64/Image
t0=$(date +%s)
stamp() { echo "$1 $(( $(date +%s) - t0 ))" >> "$res/times"; }

bash "$TOP/scripts/base.sh"
stamp base
own_tree "$CHECK_TREE"
stamp tree
bash "$TOP/scripts/series-checks.sh" "$CHECK_TREE" "$res/host.log"
stamp series-checks
for a in $arches; do
	bash "$TOP/scripts/build.sh" "$a" "$CHECK_TREE" "$build"
	stamp "build-$a"
done
bash "$TOP/scripts/sparse.sh" "$CHECK_TREE" "$build" "$res/host.log"
stamp sparse
for m in "${machines[@]:1}"; do
	bash "$TOP/scripts/run-vm.sh" "$m" "$build" "$res" || true
	stamp "vm-$m"
done
log "results in $res; times (s since start):"
cat "$res/times" >&2
[ -n "${LINUX_TREE:-}" ] || cat "$BASE_REPO/.git/base-info" >&2 2>/dev/null || true
python3 "$TOP/scripts/report.py" "$res" "${machines[@]}"

#!/bin/bash
# make check: apply the series to a clean tree, check it, build both
# kernels and their selftests, boot every machine, report.
# ARCHES (default "x86_64 arm64") and MACHINES narrow it.
# MACHINE-debug is a machine booting the debug kernel (configs/debug.config:
# KASAN, UBSAN, lockdep, kmemleak, ...). make check runs x86-mock-debug
# with the fuzzer only; make check-debug
# (CHECK_DEBUG=full) runs every machine's whole plan on the debug kernels,
# into $CACHE/results-debug.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Debugging knobs of run-vm.sh and build.sh never reach make check.
unset PLAN SUITES APPEND QEMU_EXTRA EXTRA_CONFIGS FUZZ_SEED FUZZ_SECS FUZZ_JOBS
lock_cache
full=${CHECK_DEBUG:-}
res=$CACHE/results${full:+-debug}
build=$CACHE/build-check
debug=$CACHE/build-check-debug
distro=$CACHE/build-check-distro
arches=${ARCHES:-x86_64 arm64}
if [ -z "${MACHINES:-}" ]; then
	MACHINES=
	case " $arches " in *" x86_64 "*) MACHINES="x86-mock" ;; esac
	case " $arches " in *" arm64 "*) MACHINES="$MACHINES arm64-smmu" ;; esac
	case " $arches " in *" x86_64 "*) MACHINES="$MACHINES x86-vtd x86-amd" ;; esac
	if [ -n "$full" ]; then
		# One line: the machines array below is read from one line
		MACHINES=$(for m in $MACHINES; do printf '%s-debug ' "$m"; done)
	else
		case " $arches " in *" arm64 "*) MACHINES="$MACHINES arm64-distro arm64-qemu" ;; esac
		case " $arches " in *" x86_64 "*) MACHINES="$MACHINES x86-mock-debug" ;; esac
	fi
fi
read -r -a machines <<< "host $MACHINES"
# The kernels the machines need: ARCH for MACHINE, ARCH-debug for
# MACHINE-debug.
kernels=
for m in $MACHINES; do
	case "$m" in arm64-*) a=arm64 ;; *) a=x86_64 ;; esac
	# arm64-qemu's L1 and L2 are the distribution kernel
	case "$m" in *-debug) a=$a-debug ;; *-distro|arm64-qemu) a=$a-distro ;; esac
	case " $kernels " in *" $a "*) ;; *) kernels="$kernels $a" ;; esac
done
rm -rf "$res"
mkdir -p "$res"
# A machine must never boot a kernel of an earlier run.
rm -f "$build"/x86_64/bzImage "$build"/arm64/Image \
	"$debug"/x86_64/bzImage "$debug"/arm64/Image \
	"$distro"/x86_64/bzImage "$distro"/arm64/Image
t0=$(date +%s)
stamp() { echo "$1 $(( $(date +%s) - t0 ))" >> "$res/times"; }

bash "$TOP/scripts/base.sh"
stamp base
# arm64-qemu's L1 userspace (Debian's QEMU 11.1, pinned): fetched first, so
# that an unreachable archive shows before the builds
case " $MACHINES " in *" arm64-qemu "*)
	bash "$TOP/scripts/vmm.sh" root >/dev/null
	stamp vmm ;;
esac
own_tree "$CHECK_TREE"
stamp tree
bash "$TOP/scripts/series-checks.sh" "$CHECK_TREE" "$res/host.log"
stamp series-checks
# Is there a newer 6.12.y than the pin, and does the series apply to it?
bash "$TOP/scripts/stable-check.sh" "$res/host.log"
stamp stable-check
# KUnit as distributions build it (a module, with all tests)
bash "$TOP/scripts/kunit-modular.sh" "$CHECK_TREE" "$res/host.log"
stamp kunit-modular
# The test kernels, sparse over their build, then the debug kernels.
for k in $kernels; do
	case "$k" in *-debug|*-distro) continue ;; esac
	bash "$TOP/scripts/build.sh" "$k" "$CHECK_TREE" "$build"
	stamp "build-$k"
done
# Mainline's own selftests, built against mainline's headers, beside the
# series' (the mock machines run them: mainline-selftests:*)
for k in $kernels; do
	case "$k" in *-debug|*-distro) continue ;; esac
	bash "$TOP/scripts/mainline.sh" selftests "$k" "$build/$k/tests/mainline"
done
stamp mainline-selftests
bash "$TOP/scripts/sparse.sh" "$CHECK_TREE" "$build" "$res/host.log"
stamp sparse
# gcc and clang, W=1, both architectures, on the files the series touches
bash "$TOP/scripts/warn-check.sh" "$CHECK_TREE" "$build" "$res/host.log"
stamp warnings
# The distribution kernels (Debian's config, iommufd and VFIO as modules)
for k in $kernels; do
	case "$k" in *-distro) ;; *) continue ;; esac
	BUILD_FLAVOUR=distro bash "$TOP/scripts/build.sh" "${k%-distro}" "$CHECK_TREE" "$distro"
	stamp "build-$k"
done
for k in $kernels; do
	case "$k" in *-debug) ;; *) continue ;; esac
	EXTRA_CONFIGS=$TOP/configs/debug.config \
		bash "$TOP/scripts/build.sh" "${k%-debug}" "$CHECK_TREE" "$debug"
	stamp "build-$k"
done
# make check-debug runs mainline's selftests on the debug kernels too:
# KASAN, lockdep and kmemleak over mainline's inputs and error paths
if [ -n "$full" ]; then
	for k in $kernels; do
		case "$k" in *-debug) ;; *) continue ;; esac
		bash "$TOP/scripts/mainline.sh" selftests "${k%-debug}" \
			"$debug/${k%-debug}/tests/mainline"
	done
	stamp mainline-selftests-debug
fi
for m in "${machines[@]:1}"; do
	case "$m" in
	x86-mock-debug) [ -n "$full" ] || export SUITES="fuzz"
		bash "$TOP/scripts/run-vm.sh" "$m" "$debug" "$res" || true
		unset SUITES ;;
	*-debug) bash "$TOP/scripts/run-vm.sh" "$m" "$debug" "$res" || true ;;
	*-distro|arm64-qemu) bash "$TOP/scripts/run-vm.sh" "$m" "$distro" "$res" || true ;;
	*) bash "$TOP/scripts/run-vm.sh" "$m" "$build" "$res" || true ;;
	esac
	stamp "vm-$m"
done
log "results in $res; times (s since start):"
cat "$res/times" >&2
[ -n "${LINUX_TREE:-}" ] || cat "$BASE_REPO/.git/base-info" >&2 2>/dev/null || true
python3 "$TOP/scripts/report.py" "$res" "${machines[@]}"

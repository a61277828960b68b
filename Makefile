# iommufd nesting for Linux 6.12 LTS: the patch series in series/, and the
# harness that turns it into tested kernels.  See README.md.
#
#   make              build and boot the x86_64 machine, run a short demo
#   make check        everything: checks on the series, both kernels, all VMs
#   make tree         a kernel git tree ($(DEV_TREE)) with the series as commits
#   make export       write that tree's commits back into series/
#   make test-mock    rebuild the dev tree (x86_64) and rerun the mock selftests
#   make test-qemu    the real VMM (QEMU 11.1, nested) on the dev tree
#   make bench        the VMM's hot paths, series against mainline 7.3
#   make bench-profile  where a kernel spends one of them (MACHINE, OP)
#   make check-debug  every machine on the debug kernels (slow; not in check)
#   make fuzz         a long fuzz run on the debug kernel (FUZZ_SECS, FUZZ_SEED)
#   make bisect       build every prefix of the series (slow; not in check)
#   make help         the rest

CACHE ?= $(HOME)/.cache/iommufd-nesting
DEV_TREE ?= $(CACHE)/linux
CHECK_TREE ?= $(CACHE)/check-linux
export CACHE DEV_TREE CHECK_TREE LINUX_TREE LINUX_BASE FORCE SUITES

ifneq ($(LINUX_TREE),)
CHECK_TREE := $(LINUX_TREE)
DEV_TREE := $(LINUX_TREE)
endif

.PHONY: all demo check check-debug fuzz deps base tree export build build-dev test-mock \
	test-machine test-qemu test-debug bench bench-profile bisect checkpatch help \
	clean-results

all: demo

demo: deps
	@bash scripts/demo.sh

check: deps
	@bash scripts/check.sh

# Every machine's whole plan on the debug kernels (not in make check).
check-debug: deps
	@CHECK_DEBUG=full bash scripts/check.sh

deps:
	@bash scripts/deps.sh

base: deps
	@bash scripts/base.sh

tree: base
	@bash scripts/tree.sh $(DEV_TREE)

export:
	@bash scripts/export.sh $(DEV_TREE)

# Build the dev tree for ARCH (x86_64 or arm64).
ARCH ?= x86_64
build-dev:
	@bash scripts/build.sh $(ARCH) $(DEV_TREE) $(CACHE)/build-dev

# The edit loop: rebuild the dev tree and rerun the mock selftests.
test-mock: deps
	@bash scripts/build.sh x86_64 $(DEV_TREE) $(CACHE)/build-dev
	@bash scripts/run-vm.sh x86-mock $(CACHE)/build-dev $(CACHE)/results-dev
	@python3 scripts/report.py $(CACHE)/results-dev x86-mock

# One machine on the dev tree: make test-machine MACHINE=arm64-smmu
MACHINE ?= x86-mock
test-machine: deps
	@bash scripts/run-vm.sh $(MACHINE) $(CACHE)/build-dev $(CACHE)/results-dev
	@python3 scripts/report.py $(CACHE)/results-dev $(MACHINE)

# The real VMM alone (the arm64-qemu machine, QEMU 11.1 in L1) on the dev
# tree's arm64 distribution kernel (its own build directory).
test-qemu: deps
	@BUILD_FLAVOUR=distro BUILD_PARTS=kernel bash scripts/build.sh arm64 \
		$(DEV_TREE) $(CACHE)/build-distro && \
	bash scripts/run-vm.sh arm64-qemu $(CACHE)/build-distro $(CACHE)/results-dev && \
	python3 scripts/report.py $(CACHE)/results-dev arm64-qemu

# bench/ on the series and on mainline 7.3, side by side under -icount
# (not in make check: see README, Times)
bench: deps
	@bash scripts/bench.sh

# One operation of bench/ sampled (after a make bench or make check):
# make bench-profile MACHINE=arm64-smmu OP=vsmmu_invalidate_256 KERNEL=mainline
bench-profile: deps
	@bash scripts/bench-profile.sh $(or $(MACHINE),x86-mock) $(or $(OP),floor) \
		$(or $(KERNEL),series) $(or $(N),100000)

# The same, on the dev tree built with the debug tools (configs/debug.config:
# KASAN, UBSAN, lockdep, kmemleak, ...) in its own build directory:
# make test-debug MACHINE=arm64-smmu
test-debug: deps
	@arch=$$(case "$(MACHINE)" in arm64-*) echo arm64;; *) echo x86_64;; esac); \
	EXTRA_CONFIGS=$(CURDIR)/configs/debug.config \
		bash scripts/build.sh $$arch $(DEV_TREE) $(CACHE)/build-dev-debug && \
	bash scripts/run-vm.sh $(MACHINE) $(CACHE)/build-dev-debug \
		$(CACHE)/results-dev-debug && \
	python3 scripts/report.py $(CACHE)/results-dev-debug $(MACHINE)

# A long fuzz run on the dev tree's debug kernel (x86-mock-debug): FUZZ_SECS
# (default 600) from FUZZ_SEED (default: a random one, printed).
FUZZ_SECS ?= 600
fuzz: deps
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "fuzz: seed $$seed, $(FUZZ_SECS) s"; \
	EXTRA_CONFIGS=$(CURDIR)/configs/debug.config \
		bash scripts/build.sh x86_64 $(DEV_TREE) $(CACHE)/build-dev-debug && \
	FUZZ_SEED=$$seed FUZZ_SECS=$(FUZZ_SECS) FUZZ_JOBS=2 SUITES=fuzz \
		bash scripts/run-vm.sh x86-mock-debug $(CACHE)/build-dev-debug \
		$(CACHE)/results-fuzz && \
	python3 scripts/report.py $(CACHE)/results-fuzz x86-mock-debug

checkpatch: base
	@bash -c '. scripts/lib.sh && own_tree "$(CHECK_TREE)"'
	@bash scripts/series-checks.sh $(CHECK_TREE) /dev/stdout

bisect: deps base
	@bash scripts/bisect.sh

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

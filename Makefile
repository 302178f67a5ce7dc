# SPDX-License-Identifier: GPL-2.0
#
#   make              build the modules against KDIR
#   make check        the test command: lint, unit tests, kselftests in QEMU
#                     on the stock and the debug kernel, summary
#   make demo         the showcase: boot the stock kernel, show the modules
#   make bench        benchmarks in the guest, ratios and plots in results/
#                     (BENCH="mshare ptwalk" runs only those)
#   make vm           a shell in the guest with the modules available
#   make deps         install the Debian packages everything here needs
#
#   KERNEL=6.1|6.12|7.3|6.1-debug|6.12-debug|7.3-debug
#                       a kernel line of scripts/kernels.conf (or a line's
#                       debug kernel): which kernel's build directory KDIR
#                       defaults to, and the kernel demo, bench and vm
#                       boot. Default: the newest line for demo, 6.1
#                       ("stock"; "debug" is 6.1-debug) for the others
#   KDIR=<dir>          build against any kernel build directory
#   PAGING=4|5          page-table levels for demo/bench/vm (default 5)
#
# Every target first installs what it needs (scripts/install-deps.sh:
# silent when nothing is missing; as a normal user it prints the apt-get
# line to run), so each works on a fresh Debian 12 machine. make clean
# needs nothing.

KERNEL ?=
PAGING ?= 5

# The kernel build directory is looked up when a recipe first uses it,
# after the packages are installed, never while this file is read: on a
# fresh machine there is nothing to find yet, and with KERNEL=debug every
# target, clean included, would build the debug kernel.
ifdef KDIR
KDIR_DEPS := deps-build
else
KDIR_DEPS := deps
KDIR_CMD := scripts/kdir.sh $(or $(KERNEL),stock)
KDIR = $(eval KDIR := $$(shell $(KDIR_CMD)))$(or $(KDIR),$(error $(KDIR_CMD) found no kernel build directory))
endif

all: modules

deps:
	@scripts/install-deps.sh

# Building the modules against a given KDIR and the tools takes only the
# compilers; the selftests also take the kselftest headers.
deps-build:
	@scripts/install-deps.sh build

deps-selftests:
	@scripts/install-deps.sh build ksrc

modules: $(KDIR_DEPS)
	$(MAKE) KDIR=$(KDIR) kbuild

# The build itself, with nothing installed first: what dkms.conf runs.
# The compat probes (include/compat/probes) answer for this KDIR first.
kbuild:
	scripts/compat-probe.sh $(KDIR)
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_DEBUG_INFO_BTF_MODULES= modules

selftests: deps-selftests
	$(MAKE) -C selftests

tools: deps-build
	$(MAKE) -C tools

check:
	scripts/check.sh

lint: deps
	scripts/lint.sh $(KDIR)

demo: deps
	KERNEL=$(KERNEL) scripts/demo.sh

bench: deps
	KERNEL=$(or $(KERNEL),stock) scripts/bench.sh $(BENCH)

vm: deps modules selftests tools
	scripts/vm.sh --kernel $(or $(KERNEL),stock) --paging $(PAGING) --no-build --interactive

# Needs nothing installed: kbuild's own clean needs a kernel build
# directory, so the files kbuild writes for an external module go by name;
# selftests/Makefile looks for the kselftest headers when it is read.
KBUILD_DIRS := mm drivers selftests/rig/modules

clean:
	find $(KBUILD_DIRS) -type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' -o -name '*.dwo' \
		-o -name '*.su' -o -name '*.lst' -o -name '*.gcno' -o -name '.tmp_*' \
		-o -name 'modules.order' -o -name '*.symtypes' \) -delete
	rm -f Module.symvers modules.order .modules.order.cmd .Module.symvers.cmd \
		.checkpatch-camelcase.*
	rm -rf selftests/out
	$(MAKE) -C tools clean
	$(MAKE) -C bench clean
	for mk in $$(find mm drivers -path '*/tests/Makefile'); do \
		$(MAKE) -C $${mk%/Makefile} clean || exit 1; \
	done
	rm -rf results/vm

.PHONY: all deps deps-build deps-selftests modules kbuild selftests tools check lint demo bench vm clean

# SPDX-License-Identifier: GPL-2.0
#
#   make              build the modules against KDIR
#   make check        the test command: lint, unit tests, kselftests in QEMU
#                     on the stock and the debug kernel, summary
#   make demo         the showcase: boot the stock kernel, show the modules
#   make bench        benchmarks in the guest, ratios and plots in results/
#                     (BENCH="mshare ptwalk" runs only those)
#   make vm           a shell in the guest with the modules available
#
#   KERNEL=stock|debug  which kernel's build directory KDIR defaults to
#   KDIR=<dir>          build against any kernel build directory
#   PAGING=4|5          page-table levels for demo/bench/vm (default 5)

KERNEL ?= stock
PAGING ?= 5
ifndef KDIR
ifeq ($(KERNEL),debug)
KDIR := $(shell scripts/debug-kernel.sh)
else
KDIR := $(shell scripts/kdir.sh)
endif
endif

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_DEBUG_INFO_BTF_MODULES= modules

selftests:
	$(MAKE) -C selftests

tools:
	$(MAKE) -C tools

check:
	scripts/check.sh

lint:
	scripts/lint.sh $(KDIR)

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh $(BENCH)

vm: modules selftests tools
	scripts/vm.sh --kernel $(KERNEL) --paging $(PAGING) --no-build --interactive

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C selftests clean
	$(MAKE) -C tools clean
	$(MAKE) -C bench clean
	rm -rf results/vm

.PHONY: all modules selftests tools check lint demo bench vm clean

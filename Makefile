# smmvm - top-level build. Plain GNU make; objects live in build/ (and
# build-asan/ for the sanitizer tree that `make check` also runs).
#
#   make            build build/smmvm (and the firmware and test ROMs)
#   make run        install missing Debian packages (as root), build, run the demo
#   make check      build everything and run every test (also under ASan+UBSan)
#   make bench      print MIPS and SMI round-trip figures against QEMU
#   make clean

CC      ?= gcc
BUILD   ?= build
ASAN_BUILD ?= build-asan
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
# Intel's JCC erratum (Skylake and later): a jump that crosses or ends on a 32-byte
# boundary is not kept in the decoded-uop cache. The interpreter's dispatch loop and
# handlers are all jumps, so without aligning them bench figures moved by about 10%
# with unrelated code changes (measured with make bench). Only where the assembler knows it.
ALIGN_BRANCHES := $(shell $(CC) -Wa,-mbranches-within-32B-boundaries -x c -c /dev/null \
                    -o /dev/null 2>/dev/null && echo -Wa,-mbranches-within-32B-boundaries)
# GCC 12's -O2 vectorises neighbouring stores (the lazy-flag record, a handler's
# operands) into SSE shuffles that cost more instructions than the plain stores.
OPT     ?= -O2 -g -fno-tree-vectorize $(ALIGN_BRANCHES)
CFLAGS_BASE := $(CSTD) $(WARN) -Isrc -MMD -MP
LIBS    := -ljansson
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

SRCS       := $(sort $(shell find src -name '*.c' ! -name '*_test.c'))
LIB_SRCS   := $(filter-out src/main.c,$(SRCS))
TEST_SRCS  := $(sort $(shell find src -name '*_test.c'))
HEADERS    := $(sort $(shell find src -name '*.h'))

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ   := $(BUILD)/obj/src/main.o
TEST_BINS  := $(patsubst src/%_test.c,$(BUILD)/tests/%_test,$(TEST_SRCS))
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=$(ASAN_BUILD)/obj/%.o)
ASAN_TEST_BINS := $(patsubst src/%_test.c,$(ASAN_BUILD)/tests/%_test,$(TEST_SRCS))
ASAN_SMMVM := $(ASAN_BUILD)/smmvm

.PHONY: all run check bench clean deps unit-tests asan-tests header-check rom-tests \
        diff-tests fw-tests mtree-tests qmp-tests hotplug-tests firmware roms format format-check

all: $(BUILD)/smmvm firmware roms

$(BUILD)/smmvm: $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) -c $< -o $@

$(BUILD)/tests/%_test: src/%_test.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) -o $@ $< $(LIB_OBJS) -lcmocka $(LIBS)

$(ASAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) -c $< -o $@

$(ASAN_BUILD)/tests/%_test: src/%_test.c $(ASAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) -o $@ $< $(ASAN_LIB_OBJS) -lcmocka $(LIBS)

$(ASAN_SMMVM): $(ASAN_LIB_OBJS) $(ASAN_BUILD)/obj/src/main.o
	$(CC) $(SAN) -o $@ $^ $(LIBS)

firmware:
	$(MAKE) -C firmware O=$(abspath $(BUILD))/firmware

roms:
	$(MAKE) -C tests/rom O=$(abspath $(BUILD))/rom

deps:
	@tools/install-deps.sh

run: deps all
	tools/demo.sh $(BUILD)

# Each header must compile on its own (style.md §2.4).
header-check:
	@for h in $(HEADERS); do \
	  echo "#include \"$${h#src/}\"" | $(CC) $(CSTD) $(WARN) -Isrc -x c -fsyntax-only - || { echo "header $$h does not compile alone"; exit 1; }; \
	done; echo "header-check: $(words $(HEADERS)) headers compile on their own"

unit-tests: $(TEST_BINS)
	@tools/run-unit-tests.sh $(TEST_BINS)

asan-tests: $(ASAN_TEST_BINS) $(ASAN_SMMVM)
	@tools/run-unit-tests.sh $(ASAN_TEST_BINS)
	@ROMS="modes paging strings control" tests/rom/run.sh $(ASAN_SMMVM)
	@# plug, eject and re-plug free and reuse CPU objects: run them under the sanitizers too
	@$(MAKE) -s -C tests/hotplug O=$(abspath $(BUILD))/hotplug
	@python3 tests/hotplug/run.py --emulator $(ASAN_SMMVM) --rom-dir $(abspath $(BUILD))/hotplug
	@# seeded QMP fuzzing: the emulator must stay up, answer, and stay sanitizer-clean
	@$(MAKE) -s firmware
	@python3 tests/qmp/fuzz.py $(ASAN_SMMVM)

rom-tests: $(BUILD)/smmvm roms
	@tests/rom/run.sh $(BUILD)/smmvm

diff-tests: $(LIB_OBJS)
	$(MAKE) -C tests/diff O=$(abspath $(BUILD))/diff LIB_OBJS="$(abspath $(LIB_OBJS))" run

fw-tests: firmware $(BUILD)/smmvm
	@tests/fw/run.sh
	@tests/fw/smmvm_boot.sh $(BUILD)/smmvm
	@tests/fw/smmvm_scenarios.sh $(BUILD)/smmvm

# QMP protocol, device_add/device_del rules and bad input over a real socket (issue 6).
qmp-tests: firmware $(BUILD)/smmvm
	@SMMVM=$(abspath $(BUILD))/smmvm tests/qmp/run.sh

# Test ROMs as the OS side of ACPI CPU hot-plug, byte-identical with QEMU (issue 6).
hotplug-tests: $(BUILD)/smmvm
	@SMMVM=$(abspath $(BUILD))/smmvm O=$(abspath $(BUILD))/hotplug tests/hotplug/run.sh

mtree-tests: $(BUILD)/smmvm roms
	@tests/mtree/run.sh $(BUILD)/smmvm

check: deps header-check all unit-tests rom-tests diff-tests asan-tests fw-tests mtree-tests \
       qmp-tests hotplug-tests
	@echo "make check: all suites passed"

bench: $(BUILD)/smmvm
	$(MAKE) -C bench O=$(abspath $(BUILD))/bench
	SMMVM=$(abspath $(BUILD))/smmvm bench/run.sh $(abspath $(BUILD))/bench
	$(MAKE) firmware
	bench/fw_bench.py --smmvm $(abspath $(BUILD))/smmvm

format:
	clang-format -i $(SRCS) $(TEST_SRCS) $(HEADERS)

format-check:
	@if command -v clang-format >/dev/null; then clang-format --dry-run --Werror $(SRCS) $(TEST_SRCS) $(HEADERS); fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

-include $(shell find $(BUILD) $(ASAN_BUILD) -name '*.d' 2>/dev/null)

# rampa-bpf: make [all|demo|check|install|vmlinux|format|clean] [V=1]
PREFIX ?= /usr/local
CLANG ?= clang-19
BPFTOOL ?= bpftool
CC ?= cc
OUTPUT := .output
ARCH := x86

CFLAGS ?= -O2 -g -fno-omit-frame-pointer
CFLAGS += $(shell pkg-config --cflags libcurl)
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -std=gnu11 \
	  -Iinclude -I$(OUTPUT) -D_GNU_SOURCE
LDLIBS += -lbpf -ldw -lelf -lz -liberty $(shell pkg-config --libs libcurl) -lpthread
# top's full-screen view, and the terminal's sequences for the progress line.
CFLAGS += $(shell pkg-config --cflags ncursesw)
LDLIBS += $(shell pkg-config --libs ncursesw)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
HDRS := $(wildcard include/*.h)

# clang's own system includes for the BPF target, as libbpf-bootstrap does.
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

.PHONY: all demo check test install vmlinux format format-check clean deps bench
.DELETE_ON_ERROR:

all: rampa-bpf tests/test-tool

$(OUTPUT):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(HDRS) vmlinux/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Iinclude \
		$(CLANG_BPF_SYS_INCLUDES) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/%.o: src/%.c $(HDRS) $(SKELS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

rampa-bpf: $(OUTPUT)/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

tests/test-tool: tests/test-tool.c $(LIB_OBJS) $(HDRS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# Install the build dependencies (Debian packages) when missing.
deps:
	$(Q)tools/install-deps.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# The README's first command: profile the bundled demo workload.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh

# The README's second command: the whole test suite.
check: deps
	$(Q)tools/install-deps.sh --test || [ "$$CI" != true ]
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh

test: check

bench: all
	$(Q)tools/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 rampa-bpf $(DESTDIR)$(PREFIX)/bin/rampa-bpf
	for f in docs/*.1.rst; do \
		rst2man $$f > $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$f .rst) || exit 1; \
	done

FORMAT_FILES = $(wildcard src/*.c include/*.h bpf/*.c bpf/*.h tests/*.c tests/workloads/*.c \
	tools/bench/*.c tools/cpython-layouts/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(OUTPUT) rampa-bpf tests/test-tool tests/.build

# Formats, report and diff (issue 6): the z-test needs libm.
LDLIBS += -lm

# Fuzz the collapsed-stack reader (and the writers behind it) with libFuzzer:
# make fuzz [FUZZ_TIME=seconds]; new inputs land in tests/fuzz/corpus.
FUZZ_CC ?= clang-19
FUZZ_TIME ?= 60
FUZZ_SRCS := tests/fuzz/folded_fuzz.c $(addprefix src/,folded.c profile.c util.c calltree.c \
	flamegraph.c speedscope.c pprof.c pstats.c gecko.c u64map.c labels.c stats.c output.c utf8.c \
	json_writer.c)
FUZZ_BIN := $(OUTPUT)/folded_fuzz

$(FUZZ_BIN): $(FUZZ_SRCS) $(HDRS) | $(OUTPUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-std=gnu11 -Iinclude -D_GNU_SOURCE $(FUZZ_SRCS) -lz -lm -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
		-dict=tests/fuzz/folded.dict tests/fuzz/corpus

# Syscall names by number for dump, generated from the kernel's UAPI header
# as Debian's linux-libc-dev installs it (a dependency of libc6-dev).
UNISTD_H ?= $(firstword $(wildcard /usr/include/x86_64-linux-gnu/asm/unistd_64.h \
	/usr/include/asm/unistd_64.h))

$(OUTPUT)/syscall_names.h: $(UNISTD_H) | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/\t[\2] = "\1",/p' $< > $@.tmp
	$(Q)test -s $@.tmp
	$(Q)mv $@.tmp $@

$(OUTPUT)/builtin-dump.o: $(OUTPUT)/syscall_names.h

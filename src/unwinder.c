// SPDX-License-Identifier: GPL-2.0
/* libdwfl over a live process without ptrace: our own thread callbacks give
 * the registers taken by BPF and read memory with process_vm_readv, and our
 * find_elf opens each module inside the target's root (containers, chroots).
 * Only .eh_frame is used (no separate debug files: the host's would not
 * match a container's binaries).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <linux/types.h>

#include "dump.h"
#include "unwinder.h"
#include "util.h"

#define PAGE 4096

struct unwinder {
	pid_t pid;
	Dwfl *dwfl;
	bool attached;
	/* The thread being walked. */
	pid_t tid;
	const __u64 *regs;
	/* A copy of the top of the stack taken with the registers, or NULL. */
	uint64_t copy_base;
	const uint8_t *copy;
	size_t copy_len;
	/* One page of the target's memory, the last read (stack reads cluster). */
	uint64_t page_addr;
	bool page_ok;
	uint8_t page[PAGE];
};

/* The file mapped as name: through /proc/PID/map_files (it sees through
 * deletion and replacement, and needs no path resolution), else the path
 * inside the process's root (a container), else as printed (a chroot seen
 * from the host: the kernel prints paths relative to the reader's root).
 */
static int open_module(pid_t pid, const char *name)
{
	char path[PATH_MAX + 64], line[PATH_MAX + 128];
	unsigned long start, end;
	int fd = -1, off;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	while (f && fd < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &off) < 2 ||
		    strcmp(line + off, name))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)pid, start, end);
		fd = open_regular(path, RAMPA_MAX_READ_FILE);
		break;
	}
	if (f)
		fclose(f);
	if (fd < 0)
		fd = open_in_root(pid, name, RAMPA_MAX_READ_FILE);
	if (fd < 0)
		fd = open_regular(name, RAMPA_MAX_READ_FILE);
	return fd;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct unwinder *u = *userdata; /* set_user_data() */
	int fd;

	if (name[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	fd = open_module(u->pid, name);
	if (fd < 0)
		return -1;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!*elfp) {
		close(fd);
		return -1;
	}
	*file_name = strdup(name);
	return fd;
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = no_debuginfo,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	return 0; /* threads are asked for by tid (get_thread) */
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	*thread_argp = u;
	return tid == u->tid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;
	uint64_t page = addr & ~(uint64_t)(PAGE - 1);

	if (u->copy && addr >= u->copy_base &&
	    addr - u->copy_base + sizeof(*result) <= u->copy_len) {
		memcpy(result, u->copy + (addr - u->copy_base), sizeof(*result));
		return true;
	}
	if (addr - page > PAGE - sizeof(*result))
		goto direct;
	if (!u->page_ok || u->page_addr != page) {
		struct iovec local = { u->page, PAGE }, remote = { (void *)page, PAGE };

		u->page_addr = page;
		u->page_ok = process_vm_readv(u->pid, &local, 1, &remote, 1, 0) == PAGE;
		if (!u->page_ok)
			goto direct;
	}
	memcpy(result, u->page + (addr - page), sizeof(*result));
	return true;
direct : {
	struct iovec local = { result, sizeof(*result) },
		     remote = { (void *)addr, sizeof(*result) };

	return process_vm_readv(u->pid, &local, 1, &remote, 1, 0) == sizeof(*result);
}
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwinder *u = arg;
	Dwarf_Word regs[DUMP_NREGS];

	for (int i = 0; i < DUMP_NREGS; i++)
		regs[i] = u->regs[i];
	return dwfl_thread_state_registers(thread, 0, DUMP_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int set_user_data(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			 void *arg)
{
	*userdata = arg;
	return DWARF_CB_OK;
}

struct unwinder *unwinder__new(pid_t pid)
{
	struct unwinder *u = xcalloc(1, sizeof(*u));

	u->pid = pid;
	u->dwfl = dwfl_begin(&callbacks);
	if (!u->dwfl)
		goto fail;
	dwfl_report_begin(u->dwfl);
	if (dwfl_linux_proc_report(u->dwfl, pid)) {
		dwfl_report_end(u->dwfl, NULL, NULL);
		goto fail;
	}
	dwfl_report_end(u->dwfl, NULL, NULL);
	/* Every module's user data points back here, for find_elf. */
	dwfl_getmodules(u->dwfl, set_user_data, u, 0);
	if (!dwfl_attach_state(u->dwfl, NULL, pid, &thread_callbacks, u))
		goto fail;
	return u;
fail:
	p_debug("dump: cannot set up libdwfl for %d: %s", (int)pid, dwfl_errmsg(-1));
	unwinder__free(u);
	return NULL;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	free(u);
}

struct walk {
	uint64_t *pcs, *sps;
	bool *activation;
	unsigned int max, n;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return -1;
	if (w->n >= w->max)
		return 1; /* truncated */
	w->pcs[w->n] = pc;
	w->activation[w->n] = act;
	/* The stack pointer of that frame (the CFA of the one it called). */
	if (dwfl_frame_reg(state, DUMP_REG_SP, &w->sps[w->n]))
		w->sps[w->n] = 0;
	w->n++;
	return DWARF_CB_OK;
}

enum unwind_end unwinder__walk(struct unwinder *u, pid_t tid, const __u64 *regs,
			       uint64_t stack_base, const void *stack, size_t stack_len,
			       uint64_t *pcs, uint64_t *sps, bool *activation, unsigned int max,
			       unsigned int *n)
{
	struct walk w = { pcs, sps, activation, max, 0 };
	int r;

	u->tid = tid;
	u->regs = regs;
	u->page_ok = false;
	u->copy = (const uint8_t *)stack;
	u->copy_base = stack_base;
	u->copy_len = stack ? stack_len : 0;
	r = dwfl_getthread_frames(u->dwfl, tid, on_frame, &w);
	*n = w.n;
	if (r == 0)
		return UNWIND_COMPLETE;
	if (r == 1)
		return UNWIND_TRUNCATED;
	p_debug("dump: unwinding %d stopped after %u frames: %s", (int)tid, w.n, dwfl_errmsg(-1));
	return UNWIND_FAILED;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Structures shared by bpf/dump.bpf.c and the loader (src/taskiter.c):
 * fixed-width types only.
 */
#ifndef RAMPA_DUMP_H
#define RAMPA_DUMP_H

#include "capture.h"

/* User registers of a thread in DWARF's x86-64 numbering (rax, rdx, rcx,
 * rbx, rsi, rdi, rbp, rsp, r8-r15, then the return address column: rip),
 * the order libdwfl's dwfl_thread_state_registers() takes.
 */
#define DUMP_NREGS  17
#define DUMP_REG_BP 6
#define DUMP_REG_SP 7
#define DUMP_REG_IP 16

/* One thread as the task iterator saw it, in one pass over the process. */
struct dump_task {
	__u32 pid, tid;
	__u32 state;	  /* task->__state: 0 running or runnable, else a sleep */
	__u32 on_cpu;	  /* task->on_cpu: on a CPU at the read */
	__u32 flags;	  /* task->flags (PF_KTHREAD, PF_EXITING) */
	__u32 user;	  /* 1: regs are the user registers saved at kernel entry */
	__u64 switches;	  /* nvcsw + nivcsw: changes when the thread runs */
	__u64 runtime_ns; /* se.sum_exec_runtime */
	__s64 syscall;	  /* orig_ax: the syscall it is in, -1: none */
	__u64 regs[DUMP_NREGS];
	__s64 kstack_bytes;		     /* bpf_get_task_stack(): bytes, or a negative errno */
	__u64 kstack[RAMPA_MAX_STACK_DEPTH]; /* leaf first */
};

/* A thread on a CPU has no saved user registers: a per-thread cpu-clock
 * event fires on its next tick, and the BPF program takes its registers,
 * kernel stack and a copy of the top of its user stack at that instant, so
 * that the native stack unwinds from one consistent moment.
 */
#define DUMP_STACK_COPY	      (32 * 1024)
#define DUMP_SAMPLE_THREADS   64 /* on-CPU threads sampled per dump */
#define DUMP_SAMPLE_PERIOD_NS 100000

struct dump_sample {
	__u32 done; /* 1: taken */
	__u32 user; /* regs are user registers */
	__u64 regs[DUMP_NREGS];
	__s64 kstack_bytes;
	__u64 kstack[RAMPA_MAX_STACK_DEPTH];
	__u64 stack_base; /* user address of stack[0]: the stack pointer */
	__u32 stack_len;  /* bytes copied, 0: none readable */
	__u32 pad;
	__u8 stack[DUMP_STACK_COPY];
};

#endif

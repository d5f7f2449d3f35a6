/* SPDX-License-Identifier: GPL-2.0 */
/* rampa-bpf mem --precise: uprobes on the target's allocator (glibc's malloc
 * family). Every block is tracked, address -> size, in mem_blocks; one
 * allocation in about mem_sample_bytes bytes is sampled with its stack and
 * sent to userspace, and so is the free of a sampled block. An allocation
 * of s bytes is sampled with probability s / N (N = mem_sample_bytes; always
 * when s >= N) and then stands for max(s, N) bytes: every allocation's
 * expected weight is its size, so sums over stacks are unbiased.
 * Included at the end of mem.bpf.h.
 */
#ifndef RAMPA_MEMALLOC_BPF_H
#define RAMPA_MEMALLOC_BPF_H

const volatile __u64 mem_sample_bytes = RAMPA_MEM_SAMPLE_BYTES;

/* Sized at load time (capture_maps.c; mem --max-blocks); allocated as it fills. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mem_block_key);
	__type(value, struct mem_block);
} mem_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct mem_alloc_call);
} mem_alloc_calls SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

/* An allocator function entered with size bytes asked (ptr: realloc's old
 * block, posix_memalign's result pointer). A call made inside another one
 * (realloc(NULL, n) calls malloc) only deepens the outer call.
 */
static __always_inline int alloc_enter(struct pt_regs *regs, __u32 fn, __u64 size, __u64 ptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_alloc_call *c, call = {};
	__u64 sp = PT_REGS_SP(regs);

	if (!mem_in_window())
		return 0;
	c = bpf_map_lookup_elem(&mem_alloc_calls, &tid);
	/* A call left without its return seen (probes attached in between)
	 * sits at or below this stack pointer; a caller of ours above it.
	 */
	if (c && c->depth && c->sp > sp) {
		c->depth++;
		return 0;
	}
	call.fn = fn;
	call.depth = 1;
	call.size = size;
	call.ptr = ptr;
	call.sp = sp;
	if (bpf_map_update_elem(&mem_alloc_calls, &tid, &call, BPF_ANY))
		stat_inc(STAT_MEM_ALLOC_CALLS_FULL);
	return 0;
}

/* The block at addr freed (by fn); its event out when it was sampled. */
static __always_inline void alloc_free(__u32 tgid, __u64 addr, __u32 fn)
{
	struct mem_block_key k = { .tgid = tgid, .addr = addr };
	struct mem_block *b;
	struct mem_event *e;
	__u32 sampled;
	__u64 size;

	if (!addr)
		return;
	b = bpf_map_lookup_elem(&mem_blocks, &k);
	if (!b) {
		stat_inc(STAT_MEM_FREES_UNKNOWN);
		return;
	}
	stat_inc(STAT_MEM_FREES);
	stat_add(STAT_MEM_FREE_BYTES, b->size);
	sampled = b->sampled;
	size = b->size;
	bpf_map_delete_elem(&mem_blocks, &k);
	if (!sampled)
		return;
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_MEM_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MEM_BLOCK_FREE;
	e->nr = fn;
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->addr = addr;
	e->len = size;
	/* Whether Python code runs: an interpreter shutting down frees what
	 * the program held, and that is not churn.
	 */
	e->key.pid = tgid;
	e->key.tid = e->tid;
	e->key.kind = KIND_MEM;
	py_capture(&e->key, &mem_py_stacks);
	mem_submit(e);
}

/* A new block of size bytes at addr; regs: the user registers, ctx the
 * program's (for the kernel's stack walk).
 */
static __always_inline void alloc_new(void *ctx, struct pt_regs *regs, __u32 tgid, __u64 addr,
				      __u64 size, bool mapped)
{
	struct mem_block_key k = { .tgid = tgid, .addr = addr };
	struct mem_block b = { .size = size, .mapped = mapped };
	struct mem_event *e;
	long err;

	if (!addr)
		return;
	b.sampled = size >= mem_sample_bytes ||
		    (((__u64)bpf_get_prandom_u32() * mem_sample_bytes) >> 32) < size;
	err = bpf_map_update_elem(&mem_blocks, &k, &b, BPF_ANY);
	if (err) {
		/* Untracked, it is not sampled either: its free would never
		 * be seen, and it would count as retained.
		 */
		stat_inc(STAT_MEM_BLOCKS_FULL);
		stat_add(STAT_MEM_BLOCKS_FULL_BYTES, size);
		return;
	}
	stat_inc(STAT_MEM_ALLOCS);
	stat_add(STAT_MEM_ALLOC_BYTES, size);
	if (mapped) {
		stat_inc(STAT_MEM_MAPS);
		stat_add(STAT_MEM_MAP_BYTES, size);
	}
	if (!b.sampled)
		return;
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		/* Its free must not go out alone. */
		b.sampled = 0;
		bpf_map_update_elem(&mem_blocks, &k, &b, BPF_EXIST);
		stat_inc(STAT_MEM_EVENTS_LOST);
		return;
	}
	stat_inc(STAT_MEM_ALLOC_SAMPLED);
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MEM_BLOCK_ALLOC;
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->addr = addr;
	e->len = size;
	e->flags = mapped ? MEM_EV_MAPPED : 0;
	e->key.pid = tgid;
	e->key.tid = e->tid;
	e->key.kind = KIND_MEM;
	mem_stack(&e->key, regs, ctx, tgid);
	mem_submit(e);
}

/* The outermost allocator call returns ret: its blocks in and out. */
static __always_inline int alloc_exit(struct pt_regs *regs)
{
	__u64 id = bpf_get_current_pid_tgid(), ret = PT_REGS_RC(regs), addr = ret;
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct mem_alloc_call *c = bpf_map_lookup_elem(&mem_alloc_calls, &tid);
	struct mem_alloc_call call;

	if (!c)
		return 0;
	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	call = *c;
	bpf_map_delete_elem(&mem_alloc_calls, &tid);
	if (!mem_in_window())
		return 0;
	switch (call.fn) {
	case ALLOC_REALLOC:
		/* realloc(p, 0) frees p and may return NULL; a failed realloc
		 * leaves p alone.
		 */
		if (call.ptr && (ret || !call.size))
			alloc_free(tgid, call.ptr, ALLOC_REALLOC);
		break;
	case ALLOC_POSIX_MEMALIGN:
		if ((int)ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)call.ptr))
			return 0;
		break;
	}
	alloc_new(regs, regs, tgid, addr, call.size, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_malloc, __u64 size)
{
	return alloc_enter(ctx, ALLOC_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_calloc, __u64 n, __u64 size)
{
	__u64 bytes = n * size;

	/* An overflowing product fails in calloc: nothing to track. The
	 * barrier keeps clang from a 128-bit multiply BPF lacks.
	 */
	asm volatile("" : "+r"(bytes));
	if (size && bytes / size != n)
		bytes = 0;
	return alloc_enter(ctx, ALLOC_CALLOC, bytes, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_realloc, __u64 ptr, __u64 size)
{
	return alloc_enter(ctx, ALLOC_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(on_posix_memalign, __u64 memptr, __u64 align, __u64 size)
{
	return alloc_enter(ctx, ALLOC_POSIX_MEMALIGN, size, memptr);
}

SEC("uprobe")
int BPF_KPROBE(on_aligned_alloc, __u64 align, __u64 size)
{
	return alloc_enter(ctx, ALLOC_ALIGNED_ALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_memalign, __u64 align, __u64 size)
{
	return alloc_enter(ctx, ALLOC_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_valloc, __u64 size)
{
	return alloc_enter(ctx, ALLOC_VALLOC, size, 0);
}

/* One return program for every function but free: what to do is in the call. */
SEC("uretprobe")
int BPF_KRETPROBE(on_alloc_return)
{
	return alloc_exit(ctx);
}

SEC("uprobe")
int BPF_KPROBE(on_free, __u64 ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mem_alloc_call *c;

	if (!mem_in_window())
		return 0;
	/* Inside realloc: realloc's return accounts for it. */
	c = bpf_map_lookup_elem(&mem_alloc_calls, &tid);
	if (c && c->depth && c->sp > PT_REGS_SP(ctx))
		return 0;
	alloc_free(id >> 32, ptr, ALLOC_FREE);
	return 0;
}

#define PROT_NONE     0
#define MAP_ANONYMOUS 0x20
#define MAP_STACK     0x20000

/* mmap returned addr for the call c of a target: an anonymous mapping made
 * outside the allocator is a block of its own, by the stack that made it.
 * That is how CPython's pymalloc gets its arenas (256 KiB in 3.9, 1 MiB
 * from 3.10), whose pools hold every object of 512 bytes or less (and
 * mimalloc its segments): what the process keeps of its small objects.
 * glibc's own mappings (large blocks, thread heaps) are made inside its
 * calls, whose blocks they are; thread stacks (MAP_STACK), reservations
 * (PROT_NONE) and fixed mappings are not allocations.
 */
static __always_inline void alloc_mapped(void *ctx, __u64 addr, const struct mem_call *c)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mem_alloc_call *a;

	if (addr >= MAX_ERRNO_ADDR || !(c->args[3] & MAP_ANONYMOUS) ||
	    (c->args[3] & (MAP_FIXED | MAP_STACK)) || c->args[2] == PROT_NONE)
		return;
	a = bpf_map_lookup_elem(&mem_alloc_calls, &tid);
	if (a && a->depth)
		return;
	alloc_new(ctx, (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), id >> 32,
		  addr, c->args[1], true);
}

/* Whether the current thread is inside an allocator call: glibc maps,
 * remaps and unmaps its large blocks itself, and those are its blocks.
 */
static __always_inline bool alloc_inside(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_alloc_call *a = bpf_map_lookup_elem(&mem_alloc_calls, &tid);

	return a && a->depth;
}

#define PAGE_ROUND(n) (((n) + 4095) & ~4095ull)

/* munmap(addr, len) (c) succeeded outside the allocator. The usual case, a whole
 * mapping tracked as a block (a pymalloc arena), frees it. Any other range
 * (part of a mapping, several at once) goes to userspace, which keeps the
 * sampled mappings by range and cuts them; a block starting at addr leaves
 * the exact counts then, whatever of it stays mapped.
 */
static __always_inline void alloc_unmapped(const struct mem_call *c)
{
	__u64 addr = c->args[0], len = c->args[1];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct mem_block_key k = { .tgid = tgid, .addr = addr };
	struct mem_block *b;

	if (alloc_inside())
		return;
	b = bpf_map_lookup_elem(&mem_blocks, &k);
	if (b && b->mapped && PAGE_ROUND(b->size) == PAGE_ROUND(len)) {
		alloc_free(tgid, addr, ALLOC_MUNMAP);
		return;
	}
	stat_inc(STAT_MEM_MAP_PARTS);
	if (b && b->mapped) {
		stat_inc(STAT_MEM_FREES);
		stat_add(STAT_MEM_FREE_BYTES, b->size);
		bpf_map_delete_elem(&mem_blocks, &k);
	}
	mem_emit(c, MEM_RELEASE, addr, len, 0, 0);
}

/* mremap (c) of [addr, addr + len) to [addr2, addr2 + len2) succeeded outside
 * the allocator: userspace moves the sampled mappings there; growth is an
 * allocation of its own, by the stack that grew it, drawn as one (a
 * mapping grown a page at a time is sampled by bytes like the rest).
 */
static __always_inline void alloc_remapped(void *ctx, const struct mem_call *c, __u64 addr2)
{
	__u64 addr = c->args[0], len = c->args[1], len2 = c->args[2];
	__u64 id = bpf_get_current_pid_tgid(), grown = len2 > len ? len2 - len : 0;
	struct mem_block_key k = { .tgid = id >> 32, .addr = addr };
	struct mem_block *b, nb = { .mapped = 1 };
	struct mem_event *e;
	bool sampled;

	if (alloc_inside())
		return;
	stat_inc(STAT_MEM_MAP_RESIZES);
	sampled = grown && (grown >= mem_sample_bytes ||
			    (((__u64)bpf_get_prandom_u32() * mem_sample_bytes) >> 32) < grown);
	if (grown)
		stat_add(STAT_MEM_ALLOC_BYTES, grown);
	/* The exact counts: the block goes where it went, at its new size;
	 * its munmap goes out when any part of it was sampled.
	 */
	b = bpf_map_lookup_elem(&mem_blocks, &k);
	if (b && b->mapped) {
		nb.size = len2;
		nb.sampled = b->sampled || sampled;
		if (len > len2)
			stat_add(STAT_MEM_FREE_BYTES, len - len2);
		bpf_map_delete_elem(&mem_blocks, &k);
		k.addr = addr2;
		if (bpf_map_update_elem(&mem_blocks, &k, &nb, BPF_ANY)) {
			stat_inc(STAT_MEM_BLOCKS_FULL);
			stat_add(STAT_MEM_BLOCKS_FULL_BYTES, len2);
		}
	}
	if (!sampled) {
		mem_emit(c, MEM_MOVE, addr, len, addr2, len2);
		return;
	}
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_MEM_EVENTS_LOST);
		return;
	}
	stat_inc(STAT_MEM_ALLOC_SAMPLED);
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MEM_MOVE;
	e->nr = NR_mremap;
	e->flags = MEM_EV_GROWN;
	e->ts = c->ts;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->addr = addr;
	e->len = len;
	e->addr2 = addr2;
	e->len2 = len2;
	e->key.pid = e->pid;
	e->key.tid = e->tid;
	e->key.kind = KIND_MEM;
	mem_stack(&e->key, (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), ctx,
		  e->pid);
	mem_submit(e);
}

#endif

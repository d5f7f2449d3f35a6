/* SPDX-License-Identifier: GPL-2.0 */
/* Python stack walker: finds the sampled thread's PyThreadState by matching
 * tstate->thread_id (a pthread_t, which on x86-64 glibc and musl is the
 * thread's fs base) against task->thread.fsbase, then follows the frame chain
 * and records (code object, bytecode offset) pairs. No symbols, TLS layout or
 * libc internals are needed, so stripped interpreters and containers work.
 */
#ifndef RAMPA_PYSTACK_BPF_H
#define RAMPA_PYSTACK_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tgid */
	__type(value, struct py_proc);
} py_procs SEC(".maps");

/* tid -> tstate found by the last walk; checked again on every use. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
} py_tstates SEC(".maps");

#define PY_STACK_MAP(name)                       \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__type(key, __u64);              \
		__type(value, struct py_stack);  \
	} name SEC(".maps")

PY_STACK_MAP(py_stacks0);
PY_STACK_MAP(py_stacks1);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct py_stack);
} offcpu_py_stacks SEC(".maps");

/* The stack under construction is too big for the 512-byte BPF stack, and
 * frame fields sit at offsets known only at run time, which the verifier
 * allows in map values but not on the stack. No two walks nest on one CPU:
 * the sampler does not run with the syscall hooks (gil-wait has no sampler)
 * and the scheduler hook runs with interrupts off.
 */
struct py_scratch {
	struct py_stack stack;
	char frame[PY_FRAME_READ_MAX];
	char code[PY_CODE_READ_MAX];
	/* The scheduler hook's frames: one read of up to PY_WIN bytes of the
	 * data stack below a frame brings its callers with it (3.11+); the
	 * slack lets a frame near the window's end be read at any field.
	 */
	char win[PY_WIN];
	__u64 win_lo; /* address of win[0] */
	__u32 win_len;
	/* An id of the walk is not trusted: no memo. Here, not in struct
	 * py_walk: a field of the loop's state that changes between steps
	 * makes the verifier go through the step once more for each value.
	 */
	__u32 untrusted;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} py_scratch SEC(".maps");

/* Code objects known in each process: what identified them at first sight,
 * and the id their names were sent under. A code object whose identity
 * changed (freed, another one at its address) gets a new id and event.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct py_code_key);
	__type(value, struct py_code_val);
} py_codes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} py_code_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_code_event);
} py_code_scratch SEC(".maps");

/* Last code id handed out; userspace's own ids have bit 63 set. */
__u64 py_code_last_id;

/* code_dealloc runs seen, in every probed process: a thread's memo of code
 * ids (struct py_memo) holds only while none ran since it was begun.
 */
__u64 py_code_frees;

/* The last Python walk of a thread at a switch-out (scheduler hook, code
 * frees watched): the code object at each depth and its id, and the stack
 * it gave. While no code object was freed since (py_code_frees) and the
 * probe is the same (code_free_epoch), a code object at an address of the
 * memo is the one it names: checked when it was taken, and not freed since.
 * The frames themselves are read at every walk: frames reuse addresses, so
 * only the code objects and instructions read now tell callers apart.
 */
struct py_memo {
	__u64 frees;  /* py_code_frees before the walk that made it */
	__u64 tstate; /* the thread's state, checked again at each use */
	/* The stacks of its last two walks (a thread often leaves a CPU at two
	 * places in turn: preempted, and blocked), both in offcpu_py_stacks.
	 */
	__u64 hash[2];
	__u32 pid;
	__u32 epoch; /* py_proc.code_free_epoch */
	__u32 n;     /* depths with a code id below */
	__u32 valid; /* 0: being rebuilt, or the walk was not all trusted */
	__u64 code[PY_MEMO_FRAMES];
	__u64 id[PY_MEMO_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct py_memo);
} py_memos SEC(".maps");

struct py_walk {
	const struct py_proc *proc;
	struct py_stack *stack;
	char *buf;	      /* struct py_scratch.frame */
	char *code;	      /* struct py_scratch.code */
	struct py_memo *memo; /* NULL: none */
	__u32 pid;
	__u64 frame;
	__u64 hash;
	__u32 win_on;	  /* frames read through py_win_fetch() (3.11+, scheduler hook) */
	__u32 memo_ok;	  /* memo's ids usable */
	__u32 *untrusted; /* struct py_scratch.untrusted */
	__u32 next_flags;
	int status;
};

static __always_inline __u64 read_u64(const void *buf, __u32 off)
{
	/* The offsets come from a map: bound them for the verifier. */
	if (off > PY_FRAME_READ_MAX - 8)
		return 0;
	return *(const __u64 *)((const char *)buf + off);
}

static __always_inline __u64 read_code_u64(const char *buf, __u32 off)
{
	if (off > PY_CODE_READ_MAX - 8)
		return 0;
	return *(const __u64 *)(buf + off);
}

/* A str object's characters as they are now: all their bytes, or the first
 * and last PY_CODE_STR_BYTES / 2 when longer. ok stays 0 if unreadable.
 */
static __noinline void py_read_str(const struct py_proc *p, __u64 addr, struct py_code_str *s)
{
	struct {
		__u64 refcnt, type;
		__s64 length;
		__u64 hash;
		__u32 state;
	} hdr;
	__u32 kind, n, half = PY_CODE_STR_BYTES / 2;
	__u64 data, total;

	s->addr = addr;
	s->ok = 0;
	s->nbytes = 0;
	s->length = 0;
	s->state = 0;
	if (!addr || bpf_probe_read_user(&hdr, sizeof(hdr), (void *)addr))
		return;
	kind = (hdr.state >> 2) & 7;
	if (hdr.length < 0 || hdr.length > (1 << 28) || (kind != 1 && kind != 2 && kind != 4))
		return;
	s->length = hdr.length;
	s->state = hdr.state;
	if ((hdr.state >> 5) & 1) /* compact: characters follow the header */
		data = addr + (((hdr.state >> 6) & 1) ? p->uni_ascii_data : p->uni_compact_data);
	else if (bpf_probe_read_user(&data, sizeof(data), (void *)(addr + p->uni_compact_data)))
		return;
	total = (__u64)hdr.length * kind;
	if (total <= PY_CODE_STR_BYTES) {
		n = total;
		if (n > PY_CODE_STR_BYTES)
			return;
		if (bpf_probe_read_user(s->data, n, (void *)data))
			return;
		s->nbytes = n;
	} else {
		if (bpf_probe_read_user(s->data, half, (void *)data) ||
		    bpf_probe_read_user(s->data + half, half, (void *)(data + total - half)))
			return;
		s->nbytes = PY_CODE_STR_BYTES;
	}
	s->ok = 1;
}

/* First sight of a code object (or of a new one at a known address): send
 * its names and line table to userspace under a new id. 0: not sent.
 */
static __noinline __u64 py_code_send(const struct py_proc *p, __u32 pid, __u64 code,
				     const char *buf, __u64 fingerprint)
{
	struct py_code_key key = { .pid = pid, .addr = code };
	struct py_code_val val = { .fingerprint = fingerprint, .trusted = p->code_free_hooked };
	struct py_code_event *ev;
	__u64 lt, len = 0;
	__u32 zero = 0, n;

	ev = bpf_map_lookup_elem(&py_code_scratch, &zero);
	if (!ev)
		return 0;
	ev->pid = pid;
	ev->version = p->version;
	ev->addr = code;
	ev->filename_ptr = read_code_u64(buf, p->co_filename);
	ev->name_ptr = read_code_u64(buf, p->co_name);
	ev->qualname_ptr = read_code_u64(buf, p->co_qualname);
	ev->linetable_ptr = lt = read_code_u64(buf, p->co_linetable);
	ev->firstlineno = (__s32)read_code_u64(buf, p->co_firstlineno);
	py_read_str(p, ev->qualname_ptr, &ev->qualname);
	py_read_str(p, ev->filename_ptr, &ev->filename);
	/* PyBytesObject: ob_size at 0x10, bytes from 0x20, in every version. */
	ev->linetable_ok = 0;
	ev->linetable_len = 0;
	ev->linetable_copied = 0;
	if (lt && !bpf_probe_read_user(&len, sizeof(len), (void *)(lt + 0x10)) &&
	    len < (1ULL << 31)) {
		n = len < PY_CODE_LINETABLE_BYTES ? len : PY_CODE_LINETABLE_BYTES;
		if (n <= PY_CODE_LINETABLE_BYTES &&
		    !bpf_probe_read_user(ev->linetable, n, (void *)(lt + 0x20))) {
			ev->linetable_ok = 1;
			ev->linetable_len = len;
			ev->linetable_copied = n;
		}
	}
	ev->id = __sync_fetch_and_add(&py_code_last_id, 1) + 1;
	if (bpf_ringbuf_output(&py_code_events, ev, sizeof(*ev), 0)) {
		stat_inc(STAT_PY_CODE_LOST);
		return 0;
	}
	stat_inc(STAT_PY_CODE_EVENTS);
	val.id = ev->id;
	bpf_map_update_elem(&py_codes, &key, &val, BPF_ANY);
	return val.id;
}

/* Mix what a str object holds into fp: its length and kind, and for a
 * compact ASCII string its first 24 characters. A new code object can sit
 * at a freed one's address with its new name at the freed name's address
 * (code.replace(), generated names): the pointers alone match, the text
 * does not. Reference count and cached hash change by themselves: not used.
 */
static __always_inline __u64 py_str_fingerprint(const struct py_proc *p, __u64 addr, __u64 fp)
{
	__u64 w[9] = {}, len, state, word;
	__u32 off = p->uni_ascii_data;

	if (!addr)
		return fp;
	if (bpf_probe_read_user(w, sizeof(w), (void *)addr) &&
	    bpf_probe_read_user(w, 0x28, (void *)addr))
		return fp;
	len = w[2];
	state = (w[4] >> 2) & 0x1f; /* kind, compact, ascii */
	fp = (fp ^ len) * 0x100000001b3ULL;
	fp = (fp ^ state) * 0x100000001b3ULL;
	if (state != 0x19 || (off != 0x28 && off != 0x30)) /* compact ASCII: 1 | 8 | 16 */
		return fp;
	for (__u32 i = 0; i < 3; i++) {
		__u64 valid = len > 8 * i ? len - 8 * i : 0;
		__u32 idx = off / 8 + i;

		if (idx > 8)
			break;
		word = w[idx];
		if (valid < 8)
			word &= (1ULL << (8 * valid)) - 1;
		fp = (fp ^ word) * 0x100000001b3ULL;
	}
	return fp;
}

/* The id of the code object at code in process pid, as it is now; 0 with
 * *flags telling why there is none.
 */
static __always_inline __u64 py_code_id(const struct py_proc *p, __u32 pid, __u64 code, char *buf,
					__u32 *flags, __u32 *trusted)
{
	struct py_code_key key = { .pid = pid, .addr = code };
	__u32 size = p->co_read_size;
	struct py_code_val *known = NULL;
	__u64 fp = 0xcbf29ce484222325ULL, id;

	/* Checked since code_dealloc was probed and not freed since: the same
	 * object (a live frame holds a reference to its code object, so the
	 * walked thread's own code objects cannot be freed under the walk).
	 */
	if (p->code_free_hooked) {
		known = bpf_map_lookup_elem(&py_codes, &key);
		if (known && known->trusted && !known->dead) {
			*trusted = 1;
			return known->id;
		}
	}
	if (size > PY_CODE_READ_MAX || size < 0x20)
		size = PY_CODE_READ_MAX;
	/* Bound again in the register the read takes: with the branch above,
	 * clang checked a copy and the verifier lost the bound.
	 */
	asm volatile("" : "+r"(size));
	if (size > PY_CODE_READ_MAX)
		return 0;
	if (bpf_probe_read_user(buf, size, (void *)code)) {
		stat_inc(STAT_PY_CODE_UNREADABLE);
		*flags |= PY_FRAME_CODE_UNREADABLE;
		return 0;
	}
	/* Identity: the name, file and line table objects, the first line,
	 * and the two words after the object header (ob_size and co_consts
	 * from 3.11, argument counts before).
	 */
	fp = (fp ^ read_code_u64(buf, p->co_filename)) * 0x100000001b3ULL;
	fp = (fp ^ read_code_u64(buf, p->co_name)) * 0x100000001b3ULL;
	fp = (fp ^ read_code_u64(buf, p->co_qualname)) * 0x100000001b3ULL;
	fp = (fp ^ read_code_u64(buf, p->co_linetable)) * 0x100000001b3ULL;
	fp = (fp ^ (__u32)read_code_u64(buf, p->co_firstlineno)) * 0x100000001b3ULL;
	fp = (fp ^ read_code_u64(buf, 0x10)) * 0x100000001b3ULL;
	fp = (fp ^ read_code_u64(buf, 0x18)) * 0x100000001b3ULL;
	fp = py_str_fingerprint(p, read_code_u64(buf, p->co_qualname), fp);
	if (!p->code_free_hooked)
		known = bpf_map_lookup_elem(&py_codes, &key);
	if (known && known->fingerprint == fp) {
		/* A dead one that still reads the same is the object being
		 * freed (or its twin): named, never trusted.
		 */
		if (p->code_free_hooked && !known->dead) {
			known->trusted = 1;
			*trusted = 1;
		}
		return known->id;
	}
	id = py_code_send(p, pid, code, buf, fp);
	if (!id)
		*flags |= PY_FRAME_CODE_LOST;
	else if (p->code_free_hooked)
		*trusted = 1;
	return id;
}

/* The frame at addr, size bytes, into py_scratch.frame through the window
 * (py_scratch.win): 3.11+ frames are pushed on the thread's data stack, so
 * the callers of a frame lie below it. A frame outside the window brings a
 * new one: down to its page's start (mapped with the frame) or PY_WIN
 * bytes, so its callers come from the copy, not a read each. 0, or -1 when
 * unreadable. A global function: verified once, apart from the walks.
 */
__noinline long py_win_fetch(__u64 addr, __u32 size)
{
	struct py_scratch *s;
	__u64 off, end, lo, page;
	__u32 zero = 0, len;

	s = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!s || size > PY_FRAME_READ_MAX || size < 8)
		return -1;
	off = addr - s->win_lo;
	if (addr < s->win_lo || off + size > s->win_len) {
		end = addr + size;
		lo = end - PY_WIN;
		page = addr & ~4095ULL;
		if (end < PY_WIN || lo < page)
			lo = page;
		len = end - lo;
		asm volatile("" : "+r"(len));
		if (len > PY_WIN || len < size)
			return -1;
		if (bpf_probe_read_user(s->win, len, (void *)lo)) {
			s->win_len = 0;
			return -1;
		}
		s->win_lo = lo;
		s->win_len = len;
		off = addr - lo;
	}
	/* A kernel-side copy out of the window: the walk reads the frame
	 * where it always does, and the verifier never sees an offset into
	 * the window known only at run time.
	 */
	if (off > PY_WIN - size)
		return -1;
	return bpf_probe_read_kernel(s->frame, size, s->win + (off & (PY_WIN - 1))) ? -1 : 0;
}

static long py_walk_step(__u32 i, void *ctx)
{
	struct py_walk *w = ctx;
	const struct py_proc *p = w->proc;
	struct py_stack *st = w->stack;
	char *buf = w->buf;
	__u32 size = p->fr_read_size, depth;
	__u64 code, ip, id, here = w->frame;
	__u32 cflags = 0, trusted = 0;
	__s64 offset;
	__u8 owner;

	if (!w->frame)
		return 1;
	if (size > PY_FRAME_READ_MAX || size < 8)
		size = PY_FRAME_READ_MAX;
	if (w->win_on) {
		if (py_win_fetch(here, size)) {
			w->status = PY_READ_FAILED;
			return 1;
		}
	} else if (bpf_probe_read_user(buf, size, (void *)w->frame)) {
		w->status = PY_READ_FAILED;
		return 1;
	}
	code = read_u64(buf, p->fr_code) & ~(__u64)p->code_tag_mask;
	w->frame = read_u64(buf, p->fr_previous);

	/* C-stack shim and entry frames stand for a C call into the interpreter:
	 * the next real frame below starts a run entered from C.
	 */
	if (p->fr_owner != PY_OFF_NONE && p->fr_owner < PY_FRAME_READ_MAX) {
		owner = buf[p->fr_owner & (PY_FRAME_READ_MAX - 1)];
		if (owner >= p->owner_skip_min) {
			if (st->depth > 0 && st->depth <= RAMPA_PY_MAX_DEPTH)
				st->frames[(st->depth - 1) & (RAMPA_PY_MAX_DEPTH - 1)].flags |=
				    PY_FRAME_ENTRY;
			/* Where the run's eval-loop call is on the C stack. */
			depth = st->nentries;
			if (depth < RAMPA_PY_MAX_ENTRIES) {
				st->entries[depth] = here;
				st->entry_depths[depth] = st->depth;
			}
			if (depth <= RAMPA_PY_MAX_ENTRIES)
				st->nentries = depth + 1;
			w->hash = (w->hash ^ here) * 0x100000001b3ULL;
			return 0;
		}
	}
	if (!code)
		return 0;

	switch (p->ip_mode) {
	case PY_IP_LASTI_BYTES:
		offset = *(__s32 *)(buf + (p->fr_ip & (PY_FRAME_READ_MAX - 8)));
		break;
	case PY_IP_LASTI_WORDS:
		offset = 2 * (__s64) * (__s32 *)(buf + (p->fr_ip & (PY_FRAME_READ_MAX - 8)));
		break;
	default:
		ip = read_u64(buf, p->fr_ip);
		offset = ip ? (__s64)(ip - (code + p->co_code_adaptive)) : -2;
		break;
	}

	depth = st->depth;
	if (depth >= RAMPA_PY_MAX_DEPTH) {
		st->truncated = 1;
		return 1;
	}
	/* 3.9/3.10: every frame is its own C-level eval call. 3.11: is_entry. */
	if (p->ip_mode != PY_IP_POINTER)
		cflags = PY_FRAME_ENTRY;
	else if (p->fr_is_entry != PY_OFF_NONE && p->fr_is_entry < PY_FRAME_READ_MAX &&
		 buf[p->fr_is_entry & (PY_FRAME_READ_MAX - 1)])
		cflags = PY_FRAME_ENTRY;
	id = 0;
	if (w->memo_ok && w->memo && depth < PY_MEMO_FRAMES && depth < w->memo->n &&
	    w->memo->code[depth & (PY_MEMO_FRAMES - 1)] == code) {
		id = w->memo->id[depth & (PY_MEMO_FRAMES - 1)];
		trusted = 1;
		stat_inc(STAT_PY_MEMO_IDS);
	}
	if (!id)
		id = py_code_id(p, w->pid, code, w->code, &cflags, &trusted);
	if (w->memo && depth < PY_MEMO_FRAMES) {
		w->memo->code[depth & (PY_MEMO_FRAMES - 1)] = code;
		w->memo->id[depth & (PY_MEMO_FRAMES - 1)] = id;
	}
	if ((!trusted || !id) && w->untrusted)
		*w->untrusted = 1;
	st->frames[depth].code = id ? id : code;
	st->frames[depth].offset = (__s32)offset;
	st->frames[depth].flags = cflags;
	st->depth = depth + 1;
	w->hash = (w->hash ^ st->frames[depth].code) * 0x100000001b3ULL;
	w->hash =
	    (w->hash ^ (__u32)offset ^ ((__u64)st->frames[depth].flags << 32)) * 0x100000001b3ULL;
	return 0;
}

struct py_thread_search {
	__u64 tstate;
	__u64 fsbase;
	__u16 next_off, id_off;
	__u64 found;
};

static long py_thread_step(__u32 i, void *ctx)
{
	struct py_thread_search *s = ctx;
	__u64 id = 0;

	if (!s->tstate)
		return 1;
	/* An unreadable list ends the search; only a long one counts as cut. */
	if (bpf_probe_read_user(&id, sizeof(id), (void *)(s->tstate + s->id_off))) {
		s->tstate = 0;
		return 1;
	}
	if (id == s->fsbase) {
		s->found = s->tstate;
		return 1;
	}
	if (bpf_probe_read_user(&s->tstate, sizeof(s->tstate), (void *)(s->tstate + s->next_off))) {
		s->tstate = 0;
		return 1;
	}
	return 0;
}

static __always_inline __u64 py_find_tstate(const struct py_proc *p, __u32 tid, __u64 fsbase)
{
	struct py_thread_search s = { .fsbase = fsbase };
	__u64 *cached = bpf_map_lookup_elem(&py_tstates, &tid);
	__u64 interp = 0, id = 0;

	if (cached && *cached &&
	    !bpf_probe_read_user(&id, sizeof(id), (void *)(*cached + p->ts_thread_id)) &&
	    id == fsbase)
		return *cached;
	if (bpf_probe_read_user(&interp, sizeof(interp),
				(void *)(p->runtime + p->rt_interp_head)) ||
	    !interp)
		return 0;
	if (bpf_probe_read_user(&s.tstate, sizeof(s.tstate), (void *)(interp + p->interp_threads)))
		return 0;
	s.next_off = p->ts_next;
	s.id_off = p->ts_thread_id;
	bpf_loop(RAMPA_PY_MAX_THREADS, py_thread_step, &s, 0);
	if (!s.found && s.tstate)
		stat_inc(STAT_PY_THREADS_LIMIT);
	if (s.found)
		bpf_map_update_elem(&py_tstates, &tid, &s.found, BPF_ANY);
	return s.found;
}

static __always_inline bool py_leaf_only(__u32 tgid)
{
	const struct py_proc *p = bpf_map_lookup_elem(&py_procs, &tgid);

	return p && p->native_leaf_only;
}

/* The thread's current frame from its state's frame field (read: the value
 * of tstate's frame field), through 3.11/3.12's cframe. 0: none.
 */
static __always_inline __u64 py_current_frame(const struct py_proc *p, __u64 frame)
{
	if (frame && p->cframe_current != PY_OFF_NONE &&
	    bpf_probe_read_user(&frame, sizeof(frame), (void *)(frame + p->cframe_current)))
		frame = 0;
	return frame;
}

/* Walk the Python frames from frame into map. The stack's hash goes to
 * *hash (0 if none), the outcome to *status. With memo (the scheduler hook's,
 * code frees watched), code ids come from the thread's last walk where the
 * same code object is at the same depth and no code object was freed since
 * (frees: py_code_frees read before the walk), a stack equal to the last one
 * is not stored again, and the memo is remade from this walk.
 */
static __always_inline void py_walk_frames(const struct py_proc *p, __u32 pid, __u64 frame,
					   void *map, __u64 *hash, __u32 *status,
					   struct py_memo *memo, __u64 frees)
{
	struct py_walk w = {};
	struct py_scratch *scratch;
	__u64 last_hash[2] = {};
	__u32 zero = 0;
	long err;

	*hash = 0;
	if (!frame) {
		*status = PY_NO_FRAME;
		return;
	}
	scratch = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!scratch)
		return;
	w.stack = &scratch->stack;
	w.buf = scratch->frame;
	w.code = scratch->code;
	w.pid = pid;
	w.stack->depth = 0;
	w.stack->truncated = 0;
	w.stack->nentries = 0;
	w.proc = p;
	w.frame = frame;
	w.hash = 0xcbf29ce484222325ULL;
	w.status = PY_OK;
	scratch->untrusted = 0;
	w.untrusted = &scratch->untrusted;
	if (memo) {
		w.memo = memo;
		w.memo_ok = memo->valid && memo->pid == pid && memo->epoch == p->code_free_epoch &&
			    memo->frees == frees;
		/* Stored by this thread's walks (whatever freed since): there still. */
		last_hash[0] = memo->hash[0];
		last_hash[1] = memo->hash[1];
		memo->valid = 0;
		/* Frames in the data stack: read a page's worth at a time. */
		if (p->ip_mode == PY_IP_POINTER) {
			scratch->win_len = 0;
			w.win_on = 1;
		}
	}
	/* Shim frames take loop steps too: allow for one per real frame. */
	bpf_loop(2 * RAMPA_PY_MAX_DEPTH, py_walk_step, &w, 0);
	if (w.status == PY_READ_FAILED)
		stat_inc(STAT_PY_READ_FAILED);
	if (w.stack->depth == 0) {
		*status = w.status == PY_OK ? PY_NO_FRAME : w.status;
		return;
	}
	if (w.frame && w.status == PY_OK)
		w.stack->truncated = 1;
	w.hash ^= w.stack->truncated;
	if (!w.hash)
		w.hash = 1;
	/* The thread's last stack again: it is in the map already (nothing
	 * removes an off-CPU Python stack during a run).
	 */
	if (w.hash == last_hash[0] || w.hash == last_hash[1]) {
		stat_inc(STAT_PY_MEMO_SAME);
	} else {
		err = bpf_map_update_elem(map, &w.hash, w.stack, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			stat_inc(STAT_PY_STACK_MAP_FULL);
			*status = PY_MAP_FULL;
			return;
		}
	}
	*hash = w.hash;
	*status = w.status != PY_OK ? w.status : w.stack->truncated ? PY_TRUNCATED : PY_OK;
	if (memo && w.hash != last_hash[0]) {
		memo->hash[1] = last_hash[0];
		memo->hash[0] = w.hash;
	}
	if (memo && !scratch->untrusted && w.status == PY_OK) {
		memo->frees = frees;
		memo->pid = pid;
		memo->epoch = p->code_free_epoch;
		memo->n = w.stack->depth < PY_MEMO_FRAMES ? w.stack->depth : PY_MEMO_FRAMES;
		memo->valid = 1;
	}
}

/* Walk the Python stack of the thread whose state is tstate into map. The
 * stack's hash goes to *hash (0 if none), the outcome to *status.
 */
static __always_inline void py_walk_tstate(const struct py_proc *p, __u32 pid, __u64 tstate,
					   void *map, __u64 *hash, __u32 *status)
{
	__u64 frame = 0;

	if (bpf_probe_read_user(&frame, sizeof(frame), (void *)(tstate + p->ts_frame)))
		frame = 0;
	py_walk_frames(p, pid, py_current_frame(p, frame), map, hash, status, NULL, 0);
}

/* Capture the Python stack of the current thread into the Python stack map
 * map; sets key->py_stack and key->py_status. Returns the thread state, or 0.
 */
static __always_inline __u64 py_capture(struct sample_key *key, void *map)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct py_proc *p = bpf_map_lookup_elem(&py_procs, &key->pid);
	__u64 tstate;

	if (!p)
		return 0;
	tstate = py_find_tstate(p, key->tid, task->thread.fsbase);
	if (!tstate) {
		key->py_status = PY_NO_THREAD;
		return 0;
	}
	py_walk_tstate(p, key->pid, tstate, map, &key->py_stack, &key->py_status);
	return tstate;
}

/* py_capture() for the scheduler hook, into offcpu_py_stacks: a thread
 * leaves a CPU over and over with the same stack, so what its last walk
 * proved is kept with the task (struct py_memo): its thread state, checked
 * in the same read that gives its frame, and its code ids. A global
 * function: verified once, not along every path of the hook. Returns 0.
 */
__noinline long py_capture_switch(struct sample_key *key)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct py_proc *p;
	__u64 tstate = 0, frame = 0, frees, fsbase = task->thread.fsbase;
	struct py_memo *memo = NULL;
	struct py_scratch *scratch;
	__u32 zero = 0, size;

	if (!key)
		return 0;
	p = bpf_map_lookup_elem(&py_procs, &key->pid);
	if (!p)
		return 0;
	frees = *(volatile __u64 *)&py_code_frees;
	if (p->code_free_hooked && p->code_free_epoch)
		memo = bpf_task_storage_get(&py_memos, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* Without a memo: as any other walk (code objects checked by reading). */
	if (!memo) {
		py_capture(key, &offcpu_py_stacks);
		return 0;
	}
	/* The state the memo names, if still this thread's: one read of its
	 * head gives both the thread id to check and the frame.
	 */
	scratch = bpf_map_lookup_elem(&py_scratch, &zero);
	if (memo->pid == key->pid && memo->tstate && scratch) {
		size = (p->ts_thread_id > p->ts_frame ? p->ts_thread_id : p->ts_frame) + 8;
		asm volatile("" : "+r"(size));
		if (size <= PY_CODE_READ_MAX - 8 &&
		    !bpf_probe_read_user(scratch->code, size, (void *)memo->tstate) &&
		    read_code_u64(scratch->code, p->ts_thread_id) == fsbase) {
			tstate = memo->tstate;
			frame = read_code_u64(scratch->code, p->ts_frame);
		}
	}
	if (!tstate) {
		tstate = py_find_tstate(p, key->tid, fsbase);
		if (!tstate) {
			key->py_status = PY_NO_THREAD;
			return 0;
		}
		if (bpf_probe_read_user(&frame, sizeof(frame), (void *)(tstate + p->ts_frame)))
			frame = 0;
		memo->tstate = tstate;
		memo->valid = 0;
		memo->pid = key->pid;
	}
	py_walk_frames(p, key->pid, py_current_frame(p, frame), &offcpu_py_stacks, &key->py_stack,
		       &key->py_status, memo, frees);
	return 0;
}

/* code_dealloc(co) of a probed process (the address PyCode_Type's
 * tp_dealloc points to): the object at co is no longer the one known there.
 * Marked, not deleted: a walk that reads it while it is being freed (a
 * frame being cleared still points to it) must not trust it again.
 */
SEC("uprobe")
int BPF_KPROBE(on_code_dealloc, __u64 co)
{
	struct py_code_key key = {};
	struct py_code_val *known;

	__sync_fetch_and_add(&py_code_frees, 1);
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.addr = co;
	known = bpf_map_lookup_elem(&py_codes, &key);
	if (known) {
		known->dead = 1;
		known->trusted = 0;
		stat_inc(STAT_PY_CODE_FREED);
	}
	return 0;
}

/* Does the thread with state tstate hold its interpreter's GIL? */
static __always_inline bool py_holds_gil(__u32 tgid, __u64 tstate)
{
	const struct py_proc *p = bpf_map_lookup_elem(&py_procs, &tgid);
	__u64 last_holder = 0;
	__s32 locked = 0;

	if (!p || !p->gil || !tstate ||
	    bpf_probe_read_user(&locked, sizeof(locked), (void *)(p->gil + p->gil_locked)) ||
	    bpf_probe_read_user(&last_holder, sizeof(last_holder),
				(void *)(p->gil + p->gil_last_holder)))
		return false;
	return locked && last_holder == tstate;
}

#endif

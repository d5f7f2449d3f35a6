/* SPDX-License-Identifier: GPL-2.0 */
/* Inside pythreads (src/pythreads.c, src/pyobject.c): what the two files
 * share. pyobject.c reads CPython objects in a target's memory (str, int,
 * dict, an instance's attributes), every read bounded and checked;
 * pythreads.c follows a process's threads and their names with it.
 */
#ifndef RAMPA_PYTHREADS_INT_H
#define RAMPA_PYTHREADS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pythreads.h"

/* glibc's struct pthread keeps the kernel tid here on x86-64 (2.31 to 2.43,
 * docs/cpython-internals.md §2); a thread's ident is its pthread_t.
 */
#define GLIBC_PTHREAD_TID 0x2d0
#define PROC_BUCKETS	  64
#define TYPE_CACHE	  16
#define ENTRY_CHUNK	  256
/* A full content scan of a dict is redone after this many refreshes, in case
 * its keys object was freed and another allocated at the same address.
 */
#define RESCAN_EVERY 16

/* Type flags, the same in 3.9-3.15 (object.h). */
#define TPFLAGS_INLINE_VALUES	 (1UL << 2) /* 3.13+ */
#define TPFLAGS_MANAGED_DICT	 (1UL << 4) /* 3.11+ */
#define TPFLAGS_LONG_SUBCLASS	 (1UL << 24)
#define TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define TPFLAGS_DICT_SUBCLASS	 (1UL << 29)

enum inst_storage {
	INST_DICTOFFSET, /* 3.9/3.10: PyObject *__dict__ at obj + tp_dictoffset */
	INST_VALUES_311, /* values at obj - 32, dict at obj - 24 */
	INST_TAGGED_312, /* obj - 24: dict, or values - 1 (odd) */
	INST_INLINE_313, /* dict at obj - 24, else values at obj + tp_basicsize */
};

struct layout {
	uint32_t interp_modules; /* sys.modules in PyInterpreterState */
	uint16_t ht_cached_keys; /* PyHeapTypeObject */
	uint16_t tp_name, tp_basicsize, tp_flags, tp_dictoffset;
	uint16_t ma_keys, ma_values;
	uint16_t values_items; /* PyDictValues.values */
	uint16_t str_length, str_state, str_ascii, str_compact;
	uint16_t long_size, long_digits; /* ob_size (3.12+: lv_tag), ob_digit */
	bool long_tag;			 /* 3.12+: lv_tag = ndigits << 3 | sign */
	bool keys_39;			 /* 3.9/3.10 PyDictKeysObject */
	enum inst_storage inst;
};

/* The Thread attributes read, and where they sit in a type's shared keys. */
enum attr { ATTR_NATIVE_ID, ATTR_NAME, ATTR__MAX };
static const char *const attr_names[ATTR__MAX] = { "_native_id", "_name" };
#define IX_UNKNOWN (-1)
#define IX_ABSENT  (-2)

struct type_info {
	uint64_t addr;
	uint64_t flags, cached_keys;
	int64_t basicsize, dictoffset;
	int64_t ix[ATTR__MAX]; /* index in cached_keys, IX_UNKNOWN or IX_ABSENT */
	bool dummy;	       /* threading._DummyThread: Python's placeholder name */
};

/* A key str object found before, checked again once a refresh. */
struct hint {
	uint64_t key;
	unsigned int checked;
};

/* Where a content scan of one dict stopped: entries are only appended to a
 * keys object, so the ones scanned need not be read again.
 */
struct scan {
	uint64_t keys, scanned;
	unsigned int age;
};

/* CPython 3.14+ copies a thread's Python name into its OS name: encoded
 * with "replace" (a surrogate becomes '?'), cut to 15 bytes.
 */
#define OS_NAME_MAX 15

struct thread {
	pid_t tid, ns_tid;
	char *py;		       /* threading name last seen, NULL: none yet */
	char *os;		       /* OS name last seen (valid UTF-8), NULL: none yet */
	char os_raw[OS_NAME_MAX + 1];  /* ... its bytes as the kernel has them */
	char py_copy[OS_NAME_MAX + 1]; /* ... and what 3.14+ would copy of py */
	uint8_t os_len, py_copy_len;
	bool os_own;	   /* the OS name was set, not inherited */
	bool use_py;	   /* the Python name is the later one */
	bool counted;	   /* in stats.python_named */
	unsigned int seen; /* refresh that last listed it */
};

struct proc {
	pid_t pid;
	bool gone, other_ns;
	uint64_t start;		    /* procfs__start_time(): a reused PID differs */
	bool started;		    /* start is known */
	char comm[OS_NAME_MAX + 1]; /* the process's name, which threads inherit */
	uint8_t comm_len;
	bool comm_ok;
	unsigned int epoch; /* last refresh */
	struct thread *t;
	size_t n, cap;
	uint32_t *slots; /* tid -> index + 1 in t, open addressing */
	size_t nslots;
	uint64_t over; /* most threads not followed at one refresh */
	/* CPython, reset when the interpreter changes (exec) */
	uint64_t runtime;
	int minor;
	bool lay_ok;
	struct layout lay;
	struct hint h_threading, h_active, h_attr[ATTR__MAX];
	struct scan in_modules, in_threading;
	struct type_info types[TYPE_CACHE];
	unsigned int ntypes;
	struct proc *next;
};

struct pythreads {
	struct python *py;
	struct proc *procs[PROC_BUCKETS];
	unsigned int epoch;
	struct pythreads_stats stats;
};

/* ---- pyobject.c -------------------------------------------------------- */

/* Called for each live entry (ix: its index); nonzero stops the walk. */
typedef int (*entry_fn)(struct proc *p, uint64_t key, uint64_t value, uint64_t ix, void *ctx);

/* pyobj_keys_each() values for a keys object alone (shared keys): every key, value 0. */
#define KEYS_ONLY UINT64_MAX

char *pyobj_text_from_bytes(struct pythreads *pt, const char *b, size_t len);
/* The flags of the type of an object whose first 16 bytes are in hdr. */
uint64_t pyobj_hdr_flags(struct proc *p, const uint8_t *hdr, struct type_info **out);
int pyobj_rd(pid_t pid, uint64_t addr, void *buf, size_t len);
int pyobj_rd_ptr(pid_t pid, uint64_t addr, uint64_t *v);
void pyobj_layout_from_table(int minor, struct layout *l);
int pyobj_layout_from_debug(pid_t pid, uint64_t runtime, int minor, struct layout *l);
bool pyobj_layout_fits(const struct layout *l);
void pyobj_reset_python(struct proc *p);
char *pyobj_str_read(struct pythreads *pt, struct proc *p, uint64_t obj, char *copy,
		     uint8_t *copy_len);
int pyobj_long_read(struct proc *p, uint64_t obj, uint64_t *v);
int pyobj_keys_each(struct proc *p, uint64_t keys, uint64_t values, uint64_t from,
		    uint64_t *nentries, entry_fn fn, void *ctx);
int pyobj_dict_open(struct proc *p, uint64_t obj, uint64_t *keys, uint64_t *values);
int pyobj_dict_find(struct proc *p, uint64_t dict, const char *name, struct hint *hint,
		    struct scan *sc, uint64_t *value);
int pyobj_inst_storage(struct proc *p, uint64_t obj, const struct type_info *ti, uint64_t *dict,
		       uint64_t *values, uint64_t *cap);
int pyobj_attr_get(struct proc *p, struct type_info *ti, uint64_t dict, uint64_t values,
		   uint64_t cap, enum attr a, uint64_t *value);

#endif

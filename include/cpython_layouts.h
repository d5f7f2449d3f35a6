/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_CPYTHON_LAYOUTS_H
#define RAMPA_CPYTHON_LAYOUTS_H

#include <stdint.h>
#include <stdio.h>

/* Where CPython 3.9-3.15 (x86-64, default GIL builds) keeps what rampa-bpf
 * reads: byte offsets from the start of the object each group is named
 * after. Groups and members take the names CPython's _Py_DebugOffsets
 * gives them (3.13+); the comments name the struct fields of the versions
 * that call them otherwise. The tables (src/cpython_layouts.c) are
 * offsetof() over each version's headers, printed by
 * tools/cpython-layouts/gen.sh; 3.13+ read the fields _Py_DebugOffsets
 * covers from the interpreter itself (struct cpython_debug_offsets) and
 * take the rest from the table. docs/cpython-internals.md has the history.
 *
 * A member a version does not have is 0 in its table (cpython_layout_fields[]
 * says which versions have which).
 */
struct cpython_layout {
	int minor;	    /* 3.minor */
	const char *source; /* PY_VERSION of the headers the numbers come from */
	/* _PyRuntimeState: Include/internal/pycore_runtime.h (3.14+: _structs.h) */
	struct {
		uint32_t interpreters_head; /* interpreters.head */
		uint32_t ceval_gil;	    /* 3.9-3.11: ceval.gil, the GIL itself */
	} runtime_state;
	/* PyInterpreterState: Include/internal/pycore_interp.h (3.14+: _structs.h) */
	struct {
		uint32_t threads_head;	    /* 3.9/3.10: tstate_head; threads.head */
		uint32_t imports_modules;   /* 3.9-3.11: modules; imports.modules */
		uint32_t ceval_gil;	    /* 3.12+: ceval.gil, the GIL in use (pointer) */
		uint32_t gil_runtime_state; /* 3.12+: _gil, the interpreter's own GIL */
	} interpreter_state;
	/* PyThreadState: Include/cpython/pystate.h */
	struct {
		uint32_t next;
		uint32_t thread_id;	/* unsigned long: the pthread_t */
		uint32_t frame;		/* 3.9/3.10: PyFrameObject *frame */
		uint32_t cframe;	/* 3.11/3.12: _PyCFrame *cframe */
		uint32_t current_frame; /* 3.13+: _PyInterpreterFrame *current_frame */
	} thread_state;
	/* _PyCFrame (3.11/3.12): Include/cpython/pystate.h */
	struct {
		uint32_t current_frame;
	} cframe;
	/* PyFrameObject (3.9/3.10: Include/cpython/frameobject.h), then
	 * _PyInterpreterFrame (Include/internal/pycore_frame.h, 3.14+:
	 * pycore_interpframe_structs.h).
	 */
	struct {
		uint32_t previous;   /* 3.9/3.10: f_back */
		uint32_t executable; /* 3.9-3.12: f_code; f_executable */
		uint32_t instr_ptr;  /* 3.9/3.10: int f_lasti; 3.11/3.12: prev_instr */
		uint32_t is_entry;   /* 3.11 */
		uint32_t owner;	     /* 3.11+: char, enum _frameowner */
	} interpreter_frame;
	/* PyCodeObject: Include/cpython/code.h */
	struct {
		uint32_t filename, name;
		uint32_t qualname;	   /* 3.11+ */
		uint32_t linetable;	   /* 3.9: co_lnotab; co_linetable */
		uint32_t firstlineno;	   /* int */
		uint32_t co_code_adaptive; /* 3.11+: the code units, inline */
	} code_object;
	/* PyASCIIObject, PyCompactUnicodeObject: Include/cpython/unicodeobject.h */
	struct {
		uint32_t length, state;
		uint32_t asciiobject_size;	    /* where a compact ASCII str's characters are */
		uint32_t compactunicodeobject_size; /* ... other compact strs' */
	} unicode_object;
	/* PyTypeObject, PyHeapTypeObject: Include/cpython/object.h */
	struct {
		uint32_t tp_name, tp_basicsize, tp_flags, tp_dictoffset;
	} type_object;
	struct {
		uint32_t ht_cached_keys;
	} heap_type_object;
	/* PyDictObject: Include/cpython/dictobject.h */
	struct {
		uint32_t ma_keys, ma_values;
	} dict_object;
	/* PyDictValues (3.11+): Include/internal/pycore_dict.h; before, the
	 * values are a PyObject *[] (0).
	 */
	struct {
		uint32_t values;
	} dict_values;
	/* PyLongObject: Include/longintrepr.h (3.11+: cpython/longintrepr.h) */
	struct {
		uint32_t lv_tag;   /* 3.9-3.11: ob_base.ob_size; long_value.lv_tag */
		uint32_t ob_digit; /* 3.12+: long_value.ob_digit */
	} long_object;
	/* struct _gil_runtime_state: Include/internal/pycore_gil.h */
	struct {
		uint32_t last_holder, locked;
		uint32_t cond, mutex, switch_cond; /* pthread_cond_t, pthread_mutex_t, ... */
	} gil_runtime_state;
	/* Values, not offsets: enum _frameowner and the _PyStackRef tag bits
	 * (pycore_frame.h, 3.14+: pycore_interpframe_structs.h, pycore_stackref.h).
	 */
	struct {
		uint32_t frame_owned_by_cstack;	     /* 3.12-3.14: FRAME_OWNED_BY_CSTACK */
		uint32_t frame_owned_by_interpreter; /* 3.14+: FRAME_OWNED_BY_INTERPRETER */
		uint32_t py_tag_bits;		     /* 3.14+: Py_TAG_BITS */
	} values;
};

/* 3.13+: where _Py_DebugOffsets (at _PyRuntime + 0; Include/internal/
 * pycore_runtime.h, 3.14+: pycore_debug_offsets.h) keeps each member of a
 * struct cpython_layout, as a uint64_t; 0: it does not have it. The
 * exception: gil_runtime_state.last_holder and .locked are there as
 * offsets from the interpreter state (interpreter_state.
 * gil_runtime_state_holder, _locked), not from the GIL.
 */
struct cpython_debug_offsets {
	uint32_t size; /* sizeof(_Py_DebugOffsets) */
	struct cpython_layout pos;
};

/* The table of CPython 3.minor (9..15), NULL for another version. For
 * 3.13+ its numbers are the fallbacks of what _Py_DebugOffsets lacks.
 */
const struct cpython_layout *cpython_layouts__get(int minor);
/* 3.13+: where the interpreter's _Py_DebugOffsets keeps them; NULL before. */
const struct cpython_debug_offsets *cpython_layouts__debug(int minor);

/* One member of struct cpython_layout: its name ("thread_state.next"), where
 * it is, and the versions (3.since to 3.until) that have it.
 */
struct cpython_layout_field {
	const char *name;
	size_t off;
	int since, until;
};

extern const struct cpython_layout_field cpython_layout_fields[];
extern const unsigned int cpython_layout_nfields;

/* Print the tables of 3.minor as src/cpython_layouts.c has them and
 * tools/cpython-layouts/gen.sh prints them from headers. -1: no such table.
 */
int cpython_layouts__print(FILE *f, int minor);

#endif

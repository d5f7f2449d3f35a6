// SPDX-License-Identifier: GPL-2.0
/* CPython's layouts, per minor version: the tables below are what
 * tools/cpython-layouts/gen.sh prints for each version from its headers
 * (offsetof() with Py_BUILD_CORE, x86-64): pyenv 3.9.18, 3.10.13, 3.11.7,
 * 3.12.1 and 3.13.0, Debian sid libpython3.14-dev 3.14.10 and
 * libpython3.15-dev 3.15.2 (compiled with -D_Py_TIER2=3 -D_Py_JIT, as
 * Debian builds them). tests/t1014-cpython-layouts.sh checks them against
 * tests/fixtures/layouts/3.X.txt, and gen.sh --check the fixtures against
 * the headers. Patch releases checked to agree: docs/cpython-internals.md.
 */
#include <stddef.h>

#include "cpython_layouts.h"

/* 3.9: offsetof() in the 3.9.18 headers */
static const struct cpython_layout layout_39 = {
	.minor = 9,
	.source = "3.9.18",
	.runtime_state.interpreters_head = 0x20,
	.runtime_state.ceval_gil = 0x160,
	.interpreter_state.threads_head = 0x8,
	.interpreter_state.imports_modules = 0x358,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0xb0,
	.thread_state.frame = 0x18,
	.interpreter_frame.previous = 0x18,
	.interpreter_frame.executable = 0x20,
	.interpreter_frame.instr_ptr = 0x68,
	.code_object.filename = 0x68,
	.code_object.name = 0x70,
	.code_object.linetable = 0x78,
	.code_object.firstlineno = 0x28,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x30,
	.unicode_object.compactunicodeobject_size = 0x48,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x360,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
};

/* 3.10: offsetof() in the 3.10.13 headers */
static const struct cpython_layout layout_310 = {
	.minor = 10,
	.source = "3.10.13",
	.runtime_state.interpreters_head = 0x20,
	.runtime_state.ceval_gil = 0x160,
	.interpreter_state.threads_head = 0x8,
	.interpreter_state.imports_modules = 0x358,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0xb0,
	.thread_state.frame = 0x18,
	.interpreter_frame.previous = 0x18,
	.interpreter_frame.executable = 0x20,
	.interpreter_frame.instr_ptr = 0x60,
	.code_object.filename = 0x68,
	.code_object.name = 0x70,
	.code_object.linetable = 0x78,
	.code_object.firstlineno = 0x28,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x30,
	.unicode_object.compactunicodeobject_size = 0x48,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x368,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
};

/* 3.11: offsetof() in the 3.11.7 headers */
static const struct cpython_layout layout_311 = {
	.minor = 11,
	.source = "3.11.7",
	.runtime_state.interpreters_head = 0x28,
	.runtime_state.ceval_gil = 0x168,
	.interpreter_state.threads_head = 0x10,
	.interpreter_state.imports_modules = 0x378,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0x98,
	.thread_state.cframe = 0x38,
	.cframe.current_frame = 0x8,
	.interpreter_frame.previous = 0x30,
	.interpreter_frame.executable = 0x20,
	.interpreter_frame.instr_ptr = 0x38,
	.interpreter_frame.is_entry = 0x44,
	.interpreter_frame.owner = 0x45,
	.code_object.filename = 0x70,
	.code_object.name = 0x78,
	.code_object.qualname = 0x80,
	.code_object.linetable = 0x88,
	.code_object.firstlineno = 0x48,
	.code_object.co_code_adaptive = 0xb8,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x30,
	.unicode_object.compactunicodeobject_size = 0x48,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x368,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.dict_values.values = 0x0,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
};

/* 3.12: offsetof() in the 3.12.1 headers */
static const struct cpython_layout layout_312 = {
	.minor = 12,
	.source = "3.12.1",
	.runtime_state.interpreters_head = 0x28,
	.interpreter_state.threads_head = 0x48,
	.interpreter_state.imports_modules = 0x3b0,
	.interpreter_state.ceval_gil = 0x180,
	.interpreter_state.gil_runtime_state = 0x410,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0x88,
	.thread_state.cframe = 0x38,
	.cframe.current_frame = 0x0,
	.interpreter_frame.previous = 0x8,
	.interpreter_frame.executable = 0x0,
	.interpreter_frame.instr_ptr = 0x38,
	.interpreter_frame.owner = 0x46,
	.code_object.filename = 0x70,
	.code_object.name = 0x78,
	.code_object.qualname = 0x80,
	.code_object.linetable = 0x88,
	.code_object.firstlineno = 0x44,
	.code_object.co_code_adaptive = 0xc0,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x28,
	.unicode_object.compactunicodeobject_size = 0x38,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x370,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.dict_values.values = 0x0,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
	.values.frame_owned_by_cstack = 0x3,
};

/* 3.13: offsetof() in the 3.13.0 headers */
static const struct cpython_layout layout_313 = {
	.minor = 13,
	.source = "3.13.0",
	.runtime_state.interpreters_head = 0x278,
	.interpreter_state.threads_head = 0x1cb0,
	.interpreter_state.imports_modules = 0x1de8,
	.interpreter_state.ceval_gil = 0x10,
	.interpreter_state.gil_runtime_state = 0x1e48,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0x98,
	.thread_state.current_frame = 0x48,
	.interpreter_frame.previous = 0x8,
	.interpreter_frame.executable = 0x0,
	.interpreter_frame.instr_ptr = 0x38,
	.interpreter_frame.owner = 0x46,
	.code_object.filename = 0x70,
	.code_object.name = 0x78,
	.code_object.qualname = 0x80,
	.code_object.linetable = 0x88,
	.code_object.firstlineno = 0x44,
	.code_object.co_code_adaptive = 0xc8,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x28,
	.unicode_object.compactunicodeobject_size = 0x38,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x370,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.dict_values.values = 0x8,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
	.values.frame_owned_by_cstack = 0x3,
};

/* 3.13: where _Py_DebugOffsets keeps them, offsetof() in the 3.13.0 headers */
static const struct cpython_debug_offsets debug_313 = {
	.size = 0x248,
	.pos.runtime_state.interpreters_head = 0x28,
	.pos.interpreter_state.threads_head = 0x48,
	.pos.interpreter_state.imports_modules = 0x58,
	.pos.interpreter_state.ceval_gil = 0x70,
	.pos.interpreter_state.gil_runtime_state = 0x78,
	.pos.thread_state.next = 0xa8,
	.pos.thread_state.thread_id = 0xc0,
	.pos.thread_state.current_frame = 0xb8,
	.pos.interpreter_frame.previous = 0xe8,
	.pos.interpreter_frame.executable = 0xf0,
	.pos.interpreter_frame.instr_ptr = 0xf8,
	.pos.interpreter_frame.owner = 0x108,
	.pos.code_object.filename = 0x118,
	.pos.code_object.name = 0x120,
	.pos.code_object.qualname = 0x128,
	.pos.code_object.linetable = 0x130,
	.pos.code_object.firstlineno = 0x138,
	.pos.code_object.co_code_adaptive = 0x158,
	.pos.unicode_object.length = 0x228,
	.pos.unicode_object.state = 0x220,
	.pos.unicode_object.asciiobject_size = 0x230,
	.pos.type_object.tp_name = 0x178,
	.pos.type_object.tp_flags = 0x188,
	.pos.dict_object.ma_keys = 0x1c8,
	.pos.dict_object.ma_values = 0x1d0,
	.pos.long_object.lv_tag = 0x1f0,
	.pos.long_object.ob_digit = 0x1f8,
	.pos.gil_runtime_state.last_holder = 0x90,
	.pos.gil_runtime_state.locked = 0x88,
};

/* 3.14: offsetof() in the 3.14.10 headers */
static const struct cpython_layout layout_314 = {
	.minor = 14,
	.source = "3.14.10",
	.runtime_state.interpreters_head = 0x328,
	.interpreter_state.threads_head = 0x1cb0,
	.interpreter_state.imports_modules = 0x1e08,
	.interpreter_state.ceval_gil = 0x10,
	.interpreter_state.gil_runtime_state = 0x1e68,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0x98,
	.thread_state.current_frame = 0x48,
	.interpreter_frame.previous = 0x8,
	.interpreter_frame.executable = 0x0,
	.interpreter_frame.instr_ptr = 0x38,
	.interpreter_frame.owner = 0x4a,
	.code_object.filename = 0x70,
	.code_object.name = 0x78,
	.code_object.qualname = 0x80,
	.code_object.linetable = 0x88,
	.code_object.firstlineno = 0x44,
	.code_object.co_code_adaptive = 0xd0,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x28,
	.unicode_object.compactunicodeobject_size = 0x38,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x370,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.dict_values.values = 0x8,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
	.values.frame_owned_by_cstack = 0x4,
	.values.frame_owned_by_interpreter = 0x3,
	.values.py_tag_bits = 0x3,
};

/* 3.14: where _Py_DebugOffsets keeps them, offsetof() in the 3.14.10 headers */
static const struct cpython_debug_offsets debug_314 = {
	.size = 0x2f8,
	.pos.runtime_state.interpreters_head = 0x28,
	.pos.interpreter_state.threads_head = 0x48,
	.pos.interpreter_state.imports_modules = 0x60,
	.pos.interpreter_state.ceval_gil = 0x78,
	.pos.interpreter_state.gil_runtime_state = 0x80,
	.pos.thread_state.next = 0xc0,
	.pos.thread_state.thread_id = 0xd8,
	.pos.thread_state.current_frame = 0xd0,
	.pos.interpreter_frame.previous = 0x100,
	.pos.interpreter_frame.executable = 0x108,
	.pos.interpreter_frame.instr_ptr = 0x110,
	.pos.interpreter_frame.owner = 0x120,
	.pos.code_object.filename = 0x140,
	.pos.code_object.name = 0x148,
	.pos.code_object.qualname = 0x150,
	.pos.code_object.linetable = 0x158,
	.pos.code_object.firstlineno = 0x160,
	.pos.code_object.co_code_adaptive = 0x180,
	.pos.unicode_object.length = 0x278,
	.pos.unicode_object.state = 0x270,
	.pos.unicode_object.asciiobject_size = 0x280,
	.pos.type_object.tp_name = 0x1a8,
	.pos.type_object.tp_flags = 0x1b8,
	.pos.dict_object.ma_keys = 0x218,
	.pos.dict_object.ma_values = 0x220,
	.pos.long_object.lv_tag = 0x240,
	.pos.long_object.ob_digit = 0x248,
	.pos.gil_runtime_state.last_holder = 0x98,
	.pos.gil_runtime_state.locked = 0x90,
};

/* 3.15: offsetof() in the 3.15.2 headers */
static const struct cpython_layout layout_315 = {
	.minor = 15,
	.source = "3.15.2",
	.runtime_state.interpreters_head = 0x3a8,
	.interpreter_state.threads_head = 0x1ca8,
	.interpreter_state.imports_modules = 0x1da8,
	.interpreter_state.ceval_gil = 0x10,
	.interpreter_state.gil_runtime_state = 0x1e38,
	.thread_state.next = 0x8,
	.thread_state.thread_id = 0xb0,
	.thread_state.current_frame = 0x48,
	.interpreter_frame.previous = 0x8,
	.interpreter_frame.executable = 0x0,
	.interpreter_frame.instr_ptr = 0x38,
	.interpreter_frame.owner = 0x4a,
	.code_object.filename = 0x70,
	.code_object.name = 0x78,
	.code_object.qualname = 0x80,
	.code_object.linetable = 0x88,
	.code_object.firstlineno = 0x44,
	.code_object.co_code_adaptive = 0xd0,
	.unicode_object.length = 0x10,
	.unicode_object.state = 0x20,
	.unicode_object.asciiobject_size = 0x28,
	.unicode_object.compactunicodeobject_size = 0x38,
	.type_object.tp_name = 0x18,
	.type_object.tp_basicsize = 0x20,
	.type_object.tp_flags = 0xa8,
	.type_object.tp_dictoffset = 0x120,
	.heap_type_object.ht_cached_keys = 0x378,
	.dict_object.ma_keys = 0x20,
	.dict_object.ma_values = 0x28,
	.dict_values.values = 0x8,
	.long_object.lv_tag = 0x10,
	.long_object.ob_digit = 0x18,
	.gil_runtime_state.last_holder = 0x8,
	.gil_runtime_state.locked = 0x10,
	.gil_runtime_state.cond = 0x20,
	.gil_runtime_state.mutex = 0x50,
	.gil_runtime_state.switch_cond = 0x78,
	.values.frame_owned_by_interpreter = 0x3,
	.values.py_tag_bits = 0x3,
};

/* 3.15: where _Py_DebugOffsets keeps them, offsetof() in the 3.15.2 headers */
static const struct cpython_debug_offsets debug_315 = {
	.size = 0x378,
	.pos.runtime_state.interpreters_head = 0x28,
	.pos.interpreter_state.threads_head = 0x48,
	.pos.interpreter_state.imports_modules = 0x60,
	.pos.interpreter_state.ceval_gil = 0x78,
	.pos.interpreter_state.gil_runtime_state = 0x80,
	.pos.thread_state.next = 0xc0,
	.pos.thread_state.thread_id = 0xf0,
	.pos.thread_state.current_frame = 0xd0,
	.pos.interpreter_frame.previous = 0x140,
	.pos.interpreter_frame.executable = 0x148,
	.pos.interpreter_frame.instr_ptr = 0x150,
	.pos.interpreter_frame.owner = 0x160,
	.pos.code_object.filename = 0x180,
	.pos.code_object.name = 0x188,
	.pos.code_object.qualname = 0x190,
	.pos.code_object.linetable = 0x198,
	.pos.code_object.firstlineno = 0x1a0,
	.pos.code_object.co_code_adaptive = 0x1c0,
	.pos.unicode_object.length = 0x2d8,
	.pos.unicode_object.state = 0x2d0,
	.pos.unicode_object.asciiobject_size = 0x2e0,
	.pos.unicode_object.compactunicodeobject_size = 0x2e8,
	.pos.type_object.tp_name = 0x1e8,
	.pos.type_object.tp_basicsize = 0x200,
	.pos.type_object.tp_flags = 0x1f8,
	.pos.type_object.tp_dictoffset = 0x208,
	.pos.heap_type_object.ht_cached_keys = 0x218,
	.pos.dict_object.ma_keys = 0x278,
	.pos.dict_object.ma_values = 0x280,
	.pos.long_object.lv_tag = 0x2a0,
	.pos.long_object.ob_digit = 0x2a8,
	.pos.gil_runtime_state.last_holder = 0x98,
	.pos.gil_runtime_state.locked = 0x90,
};

static const struct cpython_layout *const layouts[] = {
	[9] = &layout_39,   [10] = &layout_310, [11] = &layout_311, [12] = &layout_312,
	[13] = &layout_313, [14] = &layout_314, [15] = &layout_315,
};

static const struct cpython_debug_offsets *const debug_offsets[] = {
	[13] = &debug_313,
	[14] = &debug_314,
	[15] = &debug_315,
};

#define NLAYOUTS       (int)(sizeof(layouts) / sizeof(layouts[0]))
#define NDEBUG_OFFSETS (int)(sizeof(debug_offsets) / sizeof(debug_offsets[0]))

const struct cpython_layout *cpython_layouts__get(int minor)
{
	return minor >= 0 && minor < NLAYOUTS ? layouts[minor] : NULL;
}

const struct cpython_debug_offsets *cpython_layouts__debug(int minor)
{
	return minor >= 0 && minor < NDEBUG_OFFSETS ? debug_offsets[minor] : NULL;
}

#define NAME(f) #f
#define FIELD(f, since, until)                                            \
	{                                                                 \
		NAME(f), offsetof(struct cpython_layout, f), since, until \
	}
#define ANY 99

/* In the order of the struct, which gen.sh prints in. */
const struct cpython_layout_field cpython_layout_fields[] = {
	FIELD(runtime_state.interpreters_head, 9, ANY),
	FIELD(runtime_state.ceval_gil, 9, 11),
	FIELD(interpreter_state.threads_head, 9, ANY),
	FIELD(interpreter_state.imports_modules, 9, ANY),
	FIELD(interpreter_state.ceval_gil, 12, ANY),
	FIELD(interpreter_state.gil_runtime_state, 12, ANY),
	FIELD(thread_state.next, 9, ANY),
	FIELD(thread_state.thread_id, 9, ANY),
	FIELD(thread_state.frame, 9, 10),
	FIELD(thread_state.cframe, 11, 12),
	FIELD(cframe.current_frame, 11, 12),
	FIELD(thread_state.current_frame, 13, ANY),
	FIELD(interpreter_frame.previous, 9, ANY),
	FIELD(interpreter_frame.executable, 9, ANY),
	FIELD(interpreter_frame.instr_ptr, 9, ANY),
	FIELD(interpreter_frame.is_entry, 11, 11),
	FIELD(interpreter_frame.owner, 11, ANY),
	FIELD(code_object.filename, 9, ANY),
	FIELD(code_object.name, 9, ANY),
	FIELD(code_object.qualname, 11, ANY),
	FIELD(code_object.linetable, 9, ANY),
	FIELD(code_object.firstlineno, 9, ANY),
	FIELD(code_object.co_code_adaptive, 11, ANY),
	FIELD(unicode_object.length, 9, ANY),
	FIELD(unicode_object.state, 9, ANY),
	FIELD(unicode_object.asciiobject_size, 9, ANY),
	FIELD(unicode_object.compactunicodeobject_size, 9, ANY),
	FIELD(type_object.tp_name, 9, ANY),
	FIELD(type_object.tp_basicsize, 9, ANY),
	FIELD(type_object.tp_flags, 9, ANY),
	FIELD(type_object.tp_dictoffset, 9, ANY),
	FIELD(heap_type_object.ht_cached_keys, 9, ANY),
	FIELD(dict_object.ma_keys, 9, ANY),
	FIELD(dict_object.ma_values, 9, ANY),
	FIELD(dict_values.values, 11, ANY),
	FIELD(long_object.lv_tag, 9, ANY),
	FIELD(long_object.ob_digit, 9, ANY),
	FIELD(gil_runtime_state.last_holder, 9, ANY),
	FIELD(gil_runtime_state.locked, 9, ANY),
	FIELD(gil_runtime_state.cond, 9, ANY),
	FIELD(gil_runtime_state.mutex, 9, ANY),
	FIELD(gil_runtime_state.switch_cond, 9, ANY),
	FIELD(values.frame_owned_by_cstack, 12, 14),
	FIELD(values.frame_owned_by_interpreter, 14, ANY),
	FIELD(values.py_tag_bits, 14, ANY),
};

const unsigned int cpython_layout_nfields =
    sizeof(cpython_layout_fields) / sizeof(cpython_layout_fields[0]);

static uint32_t field_of(const struct cpython_layout *l, const struct cpython_layout_field *f)
{
	return *(const uint32_t *)((const char *)l + f->off);
}

int cpython_layouts__print(FILE *f, int minor)
{
	const struct cpython_layout *l = cpython_layouts__get(minor);
	const struct cpython_debug_offsets *d = cpython_layouts__debug(minor);

	if (!l)
		return -1;
	fprintf(f, "/* 3.%d: offsetof() in the %s headers */\n", minor, l->source);
	fprintf(f, "static const struct cpython_layout layout_3%d = {\n", minor);
	fprintf(f, "\t.minor = %d,\n\t.source = \"%s\",\n", l->minor, l->source);
	for (unsigned int i = 0; i < cpython_layout_nfields; i++) {
		const struct cpython_layout_field *fl = &cpython_layout_fields[i];

		if (minor >= fl->since && minor <= fl->until)
			fprintf(f, "\t.%s = 0x%x,\n", fl->name, field_of(l, fl));
	}
	fprintf(f, "};\n");
	if (!d)
		return 0;
	fprintf(f,
		"\n/* 3.%d: where _Py_DebugOffsets keeps them, offsetof() in the %s headers */\n",
		minor, l->source);
	fprintf(f, "static const struct cpython_debug_offsets debug_3%d = {\n", minor);
	fprintf(f, "\t.size = 0x%x,\n", d->size);
	for (unsigned int i = 0; i < cpython_layout_nfields; i++) {
		const struct cpython_layout_field *fl = &cpython_layout_fields[i];

		if (field_of(&d->pos, fl))
			fprintf(f, "\t.pos.%s = 0x%x,\n", fl->name, field_of(&d->pos, fl));
	}
	fprintf(f, "};\n");
	return 0;
}

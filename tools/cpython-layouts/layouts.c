// SPDX-License-Identifier: GPL-2.0
/* Print the CPython layout tables of src/cpython_layouts.c for the
 * interpreter whose headers this is compiled against: offsetof() over
 * CPython's internal structs (Py_BUILD_CORE), in the text test-tool prints
 * (tests/test-tool layouts 3.X) and tests/fixtures/layouts/3.X.txt holds.
 * Built and run by gen.sh, which says how.
 *
 * Each line names a member of struct cpython_layout (include/cpython_layouts.h)
 * and gives the CPython expression it comes from; the members a version does
 * not have are not printed (the since/until of cpython_layout_fields[]).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#endif
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_gil.h"
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_debug_offsets.h"
#include "internal/pycore_interpframe_structs.h"
#include "internal/pycore_stackref.h"
#endif

#define MINOR ((PY_VERSION_HEX >> 16) & 0xff)

static void line(const char *prefix, const char *name, size_t v)
{
	printf("\t.%s%s = 0x%zx,\n", prefix, name, v);
}

/* A member of struct cpython_layout and the expression that gives it. */
#define L(name, expr) line("", #name, (expr))
/* Where _Py_DebugOffsets keeps it. */
#define D(name, member) line("pos.", #name, offsetof(_Py_DebugOffsets, member))

int main(void)
{
	printf("/* 3.%d: offsetof() in the %s headers */\n", MINOR, PY_VERSION);
	printf("static const struct cpython_layout layout_3%d = {\n", MINOR);
	printf("\t.minor = %d,\n\t.source = \"%s\",\n", MINOR, PY_VERSION);

	L(runtime_state.interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030C0000
	L(runtime_state.ceval_gil, offsetof(_PyRuntimeState, ceval.gil));
#endif

#if PY_VERSION_HEX < 0x030B0000
	L(interpreter_state.threads_head, offsetof(PyInterpreterState, tstate_head));
#else
	L(interpreter_state.threads_head, offsetof(PyInterpreterState, threads.head));
#endif
#if PY_VERSION_HEX < 0x030C0000
	L(interpreter_state.imports_modules, offsetof(PyInterpreterState, modules));
#else
	L(interpreter_state.imports_modules, offsetof(PyInterpreterState, imports.modules));
	L(interpreter_state.ceval_gil, offsetof(PyInterpreterState, ceval.gil));
	L(interpreter_state.gil_runtime_state, offsetof(PyInterpreterState, _gil));
#endif

	L(thread_state.next, offsetof(PyThreadState, next));
	L(thread_state.thread_id, offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX < 0x030B0000
	L(thread_state.frame, offsetof(PyThreadState, frame));
#elif PY_VERSION_HEX < 0x030D0000
	L(thread_state.cframe, offsetof(PyThreadState, cframe));
	L(cframe.current_frame, offsetof(_PyCFrame, current_frame));
#else
	L(thread_state.current_frame, offsetof(PyThreadState, current_frame));
#endif

#if PY_VERSION_HEX < 0x030B0000
	L(interpreter_frame.previous, offsetof(PyFrameObject, f_back));
	L(interpreter_frame.executable, offsetof(PyFrameObject, f_code));
	L(interpreter_frame.instr_ptr, offsetof(PyFrameObject, f_lasti));
#else
	L(interpreter_frame.previous, offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030D0000
	L(interpreter_frame.executable, offsetof(_PyInterpreterFrame, f_code));
	L(interpreter_frame.instr_ptr, offsetof(_PyInterpreterFrame, prev_instr));
#else
	L(interpreter_frame.executable, offsetof(_PyInterpreterFrame, f_executable));
	L(interpreter_frame.instr_ptr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
#if PY_VERSION_HEX < 0x030C0000
	L(interpreter_frame.is_entry, offsetof(_PyInterpreterFrame, is_entry));
#endif
	L(interpreter_frame.owner, offsetof(_PyInterpreterFrame, owner));
#endif

	L(code_object.filename, offsetof(PyCodeObject, co_filename));
	L(code_object.name, offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030B0000
	L(code_object.qualname, offsetof(PyCodeObject, co_qualname));
#endif
#if PY_VERSION_HEX < 0x030A0000
	L(code_object.linetable, offsetof(PyCodeObject, co_lnotab));
#else
	L(code_object.linetable, offsetof(PyCodeObject, co_linetable));
#endif
	L(code_object.firstlineno, offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX >= 0x030B0000
	L(code_object.co_code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
#endif

	L(unicode_object.length, offsetof(PyASCIIObject, length));
	L(unicode_object.state, offsetof(PyASCIIObject, state));
	L(unicode_object.asciiobject_size, sizeof(PyASCIIObject));
	L(unicode_object.compactunicodeobject_size, sizeof(PyCompactUnicodeObject));

	L(type_object.tp_name, offsetof(PyTypeObject, tp_name));
	L(type_object.tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
	L(type_object.tp_flags, offsetof(PyTypeObject, tp_flags));
	L(type_object.tp_dictoffset, offsetof(PyTypeObject, tp_dictoffset));
	L(heap_type_object.ht_cached_keys, offsetof(PyHeapTypeObject, ht_cached_keys));
	L(dict_object.ma_keys, offsetof(PyDictObject, ma_keys));
	L(dict_object.ma_values, offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX >= 0x030B0000
	L(dict_values.values, offsetof(PyDictValues, values));
#endif
#if PY_VERSION_HEX < 0x030C0000
	L(long_object.lv_tag, offsetof(PyLongObject, ob_base.ob_size));
	L(long_object.ob_digit, offsetof(PyLongObject, ob_digit));
#else
	L(long_object.lv_tag, offsetof(PyLongObject, long_value.lv_tag));
	L(long_object.ob_digit, offsetof(PyLongObject, long_value.ob_digit));
#endif

	L(gil_runtime_state.last_holder, offsetof(struct _gil_runtime_state, last_holder));
	L(gil_runtime_state.locked, offsetof(struct _gil_runtime_state, locked));
	L(gil_runtime_state.cond, offsetof(struct _gil_runtime_state, cond));
	L(gil_runtime_state.mutex, offsetof(struct _gil_runtime_state, mutex));
	L(gil_runtime_state.switch_cond, offsetof(struct _gil_runtime_state, switch_cond));

#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030F0000
	L(values.frame_owned_by_cstack, FRAME_OWNED_BY_CSTACK);
#endif
#if PY_VERSION_HEX >= 0x030E0000
	L(values.frame_owned_by_interpreter, FRAME_OWNED_BY_INTERPRETER);
	L(values.py_tag_bits, Py_TAG_BITS);
#endif
	printf("};\n");

#if PY_VERSION_HEX >= 0x030D0000
	printf("\n/* 3.%d: where _Py_DebugOffsets keeps them, offsetof() in the %s headers */\n",
	       MINOR, PY_VERSION);
	printf("static const struct cpython_debug_offsets debug_3%d = {\n", MINOR);
	printf("\t.size = 0x%zx,\n", sizeof(_Py_DebugOffsets));
	D(runtime_state.interpreters_head, runtime_state.interpreters_head);
	D(interpreter_state.threads_head, interpreter_state.threads_head);
	D(interpreter_state.imports_modules, interpreter_state.imports_modules);
	D(interpreter_state.ceval_gil, interpreter_state.ceval_gil);
	D(interpreter_state.gil_runtime_state, interpreter_state.gil_runtime_state);
	D(thread_state.next, thread_state.next);
	D(thread_state.thread_id, thread_state.thread_id);
	D(thread_state.current_frame, thread_state.current_frame);
	D(interpreter_frame.previous, interpreter_frame.previous);
	D(interpreter_frame.executable, interpreter_frame.executable);
	D(interpreter_frame.instr_ptr, interpreter_frame.instr_ptr);
	D(interpreter_frame.owner, interpreter_frame.owner);
	D(code_object.filename, code_object.filename);
	D(code_object.name, code_object.name);
	D(code_object.qualname, code_object.qualname);
	D(code_object.linetable, code_object.linetable);
	D(code_object.firstlineno, code_object.firstlineno);
	D(code_object.co_code_adaptive, code_object.co_code_adaptive);
	D(unicode_object.length, unicode_object.length);
	D(unicode_object.state, unicode_object.state);
	D(unicode_object.asciiobject_size, unicode_object.asciiobject_size);
#if PY_VERSION_HEX >= 0x030F0000
	D(unicode_object.compactunicodeobject_size, unicode_object.compactunicodeobject_size);
#endif
	D(type_object.tp_name, type_object.tp_name);
#if PY_VERSION_HEX >= 0x030F0000
	D(type_object.tp_basicsize, type_object.tp_basicsize);
#endif
	D(type_object.tp_flags, type_object.tp_flags);
#if PY_VERSION_HEX >= 0x030F0000
	D(type_object.tp_dictoffset, type_object.tp_dictoffset);
	D(heap_type_object.ht_cached_keys, heap_type_object.ht_cached_keys);
#endif
	D(dict_object.ma_keys, dict_object.ma_keys);
	D(dict_object.ma_values, dict_object.ma_values);
	D(long_object.lv_tag, long_object.lv_tag);
	D(long_object.ob_digit, long_object.ob_digit);
	/* Offsets from the interpreter state, not from the GIL. */
	D(gil_runtime_state.last_holder, interpreter_state.gil_runtime_state_holder);
	D(gil_runtime_state.locked, interpreter_state.gil_runtime_state_locked);
	printf("};\n");
#endif
	return 0;
}

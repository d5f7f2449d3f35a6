# code.replace() with fresh names, one H (3x the work) and one C per cycle:
# new code objects and their new name strings reuse freed memory, pointers
# and all. Truth: H 75%, C 25%, every name only in its own cycle (a few
# samples each at 999 Hz), names fn_H_NNNNNN and fn_C_NNNNNN only.
import sys, time, types
def body(n):
    x = 0
    for i in range(n):
        x += i
    return x
end = time.perf_counter() + float(sys.argv[1] if len(sys.argv) > 1 else 2)
k = 0
while time.perf_counter() < end:
    for kind, n in (("H", 60000), ("C", 20000)):
        nm = "fn_%s_%06d" % (kind, k)
        if sys.version_info >= (3, 11):
            c = body.__code__.replace(co_name=nm, co_qualname=nm)
        else:
            c = body.__code__.replace(co_name=nm)
        f = types.FunctionType(c, globals())
        f(n)
        del f, c
    k += 1

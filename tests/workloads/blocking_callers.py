# Threads that block at one site from different call chains, for wall and
# offcpu modes, where a thread's stack is taken each time it blocks:
#
# - two threads call wait_here() (a 1 ms sleep) through a() three times for
#   every time through b(): same frame addresses, same instruction, only the
#   caller's code differs. Truth: under a 75%, under b 25% of wait_here.
# - one thread runs code.replace() churn: fresh fn_H_NNNNNN and fn_C_NNNNNN
#   functions each cycle, H sleeping three times for C's once, whose code
#   objects and names reuse freed memory at the same frame address and
#   instruction. Truth: H 75% of the churn's sleep, every name only in its
#   own cycle (about 3.3 ms for an H, 1.1 ms for a C).
import sys
import threading
import time
import types

SLEEP = 0.001


def wait_here():
    time.sleep(SLEEP)


def a():
    wait_here()


def b():
    wait_here()


def callers(end):
    i = 0
    while time.perf_counter() < end:
        if i % 4 == 3:
            b()
        else:
            a()
        i += 1


def body(k):
    for _ in range(k):
        time.sleep(SLEEP)


def churn(end):
    cycle = 0
    while time.perf_counter() < end:
        for kind, k in (("H", 3), ("C", 1)):
            nm = "fn_%s_%06d" % (kind, cycle)
            if sys.version_info >= (3, 11):
                c = body.__code__.replace(co_name=nm, co_qualname=nm)
            else:
                c = body.__code__.replace(co_name=nm)
            f = types.FunctionType(c, globals())
            f(k)
            del f, c
        cycle += 1


end = time.perf_counter() + float(sys.argv[1] if len(sys.argv) > 1 else 2)
threads = [threading.Thread(target=callers, args=(end,)) for _ in range(2)]
threads.append(threading.Thread(target=churn, args=(end,)))
for t in threads:
    t.start()
for t in threads:
    t.join()

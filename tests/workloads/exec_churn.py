# Code objects that die young: every cycle compiles two functions afresh with
# exec() and runs them; heavy() does three times the work of light(). Their
# code objects are freed each cycle and new ones reuse the memory.
# Truth: heavy 75%, light 25% of the time in <churn>, named exactly
# "heavy (<churn>:LINE)" and "light (<churn>:LINE)", nothing else.
import sys
import time

SRC = """
def heavy(n):
    x = 0
    for i in range(3 * n):
        x += i
    return x


def light(n):
    x = 0
    for i in range(n):
        x += i
    return x
"""


def cycle():
    ns = {}
    exec(compile(SRC, "<churn>", "exec"), ns)
    ns["heavy"](20000)
    ns["light"](20000)


end = time.perf_counter() + float(sys.argv[1] if len(sys.argv) > 1 else 2)
while time.perf_counter() < end:
    cycle()

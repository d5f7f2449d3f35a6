# rampa-bpf mem (t3023): a C library (mem_leak.c, path in argv[1]) leaks
# 80 MiB under leaky_caller() while churn_caller() churns 640 MiB.
import ctypes, sys, time

lib = ctypes.CDLL(sys.argv[1])


def leaky_caller():
    lib.leak_blocks(4, ctypes.c_size_t(256 * 1024))


def churn_caller():
    lib.churn_blocks(1, ctypes.c_size_t(40 * 1024 * 1024))


for i in range(80):
    leaky_caller()
    if i % 5 == 0:
        churn_caller()
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)

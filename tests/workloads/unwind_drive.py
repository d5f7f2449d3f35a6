"""Python over C code without frame pointers, for the CFI unwinder tests.

    python unwind_drive.py LIB SECONDS

outer() calls the library's run() (run -> level1 -> level2 -> level3, see
unwind-chain.c) through ctypes; caller() sorts with a Python key function,
so the interpreter's sort code sits between caller and keyfn. Three
quarters of the time in outer, a quarter in caller.
"""
import ctypes
import sys
import time

lib = ctypes.CDLL(sys.argv[1])
lib.run.restype = ctypes.c_double
lib.run.argtypes = [ctypes.c_long]
DATA = list(range(2000, 0, -1))


def outer():
    return lib.run(300000)


def keyfn(x):
    return -x


def caller():
    return sorted(DATA, key=keyfn)


def main():
    end = time.process_time() + float(sys.argv[2])
    while time.process_time() < end:
        t = time.process_time()
        while time.process_time() - t < 0.03:
            outer()
        t = time.process_time()
        while time.process_time() - t < 0.01:
            caller()


main()

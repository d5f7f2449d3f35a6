"""C code calling back into Python, for merged stacks (t4020).

    python c_callbacks.py qsort|sqlite SECONDS

qsort: sort_it() sorts through ctypes with libc's qsort(), which calls the
Python comparator cmp() (through libffi). sqlite: query() runs a query whose
user function udf() sqlite's VDBE calls. Nearly all CPU is in cmp or udf;
their true callers are qsort and sqlite3VdbeExec, under sort_it and query.
"""
import ctypes
import sqlite3
import sys
import time

CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def cmp(a, b):
    x = 0
    for i in range(200):
        x += i
    return a[0] - b[0]


def sort_it(n):
    libc = ctypes.CDLL("libc.so.6")
    arr = (ctypes.c_int * n)(*range(n, 0, -1))
    libc.qsort(arr, n, ctypes.sizeof(ctypes.c_int), CMP(cmp))


def udf(x):
    s = 0
    for i in range(200):
        s += i % 7
    return x + s


def query(db):
    return db.execute("SELECT sum(udf(value)) FROM generate_series").fetchone()


def main():
    mode, end = sys.argv[1], time.perf_counter() + float(sys.argv[2])
    if mode == "sqlite":
        db = sqlite3.connect(":memory:")
        db.create_function("udf", 1, udf)
        db.execute("CREATE TABLE generate_series (value INTEGER)")
        db.executemany("INSERT INTO generate_series VALUES (?)", [(i,) for i in range(500)])
    while time.perf_counter() < end:
        if mode == "qsort":
            sort_it(1000)
        else:
            query(db)


main()

# Two Python threads pass a byte back and forth through pipes N times: every
# round trip is two context switches with Python frames on both sides.
# With WORK, each side also adds up WORK numbers per round trip (about 30 ns
# each under 3.11 here), to set the switch rate. Prints the seconds taken.
#
#   pingpong.py [N] [WORK]
import os
import sys
import threading
import time


def spin(work):
    x = 0
    for i in range(work):
        x += i
    return x


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    work = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()

    def pong():
        for _ in range(n):
            os.read(a_r, 1)
            spin(work)
            os.write(b_w, b"x")

    t = threading.Thread(target=pong)
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        os.write(a_w, b"x")
        os.read(b_r, 1)
        spin(work)
    dt = time.perf_counter() - t0
    t.join()
    print(f"{dt:.6f}")


main()

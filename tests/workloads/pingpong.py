# Two Python threads pass a byte back and forth through pipes N times: every
# round trip is two context switches with Python frames on both sides.
# Prints the seconds taken.
import os
import sys
import threading
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()

    def pong():
        for _ in range(n):
            os.read(a_r, 1)
            os.write(b_w, b"x")

    t = threading.Thread(target=pong)
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        os.write(a_w, b"x")
        os.read(b_r, 1)
    dt = time.perf_counter() - t0
    t.join()
    print(f"{dt:.6f}")


main()

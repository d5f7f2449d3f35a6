"""Threads with roles known by construction: thread "worker-a" runs only
work_a(), "worker-b" only work_b(), and the main thread only main_work().

    python roles.py [SECONDS]
"""
import sys
import threading
import time


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def work_a(seconds):
    burn(seconds)


def work_b(seconds):
    burn(seconds)


def main_work(seconds):
    burn(seconds)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    a = threading.Thread(target=work_a, args=(seconds,), name="worker-a")
    b = threading.Thread(target=work_b, args=(seconds,), name="worker-b")
    a.start()
    b.start()
    main_work(seconds)
    a.join()
    b.join()


if __name__ == "__main__":
    main()

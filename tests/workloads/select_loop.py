# Two threads (main and one more) each wait in select.select() for argv[1]
# seconds: on Debian's python3.11 select.select's C frame is 48 KiB, beyond
# a 16-bit CFA offset (tests/t3020).
import select
import sys
import threading
import time


def poll_loop(secs):
    end = time.time() + secs
    while time.time() < end:
        select.select([], [], [], 0.05)


t = threading.Thread(target=poll_loop, args=(float(sys.argv[1]),))
t.start()
poll_loop(float(sys.argv[1]))
t.join()

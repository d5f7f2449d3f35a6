# A program that lives ~50 ms: burns 50 ms of CPU in short_task() and exits.
# Truth: every Python frame of it named; ~all samples after start-up in
# <module>;short_task.
import sys
import time


def short_task(sec):
    e = time.thread_time() + sec
    while time.thread_time() < e:
        pass


short_task(float(sys.argv[1]) if len(sys.argv) > 1 else 0.05)

# A child that holds 50 MiB for a second and exits; the parent waits for it,
# then runs on for argv[1] seconds at its own few MiB (tests/t3023). Truth:
# the tree ends small and does not grow over the last half of the run.
import os
import sys
import time

time.sleep(0.3)
pid = os.fork()
if pid == 0:
    block = bytearray(50 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(1)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(float(sys.argv[1]))

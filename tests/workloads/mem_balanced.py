# rampa-bpf mem --precise (t3024): every round allocates about 30 MiB (4000-
# byte bytes, 200 KiB bytearrays, dicts) and frees all of it: frees balance
# allocations, nothing is retained. 20 rounds, then sleeps argv[1] seconds.
import sys, time


def work():
    small = [bytes(4000) for _ in range(5000)]
    big = [bytearray(200 * 1024) for _ in range(40)]
    d = {i: str(i) * 10 for i in range(20000)}
    del small, big, d


for _ in range(20):
    work()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)

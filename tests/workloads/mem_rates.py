# rampa-bpf mem (t3023): "steady" allocates and frees at a high rate with
# flat memory; "leak" keeps 100 KiB every 0.1 s in leak_slowly() (about
# 60 MiB/min). Both run argv[2] seconds.
import sys, time

kept = []


def leak_slowly():
    kept.append(bytearray(100 * 1024))


def steady_work():
    d = [{"k": i, "v": str(i)} for i in range(20000)]
    b = [bytearray(4096) for _ in range(200)]
    del d, b


end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    if sys.argv[1] == "leak":
        leak_slowly()
        time.sleep(0.1)
    else:
        steady_work()

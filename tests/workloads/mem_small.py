# rampa-bpf mem --precise: small Python objects (dicts and tuples of well
# under 512 bytes, from pymalloc's pools in its arenas, not from malloc).
# Every loop, churn() builds 330 000 of them and drops them (pymalloc gives
# back the arenas they filled); then leak() keeps 235 000 more. 3 loops:
# leak() retains ~120 MiB (~177 bytes an object with its ints and list
# slot, as tracemalloc counts), churn() obtains ~170 MiB and frees it. Each
# churn() leaves a few arenas (1 MiB; 256 KiB in 3.9) that leak() fills
# next: pymalloc keeps one empty arena, and the interpreter's free lists
# keep some of churn()'s last tuples and dicts, pinning theirs.
# Then sleeps argv[1] seconds. With argv[2], waits for that file to exist
# first (a profiler attached by -p).
import os, sys, time

kept = []


def churn():
    items = [{"n": i} if i % 2 else (i, -i) for i in range(330000)]
    del items


def leak():
    for i in range(235000):
        kept.append({"n": i} if i % 2 else (i, -i))


def main():
    while len(sys.argv) > 2 and not os.path.exists(sys.argv[2]):
        time.sleep(0.01)
    for _ in range(3):
        churn()
        leak()
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)


main()

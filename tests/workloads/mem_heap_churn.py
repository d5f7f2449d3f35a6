# rampa-bpf mem --precise (t3024): every loop, churn() fills 8 MiB of glibc's
# heap with 4000-byte blocks, pins the heap's top with one small block (kept)
# and frees the rest, which glibc keeps; then leak() keeps 4 MiB of blocks of
# the same size, in the pages churn() touched first. 30 loops: leak()
# retains 120 MiB, churn() obtains and frees 240 MiB (and keeps 120 KiB).
# Then sleeps argv[1] seconds. With argv[2], waits for that file to exist
# first (a profiler attached by -p).
import os, sys, time

kept = []


def churn():
    blocks = [bytes(4000) for _ in range(8 * 262)]
    kept.append(bytes(4000))
    del blocks


def leak():
    for _ in range(4 * 262):
        kept.append(bytes(4000))


def main():
    while len(sys.argv) > 2 and not os.path.exists(sys.argv[2]):
        time.sleep(0.01)
    for _ in range(30):
        churn()
        leak()
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)


main()

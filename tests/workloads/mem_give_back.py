# rampa-bpf mem (t3023): keep() retains 32 MiB; give_back() obtains 160 MiB
# from the heap and 96 MiB by mmap, and gives all of it back (heap trimmed,
# munmap). Then sleeps argv[1] seconds.
import mmap, sys, time

kept = []


def keep():
    for _ in range(32 * 16):
        kept.append(bytearray(64 * 1024))


def give_back():
    blocks = [bytearray(64 * 1024) for _ in range(160 * 16)]
    m = mmap.mmap(-1, 96 * 1024 * 1024)
    for off in range(0, len(m), 4096):
        m[off] = 1
    m.close()
    del blocks


keep()
give_back()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 1)

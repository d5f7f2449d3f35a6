# rampa-bpf mem (t3023): grow() retains 120 MiB, churn() obtains and gives back
# about 1 GiB; then the program sleeps argv[1] seconds and exits.
import sys, time
keep = []
def grow(mib):
    # retained: 64 KiB blocks from the C heap
    for _ in range(mib * 16):
        keep.append(bytearray(64 * 1024))
def churn(mib):
    # obtained and given back: 48 MiB buffers (mmap'ed: above glibc's
    # largest mmap threshold)
    for _ in range(mib // 48):
        b = bytearray(48 * 1024 * 1024)
        del b
def main():
    for _ in range(40):
        grow(3)
        churn(48 if _ % 2 else 0)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
main()

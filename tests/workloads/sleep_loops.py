# N threads, each sleeping in a loop of 0.5 s naps (time.sleep in nap()):
# they switch out and back every half second, many at the same instant.
# Truth (wall or offcpu, -T, -d D): every nap thread accounts D seconds,
# nearly all of it off-CPU under nap().
import sys, threading, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def nap():
    while True:
        time.sleep(0.5)


for i in range(N):
    threading.Thread(target=nap, daemon=True, name=f"nap-{i}").start()
print("ready", flush=True)
time.sleep(3600)

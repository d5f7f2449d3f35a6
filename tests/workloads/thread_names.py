# Threads named through threading, renamed half-way: 'ingest' in Python
# (thread.name = ...), 'render' at the OS level (prctl PR_SET_NAME), and
# 'naïve-関数' never. Truth: every worker spins the whole run; the latest
# names are ingest-late, render-os and naïve-関数; TIDs never change.
import ctypes, sys, threading, time

PHASE1, PHASE2 = (float(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (0.8, 1.4)
libc = ctypes.CDLL(None)
start = time.monotonic()

def spin(until):
    while time.monotonic() < start + until:
        pass

def ingest():
    spin(PHASE1)
    threading.current_thread().name = "ingest-late"
    spin(PHASE1 + PHASE2)

def render():
    spin(PHASE1)
    libc.prctl(15, b"render-os", 0, 0, 0)  # PR_SET_NAME
    spin(PHASE1 + PHASE2)

def steady():
    spin(PHASE1 + PHASE2)

ts = [threading.Thread(target=f, name=n)
      for f, n in ((ingest, "ingest"), (render, "render"), (steady, "naïve-関数"))]
for t in ts:
    t.start()
for t in ts:
    t.join()

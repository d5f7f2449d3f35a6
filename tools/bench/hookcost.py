#!/usr/bin/env python3
# Cost of one BPF program of a profiler run, from the kernel's own counters:
#
#   tools/bench/hookcost.py PROG -- rampa-bpf record ... -- CMD
#
# Runs the command with BPF run-time statistics on (BPF_ENABLE_STATS: counted
# while our fd is open, so kernel.bpf_stats_enabled and other users of it are
# left alone), reads run_time_ns and run_cnt of the program named PROG from
# the command's /proc/PID/fdinfo every 20 ms until it exits, and prints
# "RUNS NS_TOTAL NS_PER_RUN" for the last reading. The command's stdout and
# stderr pass through. The last 20 ms of the run may be missing: the ratio,
# not the totals, is the figure.
import ctypes
import os
import subprocess
import sys
import time

SYS_BPF = 321  # x86-64
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0
BPF_OBJ_GET_INFO_BY_FD = 15


def enable_stats():
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)  # union bpf_attr, enable_stats.type = 0
    ctypes.c_uint32.from_buffer(attr, 0).value = BPF_STATS_RUN_TIME
    fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, attr, ctypes.sizeof(attr))
    if fd < 0:
        sys.exit(f"hookcost: BPF_ENABLE_STATS: {os.strerror(ctypes.get_errno())}")
    return fd


def prog_name(prog_id):
    # bpftool knows names by id; fdinfo does not carry them.
    out = subprocess.run(["bpftool", "prog", "show", "id", str(prog_id)],
                         capture_output=True, text=True).stdout
    parts = out.split()
    return parts[parts.index("name") + 1] if "name" in parts else None


def read_fdinfo(pid, want, names):
    found = None
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return None
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        except (OSError, ValueError):
            continue
        if "prog_id" not in info or "run_cnt" not in info:
            continue
        pid_ = int(info["prog_id"])
        if pid_ not in names:
            names[pid_] = prog_name(pid_)
        if names[pid_] == want:
            found = (int(info["run_cnt"]), int(info["run_time_ns"]))
    return found


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: hookcost.py PROG -- COMMAND [ARGS...]")
    want = sys.argv[1]
    stats_fd = enable_stats()
    child = subprocess.Popen(sys.argv[3:])
    names = {}
    last = None
    while child.poll() is None:
        r = read_fdinfo(child.pid, want, names)
        if r:
            last = r
        time.sleep(0.02)
    os.close(stats_fd)
    if not last or not last[0]:
        sys.exit(f"hookcost: no runs of {want} seen")
    print(f"{last[0]} {last[1]} {last[1] / last[0]:.0f}")


main()

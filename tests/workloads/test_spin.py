"""A pytest test that spins: for profiling `python -m pytest` (t4001)."""
import time


def spin_in_test(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def test_spin():
    assert spin_in_test(1.5) > 0

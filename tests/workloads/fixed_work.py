"""Fixed work whose cost is known by construction.

Each of ROUNDS rounds runs score() (60000 steps) and render() (60000 * K
steps), so with K=3 render costs three times what it costs with K=1 and
score's cost does not change.

    python fixed_work.py K [ROUNDS]
"""
import sys


def score():
    x = 0
    for i in range(60000):
        x += i * i
    return x


def render(k):
    x = 0
    for i in range(60000 * k):
        x += i * i
    return x


def main():
    k = int(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    for _ in range(rounds):
        score()
        render(k)


main()

"""The Python peer of `ppool imap -j2 -c 1000 --task len`, run by bench/run.py:
multiprocessing.Pool(2).imap(len, lines, 1000) over stdin, one result per line."""

import sys
from multiprocessing import Pool


def main():
    lines = (line.rstrip("\n") for line in sys.stdin)
    write = sys.stdout.write
    with Pool(2) as pool:
        for n in pool.imap(len, lines, 1000):
            write(f"{n}\n")


if __name__ == "__main__":
    main()

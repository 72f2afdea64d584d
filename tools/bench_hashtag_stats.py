"""Peer for the hashtag statistics bench: what a Python user writes to count
tags and focus-tag co-occurrence exactly (collections.Counter), over the
posts file that `hashtag_stats --dump` writes (`views<TAB>tag tag ...`).

    python tools/bench_hashtag_stats.py posts.tsv [--focus 2000]

Standard library only. Prints time, peak RSS and the same summary values as
the Rust example, so the outputs can be compared.
"""
import argparse
import resource
import time
from collections import Counter, defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("posts")
    ap.add_argument("--focus", type=int, default=2000)
    a = ap.parse_args()
    focus = {f"tag{i * 50}" for i in range(a.focus)}
    start = time.perf_counter()
    posts = Counter()
    views = Counter()
    neighbours = defaultdict(Counter)
    n = 0
    with open(a.posts, encoding="utf-8") as f:
        for line in f:
            v, _, rest = line.rstrip("\n").partition("\t")
            tags = list(dict.fromkeys(rest.split(" ")))
            v = int(v)
            n += 1
            posts.update(tags)
            for t in tags:
                views[t] += v
            for t in tags:
                if t in focus:
                    c = neighbours[t]
                    for o in tags:
                        if o != t:
                            c[o] += 1
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    top = posts.most_common(3)
    print(
        f"python: {n} posts from {a.posts} in {secs:.2f} s ({n / secs / 1e6:.2f} M posts/s), "
        f"peak RSS {peak:.1f} MB; top {top}; tag0 neighbours {neighbours['tag0'].most_common(3)}"
    )


if __name__ == "__main__":
    main()

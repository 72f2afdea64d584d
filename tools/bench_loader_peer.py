"""Python peer of ssl-pretrain's clip_loader bench: the same work as the
reference's pretraining data path (VideoMAE V2 HybridVideoMAE +
GroupMultiScaleCrop), with PyAV decoding instead of decord (decord has no
wheel for current Pythons): per clip, the frame count, a random start,
decoding from the keyframe before it to the last needed frame, RGB
conversion of the 16 kept frames, then 4 views each cropped at one of the
13 fixed positions and scales, resized with Pillow's bilinear filter, and
normalised to float32 (C, T, H, W). One process per core
(multiprocessing), as a PyTorch DataLoader with that many workers.

    tools/.venv-loader/bin/python tools/bench_loader_peer.py LIST [--workers N] [--rounds R]
"""

import argparse
import multiprocessing as mp
import random
import time

import av
import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1, 1)
SCALES = [1, 0.875, 0.75, 0.66]
T, STEP, VIEWS, SIZE = 16, 4, 4, 224


def frame_ids(n, rng):
    skip = T * STEP
    start = rng.randrange(n - skip + 1) if n >= skip else 0
    o, ids = start + 1, []
    for _ in range(T):
        ids.append(o - 1)
        if o + STEP < n:
            o += STEP
    return ids


def crop_box(w, h, rng):
    base = min(w, h)
    sizes = [int(base * s) for s in SCALES]
    sizes = [SIZE if abs(x - SIZE) < 3 else x for x in sizes]
    pairs = [(sizes[j], sizes[i]) for i in range(4) for j in range(4) if abs(i - j) <= 1]
    cw, ch = rng.choice(pairs)
    ws, hs = (w - cw) // 4, (h - ch) // 4
    grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2), (0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
    i, j = rng.choice(grid)
    return i * ws, j * hs, cw, ch


def load(args):
    path, seed = args
    rng = random.Random(seed)
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_count = 1
        n = s.frames
        ids = frame_ids(n, rng)
        want = sorted(set(ids))
        rate = s.average_rate
        if want[0] > 0:
            c.seek(int(want[0] / rate / s.time_base), stream=s, backward=True)
        got = {}
        for f in c.decode(s):
            idx = int(round(float(f.pts * s.time_base) * rate))
            if idx in want and idx not in got:
                got[idx] = f.to_image()
            if idx >= want[-1]:
                break
    frames = [got[i] for i in ids]
    w, h = frames[0].size
    views = []
    for _ in range(VIEWS):
        x, y, cw, ch = crop_box(w, h, rng)
        arr = np.stack([np.asarray(f.crop((x, y, x + cw, y + ch)).resize((SIZE, SIZE), Image.BILINEAR)) for f in frames])
        t = arr.transpose(3, 0, 1, 2).astype(np.float32) / 255.0
        views.append((t - MEAN) / STD)
    return len(views)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("list")
    p.add_argument("--workers", type=int, default=mp.cpu_count())
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    paths = [line.split(" ")[0] for line in open(a.list) if line.strip()]
    with mp.Pool(a.workers) as pool:
        pool.map(load, [(paths[0], 0)])  # start the workers
        rates = []
        for r in range(a.rounds):
            t0 = time.perf_counter()
            done = pool.map(load, [(p, r * 1000 + i) for i, p in enumerate(paths)], chunksize=1)
            dt = time.perf_counter() - t0
            assert all(v == VIEWS for v in done)
            rates.append(len(paths) / dt)
    print(f"peer: {len(paths)} clips, {a.workers} workers, clips/s per round: " + ", ".join(f"{r:.2f}" for r in rates))
    print(f"peer median: {sorted(rates)[len(rates) // 2]:.2f} clips/s (16x224, 4 views)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch peer of crates/videomae/benches/videomae_step.rs.

transformers' VideoMAEForPreTraining (norm_pix_loss, every masked token
decoded) with the same shapes as the Burn bench: ViT-S/16 at 16x224x224 and
the tiny test config, batch 2, 90% tube masking (3 of 4 cells on the tiny
2x2 grid), forward (eval, no_grad, loss included) and forward + backward
(train mode), and a whole optimizer step (forward, backward, global grad
norm, AdamW with the reference's parameter groups: the peer of
ssl-pretrain's optimizer_step bench). Random weights: the timing does not
depend on them.

    tools/.venv-videomae/bin/python tools/bench_videomae_peer.py [--threads N]

Prints one JSON object per case with the median and min seconds.
"""

import argparse
import json
import os
import statistics
import time

import torch
from transformers import VideoMAEConfig, VideoMAEForPreTraining

CASES = {
    "vit_s_16x224": dict(image_size=224, num_frames=16, hidden_size=384, num_hidden_layers=12,
                         num_attention_heads=6, intermediate_size=1536, decoder_hidden_size=192,
                         decoder_num_hidden_layers=4, decoder_num_attention_heads=3,
                         decoder_intermediate_size=768),
    "tiny_4x32": dict(image_size=32, num_frames=4, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=64, decoder_hidden_size=16,
                      decoder_num_hidden_layers=2, decoder_num_attention_heads=2,
                      decoder_intermediate_size=32),
}


def tube_mask(batch, slices, cells, ratio, g):
    masked = int(ratio * cells)
    rows = []
    for _ in range(batch):
        spatial = torch.zeros(cells, dtype=torch.bool)
        spatial[torch.randperm(cells, generator=g)[:masked]] = True
        rows.append(spatial.repeat(slices))
    return torch.stack(rows)


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    for name, sizes in CASES.items():
        config = VideoMAEConfig(**sizes, patch_size=16, tubelet_size=2, qkv_bias=True,
                                use_mean_pooling=False, norm_pix_loss=True)
        model = VideoMAEForPreTraining(config)
        s, f = sizes["image_size"], sizes["num_frames"]
        cells = (s // 16) ** 2
        ratio = 0.9 if cells >= 196 else 0.75
        pixels = torch.randn(2, f, 3, s, s, generator=g)
        mask = tube_mask(2, f // 2, cells, ratio, g)

        def forward():
            with torch.no_grad():
                return model(pixels, bool_masked_pos=mask).loss.item()

        def forward_backward():
            model.zero_grad(set_to_none=True)
            model(pixels, bool_masked_pos=mask).loss.backward()

        # One optimizer step as VideoMAE V2's engine takes it (fp32): the
        # reference's two parameter groups, AdamW (0.9, 0.95) eps 1e-8, the
        # global gradient norm computed (clip_grad_norm_ with an infinite
        # bound), then the update. The peer of ssl-pretrain's
        # benches/optimizer_step.rs.
        skip = {"mask_token"}
        decay, no_decay = [], []
        for n, p in model.named_parameters():
            (no_decay if p.ndim <= 1 or n.endswith(".bias") or n.split(".")[-1] in skip else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-4, betas=(0.9, 0.95), eps=1e-8)

        def optimizer_step():
            opt.zero_grad(set_to_none=True)
            model(pixels, bool_masked_pos=mask).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
            opt.step()

        model.eval()
        fwd = timed(forward, 2, args.iters)
        model.train()
        bwd = timed(forward_backward, 2, args.iters)
        step = timed(optimizer_step, 2, args.iters)
        for case, (median, best) in [("forward", fwd), ("forward_backward", bwd), ("optimizer_step", step)]:
            print(json.dumps({"bench": f"{name}/{case}", "median_s": median, "min_s": best,
                              "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

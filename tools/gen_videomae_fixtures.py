#!/usr/bin/env python3
"""Reference fixtures for the videomae crate, from Hugging Face transformers.

Run by hand (never in CI), from the repository root:

    python3 -m venv tools/.venv-videomae
    tools/.venv-videomae/bin/pip install torch transformers safetensors numpy
    tools/.venv-videomae/bin/python tools/gen_videomae_fixtures.py

(PyPI serves only the CUDA build of torch: about 3 GB and 3 minutes; it runs
on CPU.) Writes crates/videomae/tests/fixtures/<name>/ with

- config.json, model.safetensors: a tiny random model, every parameter
  perturbed so that no bias is zero and no norm is the identity;
- inputs.safetensors: pixel_values f32 (B, T, C, H, W), and for pretraining
  bool_masked_pos u8 (B, N) with the same count per sample (HF requires it);
- outputs.safetensors: hidden_states_<i> (the encoder's input embeddings and
  each block's output), logits, and for pretraining loss (shape [1]), as
  VideoMAEForPreTraining (norm_pix_loss=True, i.e. VideoMAE v1's loss) or
  VideoMAEForVideoClassification compute them in float64 then stored as f32;
- model.pth: the same weights in the original VideoMAE V2 layout (fused
  blocks.{i}.attn.qkv.weight, q_bias, v_bias; fc_norm and head for the
  classifier, under "module" with a "_orig_mod." prefix as torch.compile
  checkpoints have it; encoder.*, encoder_to_decoder, mask_token and
  decoder.* for pretraining, under "model");
- pretraining only, inputs_v2.safetensors / outputs_v2.safetensors: V2 dual
  masking, which transformers does not implement, composed from the HF
  model's own modules clip by clip: encoder on the visible tokens, mask
  tokens only where the encoder masked and the decoder mask keeps
  (encoder_mask, decoder_mask u8 (B, N), 1 = masked / not reconstructed),
  logits_<i> (1, M_i, 3*t*p*p) with M_i differing between clips, and
  loss_v2, the squared error averaged over all reconstructed tokens.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification

OUT = Path(__file__).resolve().parent.parent / "crates" / "videomae" / "tests" / "fixtures"

TINY = dict(
    image_size=32,
    patch_size=16,
    num_channels=3,
    num_frames=4,
    tubelet_size=2,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    decoder_hidden_size=16,
    decoder_num_hidden_layers=2,
    decoder_num_attention_heads=2,
    decoder_intermediate_size=32,
    qkv_bias=True,
    hidden_act="gelu",
    norm_pix_loss=True,
)


def perturb(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=p.dtype)
            if name.endswith("weight") and p.dim() == 1:  # LayerNorm scale
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.add_(0.2 * noise)


def hidden_states(outputs):
    return {f"hidden_states_{i}": h.float().contiguous() for i, h in enumerate(outputs.hidden_states)}


def save_model(model, config, name):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    model.float().save_pretrained(d, safe_serialization=True)
    # save_pretrained also writes generation defaults on some versions.
    (d / "generation_config.json").unlink(missing_ok=True)
    return d


def pretraining(name, seed, eps, mean_pooling):
    torch.manual_seed(seed)
    config = VideoMAEConfig(**TINY, layer_norm_eps=eps, use_mean_pooling=mean_pooling)
    model = VideoMAEForPreTraining(config).eval()
    perturb(model, seed)
    b, n = 2, (TINY["num_frames"] // TINY["tubelet_size"]) * (TINY["image_size"] // TINY["patch_size"]) ** 2
    pixel_values = torch.randn(b, TINY["num_frames"], 3, TINY["image_size"], TINY["image_size"])
    masked = torch.zeros(b, n, dtype=torch.bool)
    for i in range(b):
        masked[i, torch.randperm(n)[: n * 3 // 4]] = True
    d = save_model(model, config, name)
    model = model.double()
    with torch.no_grad():
        out = model(pixel_values.double(), bool_masked_pos=masked, output_hidden_states=True)
    save_file({"pixel_values": pixel_values.contiguous(), "bool_masked_pos": masked.to(torch.uint8)}, d / "inputs.safetensors")
    outputs = hidden_states(out)
    outputs["logits"] = out.logits.float().contiguous()
    outputs["loss"] = out.loss.float().reshape(1)
    save_file(outputs, d / "outputs.safetensors")
    state = load_file(d / "model.safetensors")
    torch.save({"model": to_original_pretraining(state, config), "epoch": 799}, d / "model.pth")
    v2_dual_masking(model, pixel_values.double(), d)
    print(name, "loss", out.loss.item(), "logits", tuple(out.logits.shape))


def block_to_original(state, out, h, o):
    """One HF VideoMAELayer (prefix h) -> original Block keys (prefix o)."""
    a = h + "attention.attention."
    out[o + "attn.qkv.weight"] = torch.cat([state[a + "query.weight"], state[a + "key.weight"], state[a + "value.weight"]], dim=0)
    out[o + "attn.q_bias"] = state[a + "q_bias"]
    out[o + "attn.v_bias"] = state[a + "v_bias"]
    out[o + "attn.proj.weight"] = state[h + "attention.output.dense.weight"]
    out[o + "attn.proj.bias"] = state[h + "attention.output.dense.bias"]
    out[o + "norm1.weight"] = state[h + "layernorm_before.weight"]
    out[o + "norm1.bias"] = state[h + "layernorm_before.bias"]
    out[o + "norm2.weight"] = state[h + "layernorm_after.weight"]
    out[o + "norm2.bias"] = state[h + "layernorm_after.bias"]
    out[o + "mlp.fc1.weight"] = state[h + "intermediate.dense.weight"]
    out[o + "mlp.fc1.bias"] = state[h + "intermediate.dense.bias"]
    out[o + "mlp.fc2.weight"] = state[h + "output.dense.weight"]
    out[o + "mlp.fc2.bias"] = state[h + "output.dense.bias"]


def to_original_layout(state, cfg):
    """HF VideoMAEForVideoClassification keys -> original VideoMAE V2 keys."""
    out = {}
    out["patch_embed.proj.weight"] = state["videomae.embeddings.patch_embeddings.projection.weight"]
    out["patch_embed.proj.bias"] = state["videomae.embeddings.patch_embeddings.projection.bias"]
    for i in range(cfg.num_hidden_layers):
        block_to_original(state, out, f"videomae.encoder.layer.{i}.", f"blocks.{i}.")
    out["fc_norm.weight"] = state["fc_norm.weight"]
    out["fc_norm.bias"] = state["fc_norm.bias"]
    out["head.weight"] = state["classifier.weight"]
    out["head.bias"] = state["classifier.bias"]
    # query, key and value fuse into one qkv per block.
    assert len(out) == len(state) - 2 * cfg.num_hidden_layers, (len(out), len(state))
    return out


def to_original_pretraining(state, cfg):
    """HF VideoMAEForPreTraining keys -> original VideoMAE V2 pretraining keys."""
    out = {}
    out["encoder.patch_embed.proj.weight"] = state["videomae.embeddings.patch_embeddings.projection.weight"]
    out["encoder.patch_embed.proj.bias"] = state["videomae.embeddings.patch_embeddings.projection.bias"]
    for i in range(cfg.num_hidden_layers):
        block_to_original(state, out, f"videomae.encoder.layer.{i}.", f"encoder.blocks.{i}.")
    out["encoder.norm.weight"] = state["videomae.layernorm.weight"]
    out["encoder.norm.bias"] = state["videomae.layernorm.bias"]
    out["encoder_to_decoder.weight"] = state["encoder_to_decoder.weight"]
    out["mask_token"] = state["mask_token"]
    for i in range(cfg.decoder_num_hidden_layers):
        block_to_original(state, out, f"decoder.decoder_layers.{i}.", f"decoder.blocks.{i}.")
    for k in ["norm.weight", "norm.bias", "head.weight", "head.bias"]:
        out["decoder." + k] = state["decoder." + k]
    n_blocks = cfg.num_hidden_layers + cfg.decoder_num_hidden_layers
    assert len(out) == len(state) - 2 * n_blocks, (len(out), len(state))
    return out


def norm_pix_target(pixel_values, t, p):
    """SPEC's target: un-normalise, tubelets as (t*p*p, C), per-channel
    (x - mean) / (unbiased std + 1e-6), channel fastest."""
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=pixel_values.dtype)[None, None, :, None, None]
    std = torch.tensor([0.229, 0.224, 0.225], dtype=pixel_values.dtype)[None, None, :, None, None]
    x = pixel_values * std + mean
    b, f, c, h, w = x.shape
    x = x.view(b, f // t, t, c, h // p, p, w // p, p).permute(0, 1, 4, 6, 2, 5, 7, 3)
    x = x.reshape(b, -1, t * p * p, c)
    x = (x - x.mean(dim=-2, keepdim=True)) / (x.var(dim=-2, unbiased=True, keepdim=True).sqrt() + 1e-6)
    return x.reshape(b, -1, t * p * p * c)


def v2_dual_masking(model, pixel_values, d):
    """VideoMAE V2's forward (modeling_pretrain.py) with the HF modules."""
    g = torch.Generator().manual_seed(11)
    b = pixel_values.shape[0]
    slices = TINY["num_frames"] // TINY["tubelet_size"]
    cells = (TINY["image_size"] // TINY["patch_size"]) ** 2
    while True:
        enc, dec = [], []
        for _ in range(b):
            spatial = torch.zeros(cells, dtype=torch.bool)
            spatial[torch.randperm(cells, generator=g)[: cells // 2]] = True
            enc.append(spatial.repeat(slices))  # tube: same cells every slice
            dec.append(torch.cat([torch.randperm(cells, generator=g) < cells // 2 for _ in range(slices)]))
        enc, dec = torch.stack(enc), torch.stack(dec)
        counts = (enc & ~dec).sum(1)
        if len(set(counts.tolist())) > 1 and counts.min() > 0:
            break  # clips reconstruct different numbers of tokens
    target = norm_pix_target(pixel_values, TINY["tubelet_size"], TINY["patch_size"])
    outputs, errors = {}, []
    with torch.no_grad():
        for i in range(b):
            keep = enc[i] & ~dec[i]
            seq = model.videomae(pixel_values[i : i + 1], bool_masked_pos=enc[i : i + 1])[0]
            x_vis = model.encoder_to_decoder(seq)
            pos = model.position_embeddings.type_as(x_vis)
            x_full = torch.cat([x_vis + pos[:, ~enc[i]], model.mask_token + pos[:, keep]], dim=1)
            logits = model.decoder(x_full, int(keep.sum())).logits
            outputs[f"logits_{i}"] = logits.float().contiguous()
            errors.append(((logits - target[i : i + 1, keep]) ** 2).mean(-1).flatten())
    outputs["loss_v2"] = torch.cat(errors).mean().float().reshape(1)
    save_file({"encoder_mask": enc.to(torch.uint8), "decoder_mask": dec.to(torch.uint8)}, d / "inputs_v2.safetensors")
    save_file(outputs, d / "outputs_v2.safetensors")
    print("v2 tokens per clip", counts.tolist(), "loss", outputs["loss_v2"].item())


def classification(name, seed, eps, labels):
    torch.manual_seed(seed)
    config = VideoMAEConfig(
        **TINY,
        layer_norm_eps=eps,
        use_mean_pooling=True,
        num_labels=labels,
        id2label={i: f"class_{i}" for i in range(labels)},
        label2id={f"class_{i}": i for i in range(labels)},
    )
    model = VideoMAEForVideoClassification(config).eval()
    perturb(model, seed)
    pixel_values = torch.randn(2, TINY["num_frames"], 3, TINY["image_size"], TINY["image_size"])
    d = save_model(model, config, name)
    # The saved file, not model.state_dict(): its key names are the ones
    # checkpoints carry (transformers may rename modules in memory).
    state = load_file(d / "model.safetensors")
    original = to_original_layout(state, config)
    torch.save({"module": {"_orig_mod." + k: v for k, v in original.items()}, "epoch": 3}, d / "model.pth")
    model = model.double()
    with torch.no_grad():
        out = model(pixel_values.double(), output_hidden_states=True)
    save_file({"pixel_values": pixel_values.contiguous()}, d / "inputs.safetensors")
    outputs = hidden_states(out)
    outputs["logits"] = out.logits.float().contiguous()
    save_file(outputs, d / "outputs.safetensors")
    print(name, "logits", tuple(out.logits.shape))


def main():
    import transformers

    pretraining("pretrain_tiny", seed=1, eps=1e-12, mean_pooling=False)
    classification("classify_tiny", seed=2, eps=1e-6, labels=5)
    (OUT / "VERSIONS.json").write_text(
        json.dumps({"torch": torch.__version__, "transformers": transformers.__version__}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()

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
- model.pth (classification only): the same weights in the original VideoMAE
  V2 layout (fused blocks.{i}.attn.qkv.weight, q_bias, v_bias, fc_norm,
  head) under the key "module" with a "_orig_mod." prefix, as torch.compile
  checkpoints have it.
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
    print(name, "loss", out.loss.item(), "logits", tuple(out.logits.shape))


def to_original_layout(state, cfg):
    """HF VideoMAEForVideoClassification keys -> original VideoMAE V2 keys."""
    out = {}
    out["patch_embed.proj.weight"] = state["videomae.embeddings.patch_embeddings.projection.weight"]
    out["patch_embed.proj.bias"] = state["videomae.embeddings.patch_embeddings.projection.bias"]
    for i in range(cfg.num_hidden_layers):
        h = f"videomae.encoder.layer.{i}."
        o = f"blocks.{i}."
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
    out["fc_norm.weight"] = state["fc_norm.weight"]
    out["fc_norm.bias"] = state["fc_norm.bias"]
    out["head.weight"] = state["classifier.weight"]
    out["head.bias"] = state["classifier.bias"]
    # query, key and value fuse into one qkv per block.
    assert len(out) == len(state) - 2 * cfg.num_hidden_layers, (len(out), len(state))
    return out


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

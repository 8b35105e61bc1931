"""Writes a random-weight Pix2Struct checkpoint with the shape of pix2struct-base or -large.

usage: make_checkpoint.py base|large OUT_DIR

Tensor names and shapes come from transformers' own model, built on the meta device (no
memory), and each tensor is drawn and written to model.safetensors one at a time, so the ~5 GB
large checkpoint is never held in RAM, let alone twice. Timings do not depend on the values;
they only need a sane scale (finite activations, no denormals), as transformers' init gives.
"""
import json
import os
import struct
import sys

import torch
from transformers import Pix2StructConfig, Pix2StructForConditionalGeneration

# base: Pix2StructConfig's defaults. large: transformers' conversion script with --use_large
# (convert_pix2struct_original_pytorch_to_hf.py). Both: d_kv 64, vocab 50244, seq_len 4096.
SHAPES = {
    "base": dict(hidden_size=768, d_ff=2048, num_layers=12, num_heads=12),
    "large": dict(hidden_size=1536, d_ff=3968, num_layers=18, num_heads=24),
}


def config_json(shape):
    # Written by hand rather than by save_pretrained so that transformers 4.38 (the Debian line)
    # and 5.x read the same file, as they read Google's checkpoints.
    return {
        "architectures": ["Pix2StructForConditionalGeneration"],
        "model_type": "pix2struct",
        "is_encoder_decoder": True,
        "is_vqa": False,
        "tie_word_embeddings": False,
        "decoder_start_token_id": 0,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "text_config": {
            "model_type": "pix2struct_text_model",
            "hidden_size": shape["hidden_size"],
            "d_ff": shape["d_ff"],
            "num_layers": shape["num_layers"],
            "num_heads": shape["num_heads"],
            "d_kv": 64,
            "vocab_size": 50244,
        },
        "vision_config": {
            "model_type": "pix2struct_vision_model",
            "hidden_size": shape["hidden_size"],
            "d_ff": shape["d_ff"],
            "num_hidden_layers": shape["num_layers"],
            "num_attention_heads": shape["num_heads"],
            "d_kv": 64,
            "patch_embed_hidden_size": 768,
            "seq_len": 4096,
        },
    }


def random_tensor(name, shape, generator):
    """T5-style init: norms 1, biases 0, matrices N(0, 1/sqrt(last dim))."""
    if "layer_norm" in name or "layernorm" in name:
        return torch.ones(shape)
    if name.endswith(".bias"):
        return torch.zeros(shape)
    return torch.randn(shape, generator=generator) * shape[-1] ** -0.5


def main(size, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config_json(SHAPES[size]), f, indent=2)
    # As Google's checkpoints ship it: use_cache false, so a plain generate() runs without a KV cache.
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0, "use_cache": False}, f, indent=2)

    with torch.device("meta"):
        model = Pix2StructForConditionalGeneration(Pix2StructConfig.from_pretrained(out_dir))
    tensors = [(name, list(t.shape)) for name, t in model.state_dict().items()]
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        size_bytes = 4 * torch.Size(shape).numel()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size_bytes]}
        offset += size_bytes
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)  # safetensors aligns the data to 8 bytes

    generator = torch.Generator().manual_seed(0)
    path = os.path.join(out_dir, "model.safetensors")
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded)
        for name, shape in tensors:
            f.write(random_tensor(name, shape, generator).numpy().data)
    os.replace(path + ".partial", path)  # only a complete file counts as made
    params = offset // 4
    print(f"wrote {out_dir}: pix2struct-{size} shape, {params / 1e6:.1f}M parameters, {offset / 2**30:.2f} GiB float32")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

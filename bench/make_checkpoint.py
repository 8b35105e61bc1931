"""Writes a random-weight Pix2Struct checkpoint with pix2struct-base's shape (safetensors)."""
import sys

import torch
from transformers import Pix2StructConfig, Pix2StructForConditionalGeneration


def main(out_dir: str) -> None:
    torch.manual_seed(0)
    # Defaults of Pix2StructConfig are pix2struct-base: hidden 768, 12+12 layers, 12 heads,
    # d_ff 2048, vocab 50244. Spelled out so a transformers default change cannot move it.
    config = Pix2StructConfig(
        text_config=dict(hidden_size=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12, vocab_size=50244),
        vision_config=dict(hidden_size=768, d_kv=64, d_ff=2048, num_hidden_layers=12, num_attention_heads=12),
    )
    model = Pix2StructForConditionalGeneration(config).eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out_dir}: {params / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main(sys.argv[1])

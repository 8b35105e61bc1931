"""Times Hugging Face transformers (PyTorch, CPU, float32) on the bench checkpoint.

Prints one JSON object. Phases run in separate processes so peak RSS belongs to one job:
  speed  preprocessing, encoder at 1024/2048 patches, decoder ms/token, plain MatMul GFLOP/s
  e2e    preprocess + generate 32 new tokens at 1024 patches, then peak RSS
"""
import argparse
import json
import resource
import statistics
import time

import torch
from PIL import Image
from transformers import Pix2StructForConditionalGeneration, Pix2StructImageProcessor


def ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def load(model_dir):
    model = Pix2StructForConditionalGeneration.from_pretrained(model_dir).eval()
    return model, Pix2StructImageProcessor(is_vqa=False)


def speed(args):
    model, processor = load(args.model)
    image = Image.open(args.image).convert("RGB")
    out = {}
    out["preprocess_ms"] = ms(lambda: processor(images=image, max_patches=1024, return_tensors="pt"), 3)
    with torch.no_grad():
        for patches in (1024, 2048):
            inputs = processor(images=image, max_patches=patches, return_tensors="pt")
            run = lambda: model.encoder(flattened_patches=inputs["flattened_patches"], attention_mask=inputs["attention_mask"])
            run()  # warm-up
            out[f"encoder_{patches}_ms"] = ms(run, args.repeats)
        inputs = processor(images=image, max_patches=1024, return_tensors="pt")
        enc = model.encoder(flattened_patches=inputs["flattened_patches"], attention_mask=inputs["attention_mask"])
        for use_cache in (True, False):
            ids = torch.zeros((1, 1), dtype=torch.long)
            past = None
            start = time.perf_counter()
            for _ in range(args.tokens):
                step_ids = ids[:, -1:] if use_cache else ids
                o = model.decoder(input_ids=step_ids, encoder_hidden_states=enc[0], encoder_attention_mask=inputs["attention_mask"], past_key_values=past, use_cache=use_cache)
                past = o.past_key_values if use_cache else None
                ids = torch.cat([ids, o.logits[:, -1:].argmax(-1)], dim=-1)
            key = "decoder_ms_per_token_cached" if use_cache else "decoder_ms_per_token_uncached"
            out[key] = (time.perf_counter() - start) * 1000 / args.tokens
        a = torch.randn(2048, 768)
        b = torch.randn(768, 768)
        t = ms(lambda: a @ b, 20)
        out["matmul_gflops"] = 2 * 2048 * 768 * 768 / (t / 1000) / 1e9
    return out


def e2e(args):
    model, processor = load(args.model)
    weights_loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    image = Image.open(args.image).convert("RGB")
    start = time.perf_counter()
    with torch.no_grad():
        inputs = processor(images=image, max_patches=1024, return_tensors="pt")
        # eos disabled so exactly 32 tokens are generated; generation config as a transformers
        # user gets it from this checkpoint (Pix2Struct saves use_cache=False).
        ids = model.generate(**inputs, max_new_tokens=args.tokens, eos_token_id=None, pad_token_id=0)
    elapsed = (time.perf_counter() - start) * 1000
    assert ids.shape[-1] == args.tokens + 1, ids.shape
    return {
        "e2e_ms": elapsed,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_after_load_bytes": weights_loaded_rss,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["speed", "e2e"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = speed(args) if args.phase == "speed" else e2e(args)
    result.update(torch=torch.__version__, threads=torch.get_num_threads())
    print(json.dumps(result))


if __name__ == "__main__":
    main()

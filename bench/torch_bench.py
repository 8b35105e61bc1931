"""Times Hugging Face transformers on PyTorch (CPU) on the bench checkpoint, as a Python user runs it.

usage: torch_bench.py speed|e2e --config fp32|bf16|autocast --model DIR --image PNG [--threads N]

Prints one JSON object. Each phase runs in its own process, so peak RSS belongs to one job:
  speed  preprocessing (1024 patches), encoder at 1024 and 2048 patches, decoder ms/token with
         the KV cache, and a [1024, 768] x [768, 2048] matmul in this configuration's precision
  e2e    preprocess + generate(max_new_tokens=32, use_cache=True) at 1024 patches, peak RSS
Configurations: fp32; bf16 (bfloat16 weights, inputs cast to match); autocast (fp32 weights
under torch.autocast("cpu", dtype=torch.bfloat16)). Runs on transformers 5.x with PyTorch 2.x
and on transformers 4.38 with Debian's torch 1.13 (fp32 only there).
"""
import argparse
import contextlib
import inspect
import json
import resource
import statistics
import time

import torch
import transformers
from PIL import Image
from transformers import Pix2StructForConditionalGeneration, Pix2StructImageProcessor

GEMM_SHAPE = (1024, 768, 2048)  # M, K, N: an encoder projection at 1024 patches


def timed_ms(fn):
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def median_ms(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    return statistics.median(timed_ms(fn)[0] for _ in range(repeats))


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class Bench:
    def __init__(self, args):
        self.args = args
        # bf16: loaded as bfloat16, the way transformers documents it; the same weights as
        # model.to(torch.bfloat16) after a float32 load, and about the same peak RSS.
        dtype_kw = {"dtype": torch.bfloat16} if args.config == "bf16" else {}
        self.model = Pix2StructForConditionalGeneration.from_pretrained(args.model, **dtype_kw).eval()
        self.dtype = self.model.dtype
        # In transformers 5 this class is the torchvision backend; without torchvision it falls
        # back to the PIL/numpy one (with a warning), which is what 4.38 always used.
        self.processor = Pix2StructImageProcessor(is_vqa=False)
        self.image = Image.open(args.image).convert("RGB")  # decoded before any timing
        # transformers 5 renamed the decoder's past_key_values argument and output to `cache`.
        params = inspect.signature(self.model.decoder.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"

    def precision(self):
        if self.args.config == "autocast":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def inputs(self, patches):
        out = self.processor(images=self.image, max_patches=patches, return_tensors="pt")
        return out["flattened_patches"].to(self.dtype), out["attention_mask"]

    def encode(self, patches, mask):
        hidden = self.model.encoder(flattened_patches=patches, attention_mask=mask)[0]
        # Our runtime projects every decoder layer's cross-attention keys/values once per image
        # in its encode step; PyTorch does the same work in the first decoder step. Counting it
        # in the encoder row on both sides keeps the encoder and per-token rows comparable.
        for layer in self.model.decoder.layer:
            attention = layer.encoder_decoder_attention.attention
            attention.key(hidden)
            attention.value(hidden)
        return hidden

    def decode(self, hidden, mask):
        """Greedy steps with the KV cache: ms per token over `tokens` steps after the first, and the ids."""
        cache = None
        token = self.model.config.decoder_start_token_id

        def step(token):
            nonlocal cache
            out = self.model.decoder(
                input_ids=torch.tensor([[token]]), encoder_hidden_states=hidden, encoder_attention_mask=mask,
                use_cache=True, **{self.cache_arg: cache},
            )
            cache = getattr(out, self.cache_arg)
            return int(out.logits[0, -1].argmax())

        # Untimed: this step is where PyTorch fills the cross-attention cache (see encode()).
        ids = [step(token)]
        start = time.perf_counter()
        for _ in range(self.args.tokens):
            ids.append(step(ids[-1]))
        return (time.perf_counter() - start) * 1000 / self.args.tokens, ids

    def speed(self):
        args, out = self.args, {}
        out["preprocess_ms"] = median_ms(lambda: self.inputs(1024), args.repeats)
        with torch.no_grad(), self.precision():
            for patches in (1024, 2048):
                inputs = self.inputs(patches)
                out[f"encoder_{patches}_ms"] = median_ms(lambda: self.encode(*inputs), args.repeats)
            patches, mask = self.inputs(1024)
            hidden = self.encode(patches, mask)
            runs = [self.decode(hidden, mask) for _ in range(args.repeats + 1)][1:]  # first: warm-up
            out["decoder_ms_per_token"] = statistics.median(ms for ms, _ in runs)
            out["decoder_tokens"] = runs[-1][1]
            m, k, n = GEMM_SHAPE
            a, b = torch.randn(m, k).to(self.dtype), torch.randn(k, n).to(self.dtype)
            out["gemm_gflops"] = 2 * m * k * n / (median_ms(lambda: a @ b, 20, warmup=3) / 1000) / 1e9
        return out

    def e2e(self):
        args = self.args
        rss_after_load = peak_rss_bytes()
        # Input length of every decoder call generate() makes: all 1 when the KV cache is used.
        lengths = []
        self.model.decoder.embed_tokens.register_forward_pre_hook(lambda _m, inp: lengths.append(inp[0].shape[-1]))

        def run():
            lengths.clear()
            patches, mask = self.inputs(1024)
            with self.precision():
                # eos disabled so exactly `tokens` tokens come out; use_cache=True overrides the
                # use_cache=false that Pix2Struct checkpoints save in generation_config.json.
                return self.model.generate(
                    flattened_patches=patches, attention_mask=mask, max_new_tokens=args.tokens,
                    use_cache=True, eos_token_id=None, pad_token_id=0,
                )

        first_ms, ids = timed_ms(run)
        runs = [timed_ms(run) for _ in range(args.repeats)]
        ids = runs[-1][1]
        assert ids.shape[-1] == args.tokens + 1, f"generated {ids.shape[-1] - 1} tokens"
        assert lengths == [1] * args.tokens, f"generate() ran without the KV cache: decoder input lengths {lengths}"
        return {
            "e2e_ms": statistics.median(ms for ms, _ in runs),
            "e2e_first_ms": first_ms,
            "tokens": ids[0, 1:].tolist(),
            "peak_rss_bytes": peak_rss_bytes(),
            "rss_after_load_bytes": rss_after_load,
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["speed", "e2e"])
    parser.add_argument("--config", choices=["fp32", "bf16", "autocast"], default="fp32")
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    transformers.logging.disable_progress_bar()  # "Loading weights" bars would fill the bench's log
    bench = Bench(args)
    result = bench.speed() if args.phase == "speed" else bench.e2e()
    result.update(
        config=args.config,
        torch=torch.__version__,
        transformers=transformers.__version__,
        threads=torch.get_num_threads(),
        processor=type(bench.processor).__name__,
        attention=getattr(bench.model.config, "_attn_implementation", None),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

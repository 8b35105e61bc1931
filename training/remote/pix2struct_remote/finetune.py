"""Fine-tunes a Pix2Struct checkpoint on the run's converted dataset (data/train.jsonl, eval.jsonl).

usage: python -m pix2struct_remote.finetune RUNDIR
       accelerate launch --module pix2struct_remote.finetune RUNDIR   (several GPUs)

The paper's recipe by default: Adafactor with a fixed learning rate, linear warm-up then cosine
decay; bf16 autocast where the GPU has it. `batch_size` is per process and micro-step, so a step
sees batch_size × processes × grad_accum examples. Writes metrics.jsonl, status.json's step and
phase, checkpoints/step-N every save_every steps and checkpoints/final at the end. Started again
on the same run folder it resumes from the newest step checkpoint. SIGTERM stops it at once,
saving nothing (checkpoints are only ever complete or absent).
"""
import contextlib
import os
import signal
import sys
import time
from typing import Any, Dict, List, Optional

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from torch.utils.data import DataLoader, Dataset
from transformers import Pix2StructForConditionalGeneration, Pix2StructProcessor

from pix2struct_remote import run_files as rf
from pix2struct_remote import train_state as ts
from pix2struct_remote.train_inputs import Batcher, InputError, read_records

STATUS_INTERVAL_S = 2.0
EXIT_STOPPED = 143


class Stopped(Exception):
    """SIGTERM arrived: leave without saving."""


class MicroBatches(Dataset):
    """Item k is the k-th micro-batch of this process: a deterministic function of (seed, k).

    The examples form an endless stream of shuffled passes over the training set; micro-step k
    of all processes together takes the next batch_size × processes examples, this process its
    own slice. Resuming at step s therefore only needs s, not a saved data-loader position.
    """

    def __init__(self, records: List[Dict[str, Any]], batcher: Batcher, batch_size: int, rank: int, world: int,
                 seed: int, start: int, stop: int) -> None:
        self.records, self.batcher = records, batcher
        self.batch_size, self.rank, self.world, self.seed = batch_size, rank, world, seed
        self.start, self.stop = start, stop
        self._orders: Dict[int, List[int]] = {}

    def order(self, epoch: int) -> List[int]:
        if epoch not in self._orders:
            g = torch.Generator()
            g.manual_seed(self.seed * 1_000_003 + epoch)
            self._orders = {epoch: torch.randperm(len(self.records), generator=g).tolist()}
        return self._orders[epoch]

    def indices(self, k: int) -> List[int]:
        n = len(self.records)
        first = (k * self.world + self.rank) * self.batch_size
        return [self.order(p // n)[p % n] for p in range(first, first + self.batch_size)]

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int) -> Dict[str, torch.Tensor]:
        return self.batcher([self.records[j] for j in self.indices(self.start + i)])


def mixed_precision(setting: str) -> str:
    """Accelerate's mixed_precision for the spec's bf16 setting: bf16 only where the GPU supports it."""
    if setting == "off":
        return "no"
    supported = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if setting == "on" and not supported:
        print("bf16 requested but this device has no bf16 support: training in float32", flush=True)
    return "bf16" if supported else "no"


class FineTune:
    """One fine-tuning process (one of several under accelerate)."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.spec = rf.read_spec(run_dir)
        self.ckpt_dir = os.path.join(run_dir, rf.CHECKPOINTS_DIR)
        self.stop_requested = False
        self.last_status = 0.0

    # --- plumbing -------------------------------------------------------------------------
    def on_sigterm(self, _signum: int, _frame: Any) -> None:
        self.stop_requested = True

    def check_stop(self) -> None:
        if self.stop_requested:
            raise Stopped()

    def say(self, text: str) -> None:
        if self.accelerator.is_main_process:
            print(text, flush=True)

    def status(self, force: bool = False, **fields: Any) -> None:
        """status.json update from the main process, at most every STATUS_INTERVAL_S unless forced."""
        now = time.monotonic()
        if self.accelerator.is_main_process and (force or now - self.last_status >= STATUS_INTERVAL_S):
            rf.update_status(self.run_dir, **fields)
            self.last_status = now

    # --- setup ----------------------------------------------------------------------------
    def load(self) -> None:
        spec = self.spec
        self.accelerator = Accelerator(mixed_precision=mixed_precision(spec["bf16"]))
        set_seed(spec["seed"])
        acc = self.accelerator
        self.say(f"{acc.num_processes} process{'es' if acc.num_processes > 1 else ''} on {acc.device}, "
                 f"mixed precision {acc.mixed_precision}")
        data_dir = os.path.join(self.run_dir, rf.DATA_DIR)
        self.train_records = read_records(os.path.join(data_dir, "train.jsonl"))
        if not self.train_records:
            raise InputError(f"{data_dir}/train.jsonl has no records")
        eval_path = os.path.join(data_dir, "eval.jsonl")
        self.eval_records = read_records(eval_path) if os.path.exists(eval_path) else []
        if self.accelerator.is_main_process:
            ts.remove_partial(self.ckpt_dir)
        self.accelerator.wait_for_everyone()
        resumable = ts.step_checkpoints(self.ckpt_dir)
        self.resume_from = resumable[-1] if resumable else None
        source = self.resume_from[1] if self.resume_from else spec["base_model"]
        self.say(f"loading {source}")
        self.model = Pix2StructForConditionalGeneration.from_pretrained(source)
        try:
            self.processor = Pix2StructProcessor.from_pretrained(source)
        except (OSError, ValueError, TypeError) as e:
            raise InputError(f"{source} has no usable processor/tokenizer files: {e}") from None
        # Questions in the data make this a VQA model: saved so that inference draws headers too.
        self.vqa = bool(self.model.config.is_vqa) or any(r.get("header") is not None for r in self.train_records)
        self.model.config.is_vqa = self.vqa
        self.processor.image_processor.is_vqa = self.vqa
        self.processor.image_processor.max_patches = spec["max_patches"]
        self.batcher = Batcher(self.processor, spec["max_patches"], spec["max_target_length"], self.vqa)

        self.optimizer = ts.make_optimizer(spec["optimizer"], self.model.parameters(), spec["learning_rate"])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, ts.warmup_cosine(spec["warmup_steps"], spec["steps"]))
        self.model, self.optimizer = self.accelerator.prepare(self.model, self.optimizer)
        self.step = 0
        if self.resume_from:
            state = torch.load(os.path.join(self.resume_from[1], ts.TRAINING_STATE), map_location="cpu")
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            ts.set_rng_state(state["rng"][min(self.accelerator.process_index, len(state["rng"]) - 1)])
            self.step = state["step"]
            self.say(f"resuming at step {self.step} from {os.path.relpath(self.resume_from[1], self.run_dir)}")

    def data(self) -> DataLoader:
        spec = self.spec
        micro = spec["grad_accum"]
        dataset = MicroBatches(self.train_records, self.batcher, spec["batch_size"], self.accelerator.process_index,
                               self.accelerator.num_processes, spec["seed"], self.step * micro, spec["steps"] * micro)
        workers = min(4, max((os.cpu_count() or 1) // self.accelerator.num_processes - 1, 0)) \
            if torch.cuda.is_available() else 0
        # A private generator: the loader's seed draw must not consume the global RNG that dropout
        # uses, or a resumed run would drop different units than an uninterrupted one.
        generator = torch.Generator()
        generator.manual_seed(spec["seed"] * 7919 + self.step)
        return DataLoader(dataset, batch_size=None, shuffle=False, num_workers=workers, generator=generator,
                          pin_memory=torch.cuda.is_available(), persistent_workers=False)

    # --- checkpoints and evaluation ---------------------------------------------------------
    def save(self, name: str, with_state: bool) -> None:
        self.status(force=True, phase="saving", message=f"saving {name}")
        state = None
        if with_state:
            # One generator state per process, in process order.
            rng = gather_object([ts.rng_state()]) if self.accelerator.num_processes > 1 else [ts.rng_state()]
            state = {"step": self.step, "optimizer": self.optimizer.state_dict(),
                     "scheduler": self.scheduler.state_dict(), "rng": rng, "spec": self.spec}
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            ts.save_checkpoint(self.ckpt_dir, name, model, self.processor, state)
            removed = ts.prune_step_checkpoints(self.ckpt_dir) if with_state else []
            for folder in removed:
                print(f"removed old checkpoint {os.path.relpath(folder, self.run_dir)}", flush=True)
            print(f"saved checkpoints/{name}", flush=True)
            self.status(force=True, phase="training", checkpoints=rf.list_checkpoints(self.run_dir))
        self.accelerator.wait_for_everyone()

    def evaluate(self) -> None:
        """Greedy decoding (RefExp: a "true" score per candidate) over eval.jsonl, scored by the task's metric."""
        if not self.eval_records:
            return
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            self.status(force=True, phase="evaluating", message=f"evaluating at step {self.step}")
            started = time.monotonic()
            values = self.eval_values()
            record = {"step": self.step, "time": rf.utc_now(), "split": "eval", **values}
            rf.append_metric(self.run_dir, record)
            shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
            print(f"eval at step {self.step}: {shown} ({time.monotonic() - started:.0f} s)", flush=True)
            self.status(force=True, phase="training")
        self.accelerator.wait_for_everyone()

    @torch.no_grad()
    def eval_values(self) -> Dict[str, float]:
        from pix2struct_remote.metrics import compute  # written alongside the converters

        model = self.accelerator.unwrap_model(self.model)
        was_training = model.training
        model.eval()
        device = self.accelerator.device
        task = self.spec["task"]
        answer_ids = None
        if task == "refexp":  # candidates ranked by log P("true") - log P("false") of the first token
            tok = self.processor.tokenizer
            answer_ids = [tok(word, add_special_tokens=False)["input_ids"][0] for word in ("true", "false")]
        predictions: List[Any] = []
        loss_sum, count = 0.0, 0
        size = self.spec["batch_size"]
        for i in range(0, len(self.eval_records), size):
            self.check_stop()
            chunk = self.eval_records[i:i + size]
            enc = {k: v.to(device) for k, v in self.batcher.encoder_inputs(chunk).items()}
            labels = self.batcher.labels([r["target"] for r in chunk]).to(device)
            with self.accelerator.autocast():
                out = model(**enc, labels=labels)
                loss_sum += float(out.loss) * len(chunk)
                count += len(chunk)
                if answer_ids is not None:
                    start = torch.full((len(chunk), 1), model.config.decoder_start_token_id, device=device)
                    logits = model(**enc, decoder_input_ids=start).logits  # [B, 1, vocab]
                    logp = torch.log_softmax(logits[:, 0].float(), dim=-1)  # [B, vocab]
                    predictions.extend((logp[:, answer_ids[0]] - logp[:, answer_ids[1]]).tolist())
                else:
                    ids = model.generate(**enc, max_new_tokens=self.spec["max_target_length"])
                    predictions.extend(self.processor.tokenizer.batch_decode(ids, skip_special_tokens=True))
        if was_training:
            model.train()
        values = {"loss": loss_sum / max(count, 1)}
        values.update({k: float(v) for k, v in compute(task, predictions, self.eval_records).items()})
        return values

    # --- training -------------------------------------------------------------------------
    def train(self) -> None:
        spec = self.spec
        total, accum = spec["steps"], spec["grad_accum"]
        batches = iter(self.data())
        model, device = self.model, self.accelerator.device
        model.train()
        started, first_step = time.monotonic(), self.step
        report_every = max(1, total // 100)
        while self.step < total:
            lr = self.scheduler.get_last_lr()[0]
            losses = []
            for micro in range(accum):
                batch = {k: v.to(device) for k, v in next(batches).items()}
                # Gradients are synchronised across processes only on the last micro-batch.
                sync = contextlib.nullcontext() if micro == accum - 1 else self.accelerator.no_sync(model)
                with sync:
                    loss = model(**batch).loss  # mean over this micro-batch's target tokens
                    self.accelerator.backward(loss / accum)
                losses.append(loss.detach().float())
                self.check_stop()
            if spec["optimizer"] == "adamw":
                self.accelerator.clip_grad_norm_(model.parameters(), 1.0)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            step_loss = float(self.accelerator.reduce(torch.stack(losses).mean(), reduction="mean"))
            if self.accelerator.is_main_process:
                rf.append_metric(self.run_dir, {"step": self.step, "time": rf.utc_now(), "split": "train",
                                                "loss": step_loss, "learning_rate": lr})
                per_step = (time.monotonic() - started) / (self.step - first_step)
                if self.step % report_every == 0 or self.step <= 3 or self.step == total:
                    print(f"step {self.step}/{total} loss {step_loss:.4f} lr {lr:.3g} ({per_step:.2f} s/step)", flush=True)
                self.status(force=self.step == total, phase="training", step=self.step, total_steps=total,
                            message=f"step {self.step}/{total}, {per_step:.2f} s/step, "
                                    f"about {per_step * (total - self.step) / 60:.0f} min left")
            if spec["save_every"] and self.step % spec["save_every"] == 0 and self.step < total:
                self.save(f"step-{self.step}", with_state=True)
            if spec["eval_every"] and self.step % spec["eval_every"] == 0 and self.step < total:
                self.evaluate()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.on_sigterm)
        try:
            self.load()
            self.check_stop()
            self.train()
            self.evaluate()
            self.save("final", with_state=False)
        except Stopped:
            print("stopped by SIGTERM; nothing saved since the last checkpoint", flush=True)
            return EXIT_STOPPED
        except InputError as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            return 1
        except Exception:
            if self.stop_requested:  # e.g. a data-loader worker killed by the same SIGTERM
                print("stopped by SIGTERM; nothing saved since the last checkpoint", flush=True)
                return EXIT_STOPPED
            raise
        return 0


def main(argv: List[str]) -> int:
    """Entry point."""
    if len(argv) != 1:
        print("usage: python -m pix2struct_remote.finetune RUNDIR", file=sys.stderr)
        return 2
    return FineTune(argv[0]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Model inputs for fine-tuning: converted records (data/*.jsonl) → Pix2Struct tensors.

The header (question or prompt) is drawn above the picture exactly as model-runtime draws it at
inference: Liberation Sans at 36 px through transformers' own render_header, never the Arial that
transformers would otherwise download.
"""
import copy
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from transformers import Pix2StructProcessor
from transformers.models.pix2struct.image_processing_pix2struct import render_header

FONT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fonts",
                         "LiberationSans-Regular.ttf")


class InputError(Exception):
    """The converted dataset cannot be used; the message names the file and line."""


def read_records(path: str) -> List[Dict[str, Any]]:
    """The records of one converted JSONL file, with `image` made absolute."""
    folder = os.path.dirname(os.path.abspath(path))
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                raise InputError(f"{path} line {n} is not JSON: {e}") from None
            if not isinstance(record, dict) or not isinstance(record.get("image"), str) \
                    or not isinstance(record.get("target"), str):
                raise InputError(f"{path} line {n}: expected an object with string 'image' and 'target'")
            record["image"] = os.path.join(folder, record["image"])
            records.append(record)
    return records


class Batcher:
    """Turns records into model inputs with a processor (its image processor renders no headers itself)."""

    def __init__(self, processor: Pix2StructProcessor, max_patches: int, max_target_length: int, vqa: bool) -> None:
        self.tokenizer = processor.tokenizer
        # A private copy that only makes patches: headers are drawn here, with the bundled font.
        self.patcher = copy.deepcopy(processor.image_processor)
        self.patcher.is_vqa = False
        self.max_patches = max_patches
        self.max_target_length = max_target_length
        self.vqa = vqa

    def picture(self, record: Dict[str, Any]) -> np.ndarray:
        """The model's input picture [H, W, 3] uint8: the record's image, its header drawn on top if any."""
        try:
            with Image.open(record["image"]) as im:
                image = im.convert("RGB")
        except OSError as e:
            raise InputError(f"cannot read image {record['image']}: {e}") from None
        header: Optional[str] = record.get("header")
        if header is None and self.vqa:
            header = ""
        if header is None:
            return np.asarray(image)
        return render_header(np.asarray(image), header, font_path=FONT_PATH)

    def encoder_inputs(self, records: Sequence[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
        """flattened_patches [B, max_patches, 2 + 16*16*3] and attention_mask [B, max_patches]."""
        out = self.patcher.preprocess([self.picture(r) for r in records], max_patches=self.max_patches,
                                      return_tensors="pt")
        return {"flattened_patches": out["flattened_patches"], "attention_mask": out["attention_mask"]}

    def labels(self, texts: Sequence[str]) -> torch.Tensor:
        """Target token ids [B, T] ending in eos, padding as -100 so the loss ignores it."""
        enc = self.tokenizer(list(texts), max_length=self.max_target_length, truncation=True,
                             padding="longest", return_tensors="pt")
        labels = enc["input_ids"]
        labels[enc["attention_mask"] == 0] = -100
        return labels

    def __call__(self, records: Sequence[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
        """A training batch: encoder inputs plus labels."""
        batch = self.encoder_inputs(records)
        batch["labels"] = self.labels([r["target"] for r in records])
        return batch

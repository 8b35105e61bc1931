"""Trains a small T5-style Unigram tokenizer (the real Pix2Struct vocabulary is not available
offline) and writes tokenizer.json plus reference encodings/decodings from the Python library.

usage: make_tokenizer.py OUT_DIR   (reads sentences, one per line, from stdin)
"""
import json
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers


def main(out_dir: str) -> None:
    sentences = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", add_prefix_space=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", add_prefix_space=True)
    # T5 conventions: pad 0, eos 1, unk 2; eos appended to every encoded text.
    trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    tok.train_from_iterator(sentences * 20, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    # DePlot's vocabulary spells a newline as the ordinary token <0x0A>.
    tok.add_tokens(["<0x0A>"])
    tok.save(f"{out_dir}/tokenizer.json")
    with open(f"{out_dir}/tokenizer_config.json", "w") as f:
        json.dump({"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "model_max_length": 512}, f)
    cases = []
    for text in sentences:
        ids = tok.encode(text).ids
        cases.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
    json.dump({"cases": cases, "special": {"pad": tok.token_to_id("<pad>"), "eos": tok.token_to_id("</s>"), "unk": tok.token_to_id("<unk>")}}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

"""Regenerates fixtures/ptb-cider-reference.json with the real COCO caption evaluation.

Not run by the tests: it needs Java and the pycocoevalcap package (1.2), whose PTBTokenizer runs
Stanford CoreNLP's tokenizer and whose Cider scorer is the one pix2struct's metrics.py calls.
Usage: python test/remote/make_ptb_cider_reference.py  (with pycocoevalcap importable)
"""
import json
import random
from pathlib import Path

from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

OUT = Path(__file__).with_name("fixtures") / "ptb-cider-reference.json"

SUBJECTS = ["a man", "A woman", "the screen", "Page", "a sign", "A bottle", "the app's menu", "a book",
            "an iPhone", "the display", "A jersey", "Login page", "a can of Coca-Cola", "Mr. Brown's shop",
            "the U.S. flag", "a laptop"]
VERBS = ["showing", "displays", "with", "that says", "reading", "titled", "of", "labeled", "listing", "containing"]
OBJECTS = ['"STOP"', "settings for wi-fi, bluetooth and more", "the number 23", "$4.99", "50% off!",
           "a list of songs", "options (sort, filter)", "email/password fields", "'Welcome back'",
           "the time 10:45 p.m.", "1,000 followers", "a photo of New York's skyline", "the words \"don't walk\"",
           "version 2.0.1", "an e-mail from bob@mail.com", "[beta] features", "Harry Potter & the Goblet of Fire",
           "a well-known brand", "the year 1999!!!", "it's open 24/7", "items; prices: low",
           "the score 3-1 -- final", "...loading", "a 'sale' banner", "words in French?", "I'm lovin' it", "AT&T logo"]
TAILS = ["", ".", " on it.", " in red", ", next to a cup", " (blurry)", " and a button!", " - close up"]


def sentences(rng, count):
    found = set()
    while len(found) < count:
        found.add(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}")
    return sorted(found)


def main():
    rng = random.Random(11)
    pool = sentences(rng, 300)
    tokenized = PTBTokenizer().tokenize({str(i): [{"caption": s}] for i, s in enumerate(pool)})
    tokens = [[s, tokenized[str(i)][0].split()] for i, s in enumerate(pool)]

    references, predictions = [], []
    for _ in range(60):
        refs = rng.sample(pool, rng.randint(1, 5))
        kind = rng.random()
        if kind < 0.3:
            prediction = refs[0]
        elif kind < 0.7:
            words = refs[0].split()
            prediction = " ".join(w for w in words if rng.random() > 0.3) or words[0]
        else:
            prediction = rng.choice(pool)
        references.append(refs)
        predictions.append(prediction)
    # As pix2struct/metrics.py's cider(): tokenize both sides, Cider().compute_score, x 100.
    gts = PTBTokenizer().tokenize({str(i): [{"caption": t} for t in refs] for i, refs in enumerate(references)})
    res = PTBTokenizer().tokenize({str(i): [{"caption": p}] for i, p in enumerate(predictions)})
    score, _ = Cider().compute_score(gts, res)
    OUT.write_text(json.dumps({
        "source": "pycocoevalcap 1.2 (Stanford PTBTokenizer via Java, Cider scorer), see make_ptb_cider_reference.py",
        "tokens": tokens,
        "cider": {"references": references, "predictions": predictions, "score": float(score) * 100.0},
    }, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

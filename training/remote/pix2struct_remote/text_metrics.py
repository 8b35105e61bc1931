"""Building blocks of the metrics: edit distance, a PTB-style tokenizer and CIDEr-D."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Dict, List, Sequence, Tuple


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


# pycocoevalcap's PTBTokenizer runs Stanford's PTBTokenizer (-lowerCase) and then drops these.
# Brackets come out as -lrb- etc.: lower-cased, they miss the (upper-case) list and stay.
_DROPPED = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--",
            "...", ";"}
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
_CONTRACTION = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")
_TITLES = r"(?:mr|mrs|ms|dr|prof|st|jr|sr|vs|mt|inc|corp|ltd|co|no|gen|gov|sen|rep|rev|capt|lt|col|sgt)"
_TOKEN = re.compile(
    r"\.\.\.|--|[!?]{2,}"                 # ellipsis and dash stay one token; so do runs like "!!!"
    r"|[\w.+-]+@\w+(?:\.\w+)+"              # e-mail addresses
    r"|[a-z]\.(?:[a-z]\.)+"                # abbreviations: u.s., p.m.
    rf"|\b{_TITLES}\.(?=\s)"                # titles before a name: mr. smith
    r"|\d+(?:[.,:/]\d+)+"                  # numbers: 3.5, 1,000, 1:30, 1/2
    r"|\w+(?:\.\w+)+"                      # dotted names: www.example.com
    r"|[\w'&@]+(?:[-/][\w'&@]+)*"          # words, with - / ' & @ inside: well-known, and/or
    r"|[^\w\s]")                            # any other symbol on its own


def ptb_tokenize(text: str) -> List[str]:
    """Caption words the way the COCO caption evaluation sees them.

    A close, Java-free stand-in for Stanford's PTBTokenizer as pycocoevalcap runs it: lower case,
    punctuation split off and dropped, contractions split ("don't" -> "do n't"), quotes dropped,
    brackets kept as -lrb-/-rrb-..., numbers like 3.5 or 1,000 and hyphenated words kept whole.
    test/remote/fixtures/ptb-cider-reference.json compares it with the real tokenizer.
    """
    tokens: List[str] = []
    for raw in _TOKEN.findall(text.lower()):
        # Quotes glued to a word ('hello', students') are split off by PTB, and then dropped.
        if raw.startswith("'") and _CONTRACTION.match("x" + raw) is None:
            raw = raw.lstrip("'")
        m = _CONTRACTION.match(raw)
        parts = [m.group(1), m.group(2)] if m else [raw]
        for part in parts:
            if len(part) > 1 and part.endswith("'"):
                part = part.rstrip("'")
            part = _BRACKETS.get(part, part)
            if part and part not in _DROPPED and part != '"':
                tokens.append(part)
    return tokens


NGram = Tuple[str, ...]


def _ngrams(words: Sequence[str], n_max: int = 4) -> Counter:
    counts: Counter = Counter()
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            counts[tuple(words[i:i + n])] += 1
    return counts


def cider_d(references: Sequence[Sequence[str]], candidates: Sequence[str], n_max: int = 4,
            sigma: float = 6.0) -> float:
    """Corpus CIDEr-D as pycocoevalcap's Cider scorer computes it (before the x100 of pix2struct).

    Document frequencies come from the references of this very corpus, so the score of one item
    depends on the others (and a one-item corpus scores 0). Both sides are PTB-tokenized first.
    """
    if len(references) != len(candidates):
        raise ValueError(f"{len(candidates)} candidates for {len(references)} reference sets")
    if not candidates:
        raise ValueError("CIDEr needs at least one candidate")
    ref_counts = [[_ngrams(ptb_tokenize(r), n_max) for r in refs] for refs in references]
    cand_counts = [_ngrams(ptb_tokenize(c), n_max) for c in candidates]
    df: Dict[NGram, int] = defaultdict(int)
    for refs in ref_counts:
        for ngram in set(g for r in refs for g in r):
            df[ngram] += 1
    log_corpus = math.log(float(len(references)))

    def vectorize(counts: Counter):
        vec = [dict() for _ in range(n_max)]
        norm = [0.0] * n_max
        length = 0
        for ngram, tf in counts.items():
            n = len(ngram) - 1
            weight = float(tf) * (log_corpus - math.log(max(1.0, df.get(ngram, 0))))
            vec[n][ngram] = weight
            norm[n] += weight * weight
            if n == 1:
                length += tf  # pycocoevalcap measures length in bigrams
        return vec, [math.sqrt(x) for x in norm], length

    total = 0.0
    for refs, cand in zip(ref_counts, cand_counts):
        if not refs:
            raise ValueError("every candidate needs at least one reference")
        vh, nh, lh = vectorize(cand)
        score = [0.0] * n_max
        for ref in refs:
            vr, nr, lr = vectorize(ref)
            delta = float(lh - lr)
            for n in range(n_max):
                val = sum(min(w, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, w in vh[n].items())
                if nh[n] != 0 and nr[n] != 0:
                    val /= nh[n] * nr[n]
                score[n] += val * math.exp(-(delta ** 2) / (2 * sigma ** 2))
        total += (sum(score) / n_max) / len(refs) * 10.0
    return total / len(candidates)


def linear_sum_assignment(cost: Sequence[Sequence[float]]) -> List[Tuple[int, int]]:
    """Minimum-cost matching of rows to columns (Hungarian algorithm with potentials).

    Rectangular matrices match min(rows, cols) pairs, like scipy.optimize.linear_sum_assignment;
    returns (row, col) pairs sorted by row.
    """
    rows = len(cost)
    cols = len(cost[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    transposed = rows > cols
    a = [list(col) for col in zip(*cost)] if transposed else [list(r) for r in cost]
    n, m = len(a), len(a[0])  # n <= m
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    p = [0] * (m + 1)  # p[j]: row matched to column j (1-based), 0 = free
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = a[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(p[j] - 1, j - 1) for j in range(1, m + 1) if p[j]]
    if transposed:
        pairs = [(c, r) for r, c in pairs]
    return sorted(pairs)

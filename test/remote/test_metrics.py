"""Metrics against values worked out by hand (derivations in the comments) or published examples."""
import itertools
import json
import math
import random
from pathlib import Path

import pytest

from pix2struct_remote.metrics import MetricError, compute, primary_metric
from pix2struct_remote.text_metrics import levenshtein, linear_sum_assignment, ptb_tokenize


def recs(*reference_lists):
    return [{"id": str(i), "target": refs[0], "references": list(refs)} for i, refs in enumerate(reference_lists)]


# --- CIDEr-D ----------------------------------------------------------------------------------
# Two images whose references share no n-gram: every reference n-gram has document frequency 1
# in a corpus of 2, so every weight is log(2) (an n-gram unseen in the references also gets
# log(2) - log(max(1, 0)) = log(2)). Per image, CIDEr-D = 10 * mean over n = 1..4 of
# cos(candidate n-grams, reference n-grams) with counts clipped, times the length penalty
# exp(-(bigram count difference)^2 / 72). pix2struct reports it x 100.

def test_cider_of_exact_captions_is_ten_per_image():
    # cos = 1 for n = 1..4, no length difference: 10 per image, 1000 after x100.
    assert compute("textcaps", ["a b c d", "w x y z"], recs(["a b c d"], ["w x y z"]))["cider"] == pytest.approx(1000.0)


def test_cider_of_a_partly_wrong_caption():
    # "a b c e" vs "a b c d": unigrams 3 of 4 shared -> 3/4; bigrams ab,bc of 3 -> 2/3;
    # trigrams abc of 2 -> 1/2; 4-grams none -> 0. Mean 0.4791667 x 10 = 4.791667.
    # With the exact second image (10): (4.791667 + 10) / 2 x 100 = 739.5833.
    result = compute("screen2words", ["a b c e", "w x y z"], recs(["a b c d"], ["w x y z"]))
    assert result["cider"] == pytest.approx(100 * (10 * (3 / 4 + 2 / 3 + 1 / 2 + 0) / 4 + 10) / 2)
    assert result["cider"] == pytest.approx(739.5833, abs=1e-3)


def test_cider_length_penalty():
    # "a b c d e" vs "a b c d": cosines 4/(2*sqrt5), 3/(sqrt4*sqrt3), 2/(sqrt3*sqrt2), 1/sqrt2;
    # bigram lengths 4 vs 3 -> penalty exp(-1/72).
    cosines = [4 / (2 * math.sqrt(5)), 3 / (2 * math.sqrt(3)), 2 / (math.sqrt(3) * math.sqrt(2)), 1 / math.sqrt(2)]
    first = 10 * sum(cosines) / 4 * math.exp(-1 / 72)
    result = compute("widget_captioning", ["a b c d e", "w x y z"], recs(["a b c d"], ["w x y z"]))
    assert result["cider"] == pytest.approx(100 * (first + 10) / 2)
    assert result["cider"] == pytest.approx(904.845, abs=1e-3)


def test_cider_averages_over_references_and_tokenizes_like_coco():
    # Image 1 has two references; candidate equals the first: cos 1 with it. With the second
    # ("p q r s", no shared n-gram) cos 0, and equal length. Average over references -> 5.
    # Capitals and punctuation vanish in PTB tokenization, so "W, X. Y Z!" equals "w x y z".
    result = compute("textcaps", ["A b c d.", "W, X. Y Z!"], recs(["a b c d", "p q r s"], ["w x y z"]))
    assert result["cider"] == pytest.approx(100 * (5 + 10) / 2)


def test_cider_of_a_single_image_corpus_is_zero():
    # Document frequency 1 of 1 gives every n-gram weight log(1) - log(1) = 0.
    assert compute("textcaps", ["a b c d"], recs(["a b c d"]))["cider"] == 0.0


REFERENCE = json.loads((Path(__file__).with_name("fixtures") / "ptb-cider-reference.json").read_text(encoding="utf-8"))


def test_tokens_match_stanfords_ptb_tokenizer_on_caption_like_sentences():
    # Produced by pycocoevalcap's PTBTokenizer (Java) -- see make_ptb_cider_reference.py.
    mismatches = [(s, expected, ptb_tokenize(s)) for s, expected in REFERENCE["tokens"] if ptb_tokenize(s) != expected]
    assert not mismatches


def test_cider_equals_pycocoevalcap_on_a_sixty_image_corpus():
    case = REFERENCE["cider"]
    records = [{"id": str(i), "references": refs} for i, refs in enumerate(case["references"])]
    assert compute("textcaps", case["predictions"], records)["cider"] == pytest.approx(case["score"], rel=1e-9)


def test_ptb_style_tokens():
    # Brackets survive as -lrb-/-rrb-: pycocoevalcap drops "-LRB-" but the tokenizer lower-cased it.
    assert ptb_tokenize("A man's hat, (left) \"big\"; don't!") == ["a", "man", "'s", "hat", "-lrb-", "left", "-rrb-", "big", "do", "n't"]
    assert ptb_tokenize("Costs $5 or 50% at 1,000.5 U.S. well-known") == [
        "costs", "$", "5", "or", "50", "%", "at", "1,000.5", "u.s.", "well-known"]


# --- ANLS, relaxed accuracy, exact match ------------------------------------------------------

def test_anls_lowercases_and_scores_zero_unless_the_distance_is_below_one_half():
    predictions = ["Hallo", "HELLO", "xyz", "ax", "abc"]
    references = recs(["hello"],          # 1 edit / 5 chars -> 0.8
                      ["hello"],          # equal after lower-casing -> 1
                      ["abc"],            # 3/3 = 1 > 0.5 -> 0
                      ["ab"],             # 1/2 = 0.5, not below the threshold -> 0 (DocVQA: NL < 0.5)
                      ["xbc", "abcd"])    # 1 - 1/3 and 1 - 1/4: the best, 0.75, counts
    assert compute("docvqa", predictions, references) == {"anls": pytest.approx(100 * (0.8 + 1 + 0 + 0 + 0.75) / 5)}
    assert compute("infographicvqa", ["", "a"], recs([""], ["a"])) == {"anls": 100.0}


@pytest.mark.parametrize("prediction, target, correct", [
    ("10.4", "10", True),     # 4% off
    ("10.6", "10", False),    # 6% off
    ("9.5", "10", True),      # exactly 5%
    ("0.52", "50%", True),    # 50% reads as 0.5; 4% off
    ("0", "0", True),         # zero targets fall back to text comparison
    ("0.0", "0", False),
    ("Yes", "yes", True),     # text compares without case
    ("Yes!", "yes", False),
])
def test_relaxed_accuracy(prediction, target, correct):
    assert compute("chartqa", [prediction], recs([target])) == {"relaxed_accuracy": 100.0 if correct else 0.0}


def test_exact_match_is_case_sensitive_and_takes_any_reference():
    result = compute("ocrvqa", ["Dune", "dune", "Emma"], recs(["Dune"], ["Dune"], ["Persuasion", "Emma"]))
    assert result == {"exact_match": pytest.approx(200 / 3)}
    assert compute("ai2d", ["(a) cat", "dog"], recs(["cat"], ["dog"])) == {"exact_match": 50.0}


def test_custom_task_reports_exact_match_and_anls():
    assert compute("custom", ["abcd"], recs(["abce"])) == {"exact_match": 0.0, "anls": pytest.approx(75.0)}
    assert primary_metric("custom") == "exact_match"


# --- RefExp group accuracy --------------------------------------------------------------------

def refexp_records():
    # Two expressions: group g1 has candidates 0..2 with the second one right; g2 has 2 with the first right.
    targets = [("g1", "false"), ("g1", "true"), ("g1", "false"), ("g2", "true"), ("g2", "false")]
    return [{"id": f"{g}-{i}", "group": g, "target": t, "references": [t]} for i, (g, t) in enumerate(targets)]


def test_group_accuracy_with_scores():
    # g1: best score is candidate 1 (right); g2: best is candidate 4 (wrong) -> 1 of 2.
    assert compute("refexp", [0.1, 2.5, -1.0, 0.3, 0.9], refexp_records()) == {"group_accuracy": 50.0}


def test_group_accuracy_ranks_like_pix2struct():
    # ("true", s) beats every ("false", s'); among "false" answers the least confident wins.
    predictions = [("false", -0.1), ("false", -3.0), ("false", -0.01),   # g1: candidate 1 least sure it is false -> right
                   {"text": "true", "score": -5.0}, ("false", -0.001)]   # g2: the only "true" -> right
    assert compute("refexp", predictions, refexp_records()) == {"group_accuracy": 100.0}
    # Plain text answers: the first "true" in a group wins.
    assert compute("refexp", ["true", "true", "false", "false", "true"], refexp_records()) == {"group_accuracy": 0.0}


def test_group_accuracy_rejects_malformed_groups():
    records = refexp_records()
    records[0]["target"] = "true"
    with pytest.raises(MetricError, match=r"group 'g1' must have exactly one candidate with target \"true\", has 2"):
        compute("refexp", [0.0] * 5, records)
    with pytest.raises(MetricError, match=r"4 predictions for 5 records"):
        compute("refexp", [0.0] * 4, refexp_records())


# --- DePlot table F1 --------------------------------------------------------------------------
# The example of deplot/metrics_test.py (google-research): the title matches (1) and
# "1999 argentina" 202 vs 200 is 1% off (0.99), "1999 brazil" 0 vs 158 scores 0: 1.99 of 3
# datapoints on both sides, so precision = recall = F1 = 1.99 / 3.
TARGET = "title | my table\nyear | argentina | brazil\n1999 | 200 | 158\n"
TRANSPOSED_TARGET = "title | my table\ncountry | 1999\nargentina | 200\nbrazil | 158\n"
PREDICTION = "title | my table\nyear | argentina | brazil\n1999 | 202 | 0\n"


def test_table_f1_published_example():
    assert compute("deplot", [PREDICTION], recs([TARGET])) == {"table_f1": pytest.approx(100 * 1.99 / 3)}
    assert compute("deplot", [PREDICTION], recs([TRANSPOSED_TARGET])) == {"table_f1": pytest.approx(100 * 1.99 / 3)}


def test_table_f1_counts_extra_and_missing_datapoints():
    # Prediction has the title and one exact cell but invents a third column:
    # score 2 over 3 predicted (precision 2/3) and 2 over 2 target datapoints (recall 1): F1 0.8.
    target = "title | t\nyear | a\n2000 | 5"
    prediction = "title | t\nyear | a | b\n2000 | 5 | 7"
    assert compute("deplot", [prediction], recs([target])) == {"table_f1": pytest.approx(80.0)}
    assert compute("deplot", ["", prediction], recs([""], [target])) == {"table_f1": pytest.approx(90.0)}


# --- helpers ----------------------------------------------------------------------------------

def test_levenshtein_known_distances():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("flaw", "lawn") == 2


def test_assignment_is_optimal_against_brute_force():
    rng = random.Random(7)
    for rows, cols in [(3, 3), (2, 4), (4, 2), (5, 5), (1, 3)]:
        cost = [[rng.randint(0, 9) for _ in range(cols)] for _ in range(rows)]
        pairs = linear_sum_assignment(cost)
        assert len(pairs) == min(rows, cols)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        if rows <= cols:
            best = min(sum(cost[r][c] for r, c in enumerate(p)) for p in itertools.permutations(range(cols), rows))
        else:
            best = min(sum(cost[r][c] for c, r in enumerate(p)) for p in itertools.permutations(range(rows), cols))
        assert sum(cost[r][c] for r, c in pairs) == best


def test_compute_rejects_mismatches():
    with pytest.raises(MetricError, match=r"unknown task 'mnist'"):
        compute("mnist", ["a"], recs(["a"]))
    with pytest.raises(MetricError, match=r"2 predictions for 1 records"):
        compute("docvqa", ["a", "b"], recs(["a"]))
    with pytest.raises(MetricError, match=r"prediction 0 for docvqa must be text"):
        compute("docvqa", [1.0], recs(["a"]))

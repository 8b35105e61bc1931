"""Evaluation metrics of the fine-tuning tasks, as pix2struct (and DePlot) define them.

`compute(task, predictions, records)` scores one prediction per converted record against the
record's `references`, returning percentages (0-100) like the original metrics.py:

- cider: CIDEr-D (pycocoevalcap's formula, Java-free PTB-style tokenization) x 100;
- anls: average of the best 1 - normalised edit distance (lower-cased; 0 unless the distance is below 0.5);
- relaxed_accuracy: numbers within 5% of the answer, other answers exactly (case-insensitive);
- exact_match: the prediction equals one reference exactly;
- group_accuracy: RefExp, the share of expressions whose top-ranked candidate is the right one;
- table_f1: DePlot's RMS F1 of linearised tables.

RefExp predictions rank candidates, so each may be a score (float: higher = more likely the
referred element, e.g. log P(true) - log P(false)), a (text, score) pair or {"text", "score"}
(ranked as pix2struct does: "true" first, then by score; a "false" with a higher score ranks
lower), or plain text ("true"/"false", ties going to the first candidate).
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple, Union

from .table_metrics import anls_pair, best_table_prf, to_float
from .text_metrics import cider_d

# The task's metrics; the first is the one that picks the best checkpoint (info.json's "metric").
METRICS_BY_TASK: Dict[str, Tuple[str, ...]] = {
    "textcaps": ("cider",),
    "screen2words": ("cider",),
    "widget_captioning": ("cider",),
    "docvqa": ("anls",),
    "infographicvqa": ("anls",),
    "chartqa": ("relaxed_accuracy",),
    "ocrvqa": ("exact_match",),
    "ai2d": ("exact_match",),
    "refexp": ("group_accuracy",),
    "deplot": ("table_f1",),
    "custom": ("exact_match", "anls"),
}


class MetricError(ValueError):
    """Predictions and records do not fit together (count, task, RefExp groups)."""


def primary_metric(task: str) -> str:
    """The metric that ranks checkpoints for `task`."""
    if task not in METRICS_BY_TASK:
        raise MetricError(f"unknown task {task!r}; expected one of {', '.join(METRICS_BY_TASK)}")
    return METRICS_BY_TASK[task][0]


def references_of(record: Mapping[str, Any]) -> List[str]:
    refs = record.get("references") or [record.get("target")]
    if not all(isinstance(r, str) for r in refs):
        raise MetricError(f"record {record.get('id')!r} has no text references")
    return list(refs)


def _mean_best(references: Sequence[Sequence[str]], predictions: Sequence[str],
               pair: Callable[[str, str], float], normalize: Callable[[str], str] = lambda v: v) -> float:
    total = 0.0
    for prediction, refs in zip(predictions, references):
        p = normalize(prediction)
        total += max(float(pair(normalize(r), p)) for r in refs)
    return 100.0 * total / len(references)


def exact_match(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> float:
    return _mean_best(references, predictions, lambda t, p: t == p)


def anls(references: Sequence[Sequence[str]], predictions: Sequence[str], theta: float = 0.5) -> float:
    return _mean_best(references, predictions, lambda t, p: anls_pair(t, p, theta), str.lower)


def relaxed_correctness(target: str, prediction: str, max_relative_change: float = 0.05) -> bool:
    """ChartQA's rule: within 5% of a non-zero numeric answer, else equal ignoring case."""
    prediction_float, target_float = to_float(prediction), to_float(target)
    if prediction_float is not None and target_float:
        return abs(prediction_float - target_float) / abs(target_float) <= max_relative_change
    return prediction.lower() == target.lower()


def relaxed_accuracy(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> float:
    return _mean_best(references, predictions, relaxed_correctness)


def cider(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> float:
    return 100.0 * cider_d(references, predictions)


def table_f1(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> float:
    return 100.0 * sum(best_table_prf(refs, p)[2] for refs, p in zip(references, predictions)) / len(references)


RefExpPrediction = Union[float, int, str, Tuple[str, float], Mapping[str, Any]]


def _refexp_rank(prediction: RefExpPrediction, index: int) -> Tuple[Any, ...]:
    """Sort key: larger is better."""
    if isinstance(prediction, bool):
        raise MetricError("a RefExp prediction is a score, text, or (text, score); got a bool")
    if isinstance(prediction, (int, float)):
        return (float(prediction),)
    if isinstance(prediction, str):
        return (prediction == "true", 0.0)
    if isinstance(prediction, Mapping):
        text, score = prediction.get("text"), prediction.get("score")
    elif isinstance(prediction, (tuple, list)) and len(prediction) == 2:
        text, score = prediction
    else:
        raise MetricError(f"RefExp prediction {index} must be a score, text, (text, score) or "
                          f"{{'text', 'score'}}; got {prediction!r}")
    if not isinstance(text, str) or isinstance(score, bool) or not isinstance(score, (int, float)):
        raise MetricError(f"RefExp prediction {index} needs text and a numeric score; got {prediction!r}")
    is_true = text == "true"
    return (is_true, float(score) * (1 if is_true else -1))


def group_accuracy(records: Sequence[Mapping[str, Any]], predictions: Sequence[RefExpPrediction]) -> float:
    """Share of groups (expressions) whose best-ranked candidate is the one targeted "true"."""
    indexed = sorted(range(len(records)), key=lambda i: str(records[i].get("group")))
    correct = groups = 0
    for group, members in itertools.groupby(indexed, key=lambda i: str(records[i].get("group"))):
        members = list(members)
        if records[members[0]].get("group") is None:
            raise MetricError(f"RefExp record {records[members[0]].get('id')!r} has no group")
        truths = [i for i in members if records[i].get("target") == "true"]
        if len(truths) != 1:
            raise MetricError(f"RefExp group {group!r} must have exactly one candidate with target "
                              f"\"true\", has {len(truths)}")
        # max() keeps the first of equal keys, so ties go to the earliest candidate.
        best = max(members, key=lambda i: _refexp_rank(predictions[i], i))
        correct += best == truths[0]
        groups += 1
    return 100.0 * correct / groups


def compute(task: str, predictions: Sequence[Any], records: Sequence[Mapping[str, Any]]) -> Dict[str, float]:
    """{metric name: value in 0..100} for `task` (names as in training/PROTOCOL.md)."""
    names = METRICS_BY_TASK.get(task)
    if names is None:
        raise MetricError(f"unknown task {task!r}; expected one of {', '.join(METRICS_BY_TASK)}")
    if len(predictions) != len(records):
        raise MetricError(f"{len(predictions)} predictions for {len(records)} records")
    if not records:
        raise MetricError("no records to score")
    if task == "refexp":
        return {"group_accuracy": group_accuracy(records, predictions)}
    texts = list(predictions)
    for i, p in enumerate(texts):
        if not isinstance(p, str):
            raise MetricError(f"prediction {i} for {task} must be text, got {type(p).__name__}")
    references = [references_of(r) for r in records]
    functions = {"cider": cider, "anls": anls, "relaxed_accuracy": relaxed_accuracy,
                 "exact_match": exact_match, "table_f1": table_f1}
    return {name: functions[name](references, texts) for name in names}

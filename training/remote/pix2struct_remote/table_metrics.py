"""DePlot's table metric: RMS (relative mapping similarity) precision, recall and F1.

Follows deplot/metrics.py's table_datapoints_precision_recall: a table becomes a set of
datapoints "row header + column header" -> cell; predicted and target datapoints are matched
one to one by the normalised Levenshtein distance of their keys, and each matched pair scores
key similarity x value similarity (relative error for numbers, ANLS for text).

table_f1 is the mean per-table RMS F1, as the current deplot/metrics.py reports it (an earlier
revision averaged recall under that name). The matching is this module's own Hungarian
algorithm rather than scipy's, so ties between equally cheap matchings may break differently.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from .text_metrics import levenshtein, linear_sum_assignment


def anls_pair(target: str, prediction: str, theta: float = 0.5) -> float:
    """1 - normalised edit distance when it is below theta, else 0 (DocVQA's ANLS, pix2struct's anls_metric)."""
    longest = max(len(target), len(prediction))
    if longest == 0:
        return 1.0
    distance = levenshtein(target, prediction) / longest
    return 1.0 - distance if distance < theta else 0.0


def to_float(text: str) -> Optional[float]:
    """A number, with "12%" read as 0.12; None for anything else."""
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relative_distance(target: float, prediction: float, theta: float = 1.0) -> float:
    """min(1, |target - prediction| / |target|), and 1 from theta up."""
    if not target:
        return int(not prediction)
    distance = min(abs((target - prediction) / target), 1)
    return distance if distance < theta else 1


@dataclass(frozen=True)
class Table:
    title: Optional[str] = None
    headers: Tuple[str, ...] = ()
    rows: Tuple[Tuple[str, ...], ...] = field(default_factory=tuple)


def parse_table(text: str, transposed: bool = False) -> Table:
    """DePlot's linearised table: optional "title | ..." line, then rows of cells joined by " | "."""
    lines = text.lower().splitlines()
    if not lines:
        return Table()
    title = None
    offset = 0
    if lines[0].startswith("title |"):
        title, offset = lines[0][len("title |"):].strip(), 1
    if len(lines) < offset + 1:
        return Table(title=title)
    rows = [tuple(cell.strip() for cell in line.split(" | ")) for line in lines[offset:]]
    if transposed:
        rows = [tuple(r) for r in itertools.zip_longest(*rows, fillvalue="")]
    return Table(title=title, headers=rows[0], rows=tuple(rows[1:]))


def datapoints(table: Table) -> List[Tuple[str, str]]:
    points = {}
    if table.title is not None:
        points["title"] = table.title
    if table.rows and len(table.headers) > 1:
        for row in table.rows:
            for header, cell in zip(table.headers[1:], row[1:]):
                points[f"{row[0]} {header}"] = cell
    return list(points.items())


def _datapoint_score(target: Tuple[str, str], prediction: Tuple[str, str], text_theta: float,
                     number_theta: float) -> float:
    key = anls_pair(target[0], prediction[0], text_theta)
    pred_float, target_float = to_float(prediction[1]), to_float(target[1])
    if pred_float is not None and target_float:
        return key * (1 - relative_distance(target_float, pred_float, number_theta))
    if target[1] == prediction[1]:
        return key
    return key * anls_pair(target[1], prediction[1], text_theta)


def table_prf(target: Table, prediction: Table, text_theta: float = 0.5,
              number_theta: float = 0.1) -> Tuple[float, float, float]:
    """RMS precision, recall and F1 of one predicted table against one target table."""
    t_points, p_points = datapoints(target), datapoints(prediction)
    if not t_points and not p_points:
        return 1.0, 1.0, 1.0
    if not t_points:
        return 0.0, 1.0, 0.0
    if not p_points:
        return 1.0, 0.0, 0.0
    cost = [[1 - anls_pair(t, p, text_theta) for p, _ in p_points] for t, _ in t_points]
    score = sum(_datapoint_score(t_points[r], p_points[c], text_theta, number_theta)
                for r, c in linear_sum_assignment(cost))
    if score == 0:
        return 0.0, 0.0, 0.0
    precision, recall = score / len(p_points), score / len(t_points)
    return precision, recall, 2 * precision * recall / (precision + recall)


def best_table_prf(references: Sequence[str], prediction: str) -> Tuple[float, float, float]:
    """The best (by F1) over every reference and both orientations of the prediction."""
    candidates = [table_prf(parse_table(ref), parse_table(prediction, transposed=t))
                  for t in (True, False) for ref in references]
    return max(candidates, key=lambda prf: prf[-1])

"""Best-effort metrics from t5x's log: clu's LoggingWriter prints `[STEP] collection=NAME k=v, k=v`."""
import re
from typing import Any, Dict, Optional

_SCALARS = re.compile(r"\[(\d+)\](?: collection=(\S+))? ((?:[\w/.-]+=[-+\w.]+(?:, )?)+)\s*$")
# Protocol names (PROTOCOL.md) recognised as the last component of a t5x/seqio metric key.
_KNOWN = {"loss", "learning_rate", "cider", "anls", "relaxed_accuracy", "exact_match", "group_accuracy", "table_f1"}


def parse_metric_line(line: str, time: str) -> Optional[Dict[str, Any]]:
    """One metrics.jsonl record from a t5x log line, or None when the line carries no known metric."""
    match = _SCALARS.search(line)
    if not match:
        return None
    step, collection, pairs = int(match.group(1)), match.group(2) or "", match.group(3)
    split = "eval" if "eval" in collection or "eval" in pairs.split("=")[0] else "train"
    record: Dict[str, Any] = {"step": step, "time": time, "split": split}
    for pair in pairs.split(", "):
        key, _, raw = pair.partition("=")
        name = key.rsplit("/", 1)[-1]
        if name not in _KNOWN:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            record[name] = value
    return record if len(record) > 3 else None

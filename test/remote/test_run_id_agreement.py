"""The host's run-id check against the list the launcher's tests check too (fixtures/run-ids.json):
a run id the launcher makes or accepts must be one the host accepts, and the other way round."""
import json
from pathlib import Path

import pytest

from pix2struct_remote import run_files
from pix2struct_remote.tpu import plan

IDS = json.loads((Path(__file__).parent / "fixtures" / "run-ids.json").read_text(encoding="utf-8"))


def test_the_tpu_plan_checks_run_ids_with_the_same_pattern() -> None:
    assert plan.RUN_ID_PATTERN is run_files.RUN_ID_PATTERN


@pytest.mark.parametrize("run_id", IDS["valid"])
def test_accepts_what_the_launcher_accepts(run_id: str, tmp_path: Path) -> None:
    assert run_files.RUN_ID_PATTERN.match(run_id)
    run_files.check_run_dir_name(str(tmp_path / "runs" / run_id))


@pytest.mark.parametrize("run_id", IDS["invalid"])
def test_refuses_what_the_launcher_refuses(run_id: str) -> None:
    assert not run_files.RUN_ID_PATTERN.match(run_id)

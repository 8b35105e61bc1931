"""plan.py against the commands of the original README (read here, never copied), and the dry run."""
import ast
import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "remote"))

from pix2struct_remote.tpu import plan  # noqa: E402
from pix2struct_remote.tpu.metrics_parse import parse_metric_line  # noqa: E402
from pix2struct_remote.tpu.pipeline import (  # noqa: E402
    DRY_RUN_RECORD, Context, PipelineError, fix_converted_config, run_phases, run_step, run_tpu_pipeline)
from pix2struct_remote.tpu.run_io import files_io  # noqa: E402

README = ROOT.parent / "shared" / "seed" / "pix2struct-README.md"
FIXTURE = ROOT.parent / "shared" / "fixtures" / "pix2struct-tiny" / "model-a"
BUCKET = "gs://user-bucket/pix2struct"
ENV = {"PIX2STRUCT_DIR": BUCKET, "GCP_PROJECT": "my-project", "GCP_REGION": "europe-west4"}


def readme_commands():
    """(section heading, argv) for every command in the README's code blocks, continuations joined."""
    text = README.read_text(encoding="utf-8")
    commands, heading = [], None
    for match in re.finditer(r"^(#+) ([^\n]+)$|```\n(.*?)```", text, flags=re.M | re.S):
        if match.group(2):
            heading = match.group(2).strip()
            continue
        for line in match.group(3).replace("\\\n", " ").splitlines():
            if line.strip():
                commands.append((heading, shlex.split(line)))
    return commands


def substitute(words):
    """The README's $VARS replaced by this test's values."""
    out = []
    for word in words:
        for name, value in ENV.items():
            word = word.replace(f"${name}", value)
        out.append(word)
    return out


def readme_command(prefix, heading=None):
    found = [argv for h, argv in readme_commands() if argv[:len(prefix)] == prefix and (heading is None or h == heading)]
    assert found, f"the README has no {' '.join(prefix)} command under {heading}"
    return found


def heading_task(heading):
    """The README's section title as a task name (TextCaps → textcaps, OCR-VQA → ocrvqa)."""
    key = re.sub(r"[^a-z0-9]", "", heading.lower())
    return next(t for t in plan.CONVERTERS if t.replace("_", "") == key)


def make_spec(task="screen2words", **tpu):
    return {
        "name": "n", "task": task, "backend": "tpu", "dataset": {"format": task, "path": "upload/dataset"},
        "base_model": "google/pix2struct-base", "python": None, "steps": 200, "batch_size": 32,
        "grad_accum": 1, "learning_rate": 0.01, "optimizer": "adafactor", "warmup_steps": 0,
        "max_patches": 4096, "max_target_length": 128, "eval_every": 0, "save_every": 0,
        "bf16": "auto", "num_processes": None, "seed": 0,
        "tpu": {"bucket": BUCKET, "gin_size": "base", **tpu},
    }


def test_install_matches_getting_started(tmp_path):
    clone = readme_command(["git", "clone"])[0]
    pip = readme_command(["pip", "install"])[0]
    steps = plan.build_plan(make_spec(), str(tmp_path / "runs" / "r1"), str(tmp_path))
    install = [s for s in steps if s.phase == "install"]
    assert install[0].argv[:3] == tuple(clone)
    assert install[1].argv[install[1].argv.index("pip"):] == tuple(pip)
    assert install[1].cwd == install[0].argv[3], "pip install -e runs inside the clone"
    assert {s.workers for s in install} == {"all"}, "every worker of a slice needs the packages"


@pytest.mark.parametrize("dataflow", [True, False])
def test_every_readme_converter_command(tmp_path, dataflow):
    converters = [(h, argv) for h, argv in readme_commands() if len(argv) > 2 and argv[2].startswith("pix2struct.preprocessing.")]
    assert len(converters) >= 9
    covered = set()
    for heading, argv in converters:
        task = heading_task(heading)
        tpu = {"dataflow": {"project": ENV["GCP_PROJECT"], "region": ENV["GCP_REGION"]}} if dataflow else {}
        spec = make_spec(task, **tpu)
        spec["dataset"]["path"] = f"{BUCKET}/data/{task}"
        step = next(s for s in plan.build_plan(spec, str(tmp_path / "r1"), str(tmp_path)) if s.phase == "preprocess")
        expected = substitute(argv)
        if not dataflow:  # the README: "run locally by turning off flags appearing after --"
            expected = expected[:expected.index("--")]
        assert list(step.argv[1:]) == expected[1:], task
        assert step.env["PIX2STRUCT_DIR"] == BUCKET
        assert step.cwd and step.cwd.endswith("pix2struct"), "setup.py and configs are relative to the clone"
        covered.add(task)
    assert covered == set(plan.CONVERTERS)


def test_stage_copies_an_uploaded_dataset_into_the_bucket(tmp_path):
    run_dir = tmp_path / "runs" / "r1"
    steps = plan.build_plan(make_spec(), str(run_dir), str(tmp_path))
    stage = next(s for s in steps if s.phase == "stage")
    cp = [argv for _, argv in readme_commands() if argv[:4] == ["gsutil", "-m", "cp", "-r"]]
    assert cp and stage.argv[:4] == tuple(cp[0][:4])
    assert stage.argv[4:] == (str(run_dir / "upload" / "dataset"), f"{BUCKET}/data/screen2words")


def test_a_dataset_elsewhere_in_gcs_is_copied_where_tasks_py_reads(tmp_path):
    spec = make_spec()
    spec["dataset"]["path"] = "gs://other-bucket/raw/screen2words/"
    steps = plan.build_plan(spec, str(tmp_path / "r1"), str(tmp_path))
    stage = next(s for s in steps if s.phase == "stage")
    assert stage.argv == ("gsutil", "-m", "cp", "-r", "gs://other-bucket/raw/screen2words", f"{BUCKET}/data/screen2words")
    preprocess = next(s for s in steps if s.phase == "preprocess")
    assert f"--screen2words_dir={BUCKET}/data/screen2words" in preprocess.argv


def test_train_matches_the_readme(tmp_path):
    readme = substitute(readme_command(["python", "-m", "t5x.train"])[0])
    flags = dict(w.split("=", 1) for w in readme[3:] if not w.startswith("--gin_file="))
    lengths = ast.literal_eval(flags["--gin.TASK_FEATURE_LENGTHS"])
    task = ast.literal_eval(flags["--gin.MIXTURE_OR_TASK_NAME"])
    size = next(w for w in readme if w.startswith("--gin_file=sizes/")).split("/")[1][:-4]
    init = next(w for w in readme if w.startswith("--gin_file=init/")).split("/")[1][:-4]
    spec = make_spec(task, gin_size=size, init=init)
    spec.update(max_patches=lengths["inputs"], max_target_length=lengths["targets"], batch_size=int(flags["--gin.BATCH_SIZE"]))
    step = next(s for s in plan.build_plan(spec, str(tmp_path / "runs" / "run-7"), str(tmp_path)) if s.phase == "train")
    ours = list(step.argv[1:])
    model_dir = next(w for w in ours if w.startswith("--gin.MODEL_DIR="))
    readme_model_dir = next(w for w in readme if w.startswith("--gin.MODEL_DIR="))
    assert ast.literal_eval(model_dir.split("=", 1)[1]) == f"{BUCKET}/experiments/run-7"
    assert ast.literal_eval(readme_model_dir.split("=", 1)[1]).startswith(f"{BUCKET}/experiments/")
    assert [w for w in ours if w != model_dir] == [w for w in readme[1:] if w != readme_model_dir]
    assert step.workers == "all", "t5x.train runs on every host of a slice"


def test_large_vqa_conversion_flags(tmp_path):
    spec = make_spec("docvqa", gin_size="large")
    step = plan.convert_step(spec, plan.tpu_options(spec), plan.Paths(str(tmp_path), str(tmp_path / "r1")), "python3", "gs://b/c/checkpoint_9")
    assert step.argv[1:3] == ("-m", plan.HF_CONVERTER_MODULE)
    assert "--use_large" in step.argv and "--is_vqa" in step.argv
    assert step.argv[step.argv.index("--pytorch_dump_folder_path") + 1] == str(tmp_path / "r1" / "checkpoints" / "final")


def test_converter_module_exists_in_transformers():
    import importlib.util
    assert importlib.util.find_spec(plan.HF_CONVERTER_MODULE.rsplit(".", 1)[0]) is not None
    spec_file = Path(importlib.util.find_spec("transformers").origin).parent / "models" / "pix2struct" / (plan.HF_CONVERTER_MODULE.rsplit(".", 1)[1] + ".py")
    source = spec_file.read_text()
    for flag in ("--t5x_checkpoint_path", "--pytorch_dump_folder_path", "--use_large", "--is_vqa"):
        assert f'"{flag}"' in source, flag


def test_pick_checkpoint_takes_the_highest_step():
    listing = "gs://b/e/r/checkpoint_200/\ngs://b/e/r/checkpoint_1000/\ngs://b/e/r/checkpoint_400/\n"
    assert plan.pick_checkpoint(listing) == "gs://b/e/r/checkpoint_1000"
    with pytest.raises(plan.PlanError):
        plan.pick_checkpoint("CommandException: One or more URLs matched no objects.")


@pytest.mark.parametrize("bucket", ["gs://My Bucket", "s3://b/x", "gs://b/x\n--flag", "/home/me", "", "gs://b"])
def test_bad_buckets_are_refused(tmp_path, bucket):
    with pytest.raises(plan.PlanError, match="bucket"):
        plan.build_plan(make_spec(bucket=bucket), str(tmp_path / "r1"), str(tmp_path))


def test_other_bad_options(tmp_path):
    with pytest.raises(plan.PlanError, match="custom"):
        plan.build_plan(make_spec("custom"), str(tmp_path / "r1"), str(tmp_path))
    with pytest.raises(plan.PlanError, match="gin_size"):
        plan.build_plan(make_spec(gin_size="huge"), str(tmp_path / "r1"), str(tmp_path))
    with pytest.raises(plan.PlanError, match="mixture"):
        plan.build_plan(make_spec(mixture="x'; import os"), str(tmp_path / "r1"), str(tmp_path))
    spec = make_spec()
    spec["optimizer"] = "adamw"
    with pytest.raises(plan.PlanError, match="adafactor"):
        plan.build_plan(spec, str(tmp_path / "r1"), str(tmp_path))


def _run_dir(tmp_path, spec):
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "spec.json").write_text(json.dumps(spec))
    (run_dir / "status.json").write_text(json.dumps({"state": "preparing", "checkpoints": []}))
    return run_dir


def test_hostile_bucket_path_stays_data_in_a_dry_run(tmp_path):
    marker = tmp_path / "PWNED"
    bucket = f"gs://user-bucket/it's a \"run\" $(touch {marker}) `touch {marker}`; touch {marker}"
    spec = make_spec(bucket=bucket)
    run_dir = _run_dir(tmp_path, spec)
    logged = []
    assert run_tpu_pipeline(str(run_dir), spec, logged.append, dry_run=True) == 0
    records = [json.loads(l) for l in (run_dir / DRY_RUN_RECORD).read_text().splitlines()]
    assert [r["phase"] for r in records] == ["install", "install", "install", "stage", "preprocess", "train", "convert", "convert", "convert"]
    train = next(r for r in records if r["phase"] == "train")
    model_dir = next(w for w in train["argv"] if w.startswith("--gin.MODEL_DIR="))
    assert ast.literal_eval(model_dir.split("=", 1)[1]) == f"{bucket}/experiments/r1"
    assert not marker.exists()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "succeeded" and "nothing executed" in status["message"]
    assert status.get("final_checkpoint") is None
    assert records[-1]["argv"][:5] == ["gsutil", "-m", "cp", "-r", str(run_dir / "checkpoints" / "final")]
    assert records[-1]["argv"][5] == f"{bucket}/experiments/r1/hf_final", "the checkpoint outlives the VM"
    assert any("dry run, not executed: t5x.train" in line for line in logged)


def test_run_step_really_executes_and_reports_failure(tmp_path):
    spec = make_spec()
    run_dir = _run_dir(tmp_path, spec)
    ctx = Context(str(run_dir), spec, files_io(str(run_dir)), dry_run=False, home=str(tmp_path))
    ok = plan.Step("train", "echo", (sys.executable, "-c", "import os; print('dir', os.environ['PIX2STRUCT_DIR'])"), env={"PIX2STRUCT_DIR": "x y"})
    assert run_step(ctx, ok) == "dir x y"
    bad = plan.Step("train", "exit 3", (sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"))
    with pytest.raises(PipelineError, match="exit code 3"):
        run_step(ctx, bad)
    log = (run_dir / "run.log").read_text()
    assert "dir x y" in log and "boom" in log


def test_a_failing_phase_fails_the_run(tmp_path):
    spec = make_spec()
    spec["python"] = str(tmp_path / "no-such-python")
    run_dir = _run_dir(tmp_path, spec)
    (tmp_path / ".pix2struct" / "tpu" / "pix2struct" / ".git").mkdir(parents=True)  # clone is skipped
    ctx = Context(str(run_dir), spec, files_io(str(run_dir)), dry_run=False, home=str(tmp_path))
    assert run_phases(ctx, ["install"]) is False
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and "not installed" in status["message"] and status["exit_code"] == 127
    assert "skipped clone pix2struct" in (run_dir / "run.log").read_text()


def test_converted_checkpoint_gets_the_tasks_is_vqa(tmp_path):
    from transformers import Pix2StructConfig, Pix2StructImageProcessor
    final = tmp_path / "final"
    shutil.copytree(FIXTURE, final)
    for vqa in (True, False):
        fix_converted_config(str(final), vqa)
        assert Pix2StructConfig.from_pretrained(final).is_vqa is vqa
        assert Pix2StructImageProcessor.from_pretrained(final).is_vqa is vqa
    os.remove(final / "model.safetensors")
    with pytest.raises(PipelineError, match="no weights"):
        fix_converted_config(str(final), True)


def test_t5x_scalar_lines_become_metrics():
    # clu's LoggingWriter: logging.info("[%d]%s %s", step, " collection=NAME", "k=v, k=v").
    train = parse_metric_line("I1124 21:00:00 logging_writer.py:48] [400] collection=train accuracy=0.5, learning_rate=0.01, loss=3.25", "T")
    assert train == {"step": 400, "time": "T", "split": "train", "learning_rate": 0.01, "loss": 3.25}
    ev = parse_metric_line("[600] collection=inference_eval screen2words/eval/cider=1.0875", "T")
    assert ev == {"step": 600, "time": "T", "split": "eval", "cider": 1.0875}
    assert parse_metric_line("[600] collection=train timing/seconds=3.5", "T") is None


def _phase_cli(run_dir, *words, timeout=60):
    """The launcher's fixed words, run as on a VM."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=str(ROOT / "training" / "remote"), HOME=str(run_dir.parent.parent))
    out = subprocess.run([sys.executable, "-m", "pix2struct_remote.tpu", *words], env=env, capture_output=True,
                         text=True, timeout=timeout)
    return out.returncode, json.loads(out.stdout.strip().splitlines()[-1])


def test_start_detaches_and_wait_reports_the_outcome(tmp_path):
    spec = make_spec()
    run_dir = _run_dir(tmp_path, spec)
    code, started = _phase_cli(run_dir, "start", "install", str(run_dir), "--dry-run")
    assert code == 0 and started["started"] and isinstance(started["pid"], int)
    code, outcome = _phase_cli(run_dir, "wait", "install", str(run_dir), "--timeout", "30")
    assert (code, outcome["state"]) == (0, "ok")
    assert [json.loads(l)["phase"] for l in (run_dir / DRY_RUN_RECORD).read_text().splitlines()] == ["install"] * 3
    assert _phase_cli(run_dir, "wait", "train", str(run_dir), "--timeout", "0")[1] == {"state": "not-started"}


def test_wait_tells_running_from_dead(tmp_path):
    import subprocess
    run_dir = _run_dir(tmp_path, make_spec())
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (run_dir / "tpu-phases.json").write_text(json.dumps({"train": {"state": "running", "pid": sleeper.pid}}))
        assert _phase_cli(run_dir, "wait", "train", str(run_dir), "--timeout", "1")[1] == {"state": "running"}
    finally:
        sleeper.kill()
        sleeper.wait()
    code, outcome = _phase_cli(run_dir, "wait", "train", str(run_dir), "--timeout", "5")
    assert outcome == {"state": "failed", "message": "the phase's process died"}


def test_a_failed_phase_is_reported_with_its_reason(tmp_path):
    run_dir = _run_dir(tmp_path, make_spec(bucket="gs://Not A Bucket"))
    code, out = _phase_cli(run_dir, "run", "install", str(run_dir), "--dry-run")
    assert code == 1 and "bucket" in out["error"]
    assert json.loads((run_dir / "tpu-phases.json").read_text())["install"]["state"] == "failed"


def test_cancel_stops_the_phase_session_and_cancels_the_run(tmp_path):
    import subprocess
    run_dir = _run_dir(tmp_path, make_spec())
    # A started phase is a session leader with children (t5x, Beam…): here a shell and its sleep.
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & wait"], start_new_session=True)
    try:
        (run_dir / "tpu-phases.json").write_text(json.dumps({"train": {"state": "running", "pid": leader.pid}}))
        code, out = _phase_cli(run_dir, "cancel", "train", str(run_dir))
        assert (code, out) == (0, {"cancelled": True, "stopped": True})
        assert leader.wait(timeout=15) is not None
        table = subprocess.run(["ps", "-eo", "pid=,sess=,stat="], capture_output=True, text=True).stdout.split("\n")
        alive = [row for row in table if row.split()[1:2] == [str(leader.pid)] and not row.split()[2].startswith("Z")]
        assert alive == [], "nothing of the phase's session survives (zombies awaiting their reaper aside)"
    finally:
        if leader.poll() is None:
            leader.kill()
    assert json.loads((run_dir / "status.json").read_text())["state"] == "cancelled"
    assert _phase_cli(run_dir, "wait", "train", str(run_dir), "--timeout", "0")[1] == {"state": "failed", "message": "cancelled"}

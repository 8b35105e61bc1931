"""The original Pix2Struct TPU workflow (google-research/pix2struct README) as exact argv lists.

A plan is data: every step names its phase, the workers of a multi-host slice that must run it,
its argv, working folder and extra environment. `pipeline.py` executes it (or, in dry-run mode,
records it); nothing here touches the disk or the network, so tests compare it with the README.

User-typed values (the bucket path above all) only ever become single argv elements or gin string
literals made with `repr`, never text for a shell: the plan is run with `subprocess` and no shell.
"""
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..run_files import RUN_ID_PATTERN

PIX2STRUCT_REPO = "https://github.com/google-research/pix2struct.git"
LIBTPU_RELEASES = "https://storage.googleapis.com/jax-releases/libtpu_releases.html"
# The converter imports t5x (installed with pix2struct) and writes the checkpoint with torch.
HF_CONVERTER_MODULE = "transformers.models.pix2struct.convert_pix2struct_original_pytorch_to_hf"
CONVERTER_REQUIREMENTS = ("transformers>=4.38,<5", "torch", "sentencepiece")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
RICO_IMAGES = "data/rico_images"
AI2D_TEST_IDS = "gs://pix2struct-data/ai2d_test_ids.csv"

# Per task: the converter module's suffix and its data flags, as in the README's commands. Values
# are templates over {data} (the task's folder in the bucket) and {root} (the bucket path).
CONVERTERS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {
    "textcaps": ("textcaps", (("textcaps_dir", "{data}"), ("output_dir", "{data}/processed"))),
    "chartqa": ("chartqa", (("data_dir", "{data}"),)),
    "widget_captioning": ("widget_captioning", (("data_dir", "{data}"), ("image_dir", "{root}/" + RICO_IMAGES))),
    "screen2words": ("screen2words", (("screen2words_dir", "{data}"), ("rico_dir", "{root}/" + RICO_IMAGES))),
    "refexp": ("refexp", (("data_dir", "{data}"), ("image_dir", "{root}/" + RICO_IMAGES))),
    "docvqa": ("docvqa", (("data_dir", "{data}"),)),
    # InfographicVQA has the DocVQA layout and uses the same converter.
    "infographicvqa": ("docvqa", (("data_dir", "{data}"),)),
    "ocrvqa": ("ocrvqa", (("data_dir", "{data}"),)),
    "ai2d": ("ai2d", (("data_dir", "{data}"), ("test_ids_path", AI2D_TEST_IDS))),
}
# Tasks whose checkpoints render a question header (Pix2StructConfig.is_vqa).
VQA_TASKS = frozenset({"chartqa", "docvqa", "infographicvqa", "ocrvqa", "ai2d"})
GIN_SIZES = ("base", "large")

_BUCKET = re.compile(r"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\x00-\x1f\x7f]*)?$")
_GIN_NAME = re.compile(r"^[a-z0-9_]{1,100}$")
_GCP_WORD = re.compile(r"^[a-z][a-z0-9-]{1,62}$")


class PlanError(ValueError):
    """The spec cannot be turned into the TPU workflow; the message says what to change."""


@dataclass(frozen=True)
class Step:
    """One command of the workflow."""

    phase: str  # install | stage | preprocess | train | convert
    name: str
    argv: Tuple[str, ...]
    # "all": every worker of a multi-host slice runs it (install, t5x.train); "0": worker 0 only.
    workers: str = "0"
    cwd: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)
    # The step is skipped when this path exists (a clone made by an earlier run).
    skip_if_exists: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        """The step as a JSON object (dry-run records, logs)."""
        return {"phase": self.phase, "name": self.name, "argv": list(self.argv), "workers": self.workers,
                "cwd": self.cwd, "env": dict(self.env), "skip_if_exists": self.skip_if_exists}


@dataclass(frozen=True)
class TpuOptions:
    """spec["tpu"], validated."""

    bucket: str
    gin_size: str
    init: str
    mixture: str
    stage_steps: Optional[int]
    dataflow_project: Optional[str]
    dataflow_region: Optional[str]


@dataclass(frozen=True)
class Paths:
    """Where the workflow keeps things on a TPU VM worker."""

    home: str
    run_dir: str

    @property
    def clone(self) -> str:
        return os.path.join(self.home, ".pix2struct", "tpu", "pix2struct")

    @property
    def final_checkpoint(self) -> str:
        return os.path.join(self.run_dir, "checkpoints", "final")


def tpu_options(spec: Dict[str, Any]) -> TpuOptions:
    """Validates spec["tpu"] and fills its defaults from the task."""
    task = spec.get("task")
    if task not in CONVERTERS:
        raise PlanError(f"task {task!r} has no converter in the original pipeline; "
                        f"TPU runs support {', '.join(sorted(CONVERTERS))}")
    tpu = spec.get("tpu")
    if not isinstance(tpu, dict):
        raise PlanError('a TPU run needs spec "tpu": {"bucket": "gs://…", "gin_size": "base"|"large", …}')
    bucket = tpu.get("bucket")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise PlanError(f"tpu.bucket must be gs://<bucket name>[/<path>] without control characters, got {bucket!r}")
    bucket = bucket.rstrip("/")
    gin_size = tpu.get("gin_size", "base")
    if gin_size not in GIN_SIZES:
        raise PlanError(f"tpu.gin_size must be one of {GIN_SIZES}, got {gin_size!r}")
    init = tpu.get("init") or f"pix2struct_{gin_size}_init"
    mixture = tpu.get("mixture") or task
    for key, value in (("init", init), ("mixture", mixture)):
        if not isinstance(value, str) or not _GIN_NAME.match(value):
            raise PlanError(f"tpu.{key} must be a gin name (lower-case letters, digits, _), got {value!r}")
    stage_steps = tpu.get("stage_steps")
    if stage_steps is not None and (not isinstance(stage_steps, int) or isinstance(stage_steps, bool) or stage_steps < 1):
        raise PlanError(f"tpu.stage_steps must be a positive integer or null, got {stage_steps!r}")
    dataflow = tpu.get("dataflow")
    project = region = None
    if dataflow is not None:
        if not isinstance(dataflow, dict):
            raise PlanError('tpu.dataflow must be null or {"project": …, "region": …}')
        project, region = dataflow.get("project"), dataflow.get("region")
        for key, value in (("project", project), ("region", region)):
            if not isinstance(value, str) or not _GCP_WORD.match(value):
                raise PlanError(f"tpu.dataflow.{key} must be a Google Cloud {key} id, got {value!r}")
    if spec.get("optimizer", "adafactor") != "adafactor":
        raise PlanError("the original pipeline ships only optimizers/adafactor.gin; use optimizer \"adafactor\" for TPU runs")
    return TpuOptions(bucket, gin_size, init, mixture, stage_steps, project, region)


def _positive_int(spec: Dict[str, Any], key: str) -> int:
    value = spec.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PlanError(f"{key} must be a positive integer, got {value!r}")
    return value


def model_dir(options: TpuOptions, run_id: str) -> str:
    """t5x's MODEL_DIR for the run: the README's experiments folder in the user's bucket."""
    return f"{options.bucket}/experiments/{run_id}"


def task_data_dir(spec: Dict[str, Any], options: TpuOptions) -> str:
    """The task's raw data in the bucket: pix2struct/tasks.py reads PIX2STRUCT_DIR/data/<task>/processed."""
    return f"{options.bucket}/data/{spec['task']}"


def install_steps(paths: Paths, python: str) -> List[Step]:
    """Getting Started: clone, then the editable install with libtpu's wheel index; the HF converter's needs."""
    return [
        Step("install", "clone pix2struct", ("git", "clone", PIX2STRUCT_REPO, paths.clone),
             workers="all", skip_if_exists=os.path.join(paths.clone, ".git")),
        Step("install", "install pix2struct", (python, "-m", "pip", "install", "-e", ".[dev]", "-f", LIBTPU_RELEASES),
             workers="all", cwd=paths.clone),
        Step("install", "install the Hugging Face converter's requirements",
             (python, "-m", "pip", "install", "--extra-index-url", TORCH_CPU_INDEX, *CONVERTER_REQUIREMENTS),
             # Only worker 0 converts, but one install phase for all workers keeps them alike.
             workers="all"),
    ]


def stage_steps(spec: Dict[str, Any], options: TpuOptions, paths: Paths) -> List[Step]:
    """`gsutil -m cp -r` of the dataset (on the VM or elsewhere in GCS) to where tasks.py looks; nothing when it is there."""
    path = (spec.get("dataset") or {}).get("path")
    if not isinstance(path, str) or not path:
        raise PlanError("dataset.path is required")
    if path.startswith("gs://"):
        if not _BUCKET.match(path):
            raise PlanError(f"dataset.path {path!r} is not a valid gs:// path")
        if path.rstrip("/") == task_data_dir(spec, options):
            return []
        source = path.rstrip("/")
    else:
        source = path if os.path.isabs(path) else os.path.join(paths.run_dir, path)
    return [Step("stage", "copy the dataset to the bucket", ("gsutil", "-m", "cp", "-r", source, task_data_dir(spec, options)))]


def preprocess_step(spec: Dict[str, Any], options: TpuOptions, paths: Paths, python: str) -> Step:
    """The task's Beam converter; on Dataflow when the spec names a project, else locally (README: flags after -- off)."""
    module, flags = CONVERTERS[spec["task"]]
    values = {"data": task_data_dir(spec, options), "root": options.bucket}
    argv = [python, "-m", f"pix2struct.preprocessing.convert_{module}"]
    argv += [f"--{name}={template.format(**values)}" for name, template in flags]
    if options.dataflow_project:
        argv += [
            "--",
            "--runner=DataflowRunner",
            "--save_main_session",
            f"--project={options.dataflow_project}",
            f"--region={options.dataflow_region}",
            f"--temp_location={options.bucket}/data/temp",
            f"--staging_location={options.bucket}/data/staging",
            "--setup_file=./setup.py",
        ]
    return Step("preprocess", f"convert_{module}", tuple(argv), cwd=paths.clone,
                env={"PIX2STRUCT_DIR": options.bucket})


def train_step(spec: Dict[str, Any], options: TpuOptions, paths: Paths, python: str, run_id: str) -> Step:
    """`python -m t5x.train` with the README's gin files and bindings, sized from the spec."""
    max_patches = _positive_int(spec, "max_patches")
    max_target = _positive_int(spec, "max_target_length")
    batch = _positive_int(spec, "batch_size")
    argv = [
        python, "-m", "t5x.train",
        "--gin_search_paths=pix2struct/configs",
        "--gin_file=models/pix2struct.gin",
        "--gin_file=runs/train.gin",
        f"--gin_file=sizes/{options.gin_size}.gin",
        "--gin_file=optimizers/adafactor.gin",
        f"--gin_file=schedules/{spec['task']}.gin",
        f"--gin_file=init/{options.init}.gin",
        f"--gin.MIXTURE_OR_TASK_NAME={options.mixture!r}",
        # repr makes a Python string literal, which is what gin parses: quotes in a path stay data.
        f"--gin.MODEL_DIR={model_dir(options, run_id)!r}",
        f"--gin.TASK_FEATURE_LENGTHS={{'inputs': {max_patches}, 'targets': {max_target}}}",
        f"--gin.BATCH_SIZE={batch}",
    ]
    if options.stage_steps is not None:
        argv.append(f"--gin.STAGE_STEPS={options.stage_steps}")
    # tasks.py reads PIX2STRUCT_DIR when the module is imported, on every worker.
    return Step("train", "t5x.train", tuple(argv), workers="all", cwd=paths.clone,
                env={"PIX2STRUCT_DIR": options.bucket})


def list_checkpoints_step(options: TpuOptions, run_id: str) -> Step:
    """Lists t5x's checkpoints (SaveBestCheckpointer keeps the best one) to pick the one to convert."""
    return Step("convert", "list t5x checkpoints",
                ("gsutil", "ls", "-d", f"{model_dir(options, run_id)}/checkpoint_*"))


def convert_step(spec: Dict[str, Any], options: TpuOptions, paths: Paths, python: str, checkpoint: str) -> Step:
    """transformers' converter from a t5x checkpoint into the run's checkpoints/final."""
    argv = [python, "-m", HF_CONVERTER_MODULE, "--t5x_checkpoint_path", checkpoint,
            "--pytorch_dump_folder_path", paths.final_checkpoint]
    if options.gin_size == "large":
        argv.append("--use_large")
    if spec["task"] in VQA_TASKS:
        argv.append("--is_vqa")
    return Step("convert", "convert to Hugging Face format", tuple(argv))


def copy_to_bucket_step(options: TpuOptions, paths: Paths, run_id: str) -> Step:
    """Keeps the converted checkpoint in the bucket too: the VM (and its disk) is deleted after the run."""
    return Step("convert", "copy the Hugging Face checkpoint to the bucket",
                ("gsutil", "-m", "cp", "-r", paths.final_checkpoint, f"{model_dir(options, run_id)}/hf_final"))


def build_plan(spec: Dict[str, Any], run_dir: str, home: str, python: Optional[str] = None) -> List[Step]:
    """Every step up to training, in the README's order; the convert step follows once the checkpoint is known."""
    run_id = os.path.basename(os.path.normpath(run_dir))
    if not RUN_ID_PATTERN.match(run_id):
        raise PlanError(f"run folder name {run_id!r} is not a run id")
    options = tpu_options(spec)
    paths = Paths(home=home, run_dir=run_dir)
    py = python or spec.get("python") or "python3"
    return [
        *install_steps(paths, py),
        *stage_steps(spec, options, paths),
        preprocess_step(spec, options, paths, py),
        train_step(spec, options, paths, py, run_id),
        list_checkpoints_step(options, run_id),
    ]


def pick_checkpoint(listing: str) -> str:
    """The newest checkpoint_<step> in `gsutil ls -d` output (t5x keeps the best one only)."""
    found = []
    for line in listing.splitlines():
        match = re.search(r"/checkpoint_(\d+)/?$", line.strip())
        if match:
            found.append((int(match.group(1)), line.strip().rstrip("/")))
    if not found:
        raise PlanError("training finished without a t5x checkpoint_<step> in MODEL_DIR")
    return max(found)[1]

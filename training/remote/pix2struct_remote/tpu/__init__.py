"""The original t5x pipeline for `backend: "tpu"` runs on a Cloud TPU VM (see plan.py)."""

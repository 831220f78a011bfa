"""Training: one call that fine-tunes, and the pieces behind it.

    from medlearn.train import train
    result = train("llama-3.1-8b-instruct", data.train, data.eval, run_name="llama3-medquad")

Modules: run (train(): the run from its name to the saved adapter), trainer (the Unsloth and TRL
sequence: load, LoRA, SFTTrainer), tracking (loss CSV, progress, stats), runs (the run folder: record,
lock, identity, checkpoints). The run's configuration and precision live below training
(medlearn.config, medlearn.precision) and are re-exported here, as learners import them with train.
"""
from ..config import ALL_PROJECTIONS, PRECISIONS, TrainConfig, build_config
from ..precision import choose_precision, torch_dtype
from .run import TrainResult, default_run_name, latest_checkpoint, train

__all__ = ["ALL_PROJECTIONS", "PRECISIONS", "TrainConfig", "TrainResult", "build_config", "choose_precision",
           "default_run_name", "latest_checkpoint", "torch_dtype", "train"]

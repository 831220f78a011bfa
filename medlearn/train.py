"""One call that fine-tunes: Unsloth 4-bit model + LoRA + TRL SFTTrainer with response-only loss.

    result = train("llama-3.1-8b-instruct", data.train, data.eval, run_name="llama3-medquad")

Defaults are what works on a free Colab T4 (15 GB, no bf16). On a CPU the tiny model of the same
family trains through the same calls.
"""
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import check_writable, loss_csv_path, loss_png_path, stats_json_path, write_json
from .models import choose_model, write_run_info

ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PRECISIONS = ("auto", "fp16", "bf16", "fp32")


@dataclass
class TrainConfig:
    """Every knob of a run. The defaults fit a free T4; each can be overridden by name."""
    max_seq_length: int = 2048
    load_in_4bit: bool = True
    lora_r: int = 16  # adapter rank: capacity of the update (and its size on disk)
    lora_alpha: int = 16  # update scale is alpha / r; alpha = r keeps it at 1
    lora_dropout: float = 0.0  # 0 lets Unsloth use its fast path
    target_modules: tuple = ALL_PROJECTIONS  # all attention and MLP projections
    use_gradient_checkpointing: str = "unsloth"  # recompute activations: long sequences fit in 15 GB
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 4  # effective batch 8
    learning_rate: float = 2e-4
    warmup_steps: int = 5
    max_steps: int = 60  # -1 trains num_train_epochs instead
    num_train_epochs: float = 1.0
    optim: str = "adamw_8bit"  # 8-bit optimizer states save ~75% of their memory (Adam on CPU)
    weight_decay: float = 0.01
    lr_scheduler_type: str = "linear"
    seed: int = 3407
    logging_steps: int = 1
    eval_steps: int = 0  # 0: evaluate 5 times over the run
    save_steps: int = 20  # checkpoints for resume after a Colab disconnect
    save_total_limit: int = 2
    precision: str = "auto"  # auto: bf16 if supported, else fp16, else fp32 for fp16-unsafe models
    group_by_length: bool = True  # batches of similar length: little padding (see benchmarks/)
    artifacts_dir: str = "artifacts"  # loss CSV, stats JSON, plots
    output_dir: str = "outputs"  # checkpoints and the adapter (Google Drive on Colab)


@dataclass
class TrainResult:
    run_name: str
    adapter_dir: Path
    checkpoint_dir: Path
    loss_csv: Path
    stats_json: Path
    plot_png: Path
    stats: dict = field(default_factory=dict)
    model: object = None
    tokenizer: object = None
    choice: object = None


def build_config(**knobs):
    """A TrainConfig with `knobs` applied; an unknown knob fails with the list of valid ones."""
    valid = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(knobs) - valid)
    if unknown:
        raise ValueError(f"Unknown training option(s): {', '.join(unknown)}. "
                         f"Valid options: {', '.join(sorted(valid))}.")
    config = TrainConfig(**knobs)
    if config.precision not in PRECISIONS:
        raise ValueError(f"precision={config.precision!r}: choose one of {', '.join(PRECISIONS)}.")
    return config


def choose_precision(config, fp16_safe):
    """'bf16', 'fp16' or 'fp32' for this machine and model (a T4 has no native bf16)."""
    if config.precision != "auto":
        return config.precision
    import torch

    from .runtime import native_bf16

    if torch.cuda.is_available():
        if native_bf16():  # not torch.cuda.is_bf16_supported(): it counts emulation (True on a T4)
            return "bf16"
        return "fp16" if fp16_safe else "fp32"
    import unsloth  # noqa: F401  (unsloth_zoo refuses to import before it)
    from unsloth_zoo.cpu.runtime import cpu_bf16_supported

    return "bf16" if cpu_bf16_supported() else "fp32"


def torch_dtype(precision):
    """The dtype FastLanguageModel loads the model in for a precision: the same one TRL trains in.

    Passed explicitly rather than left to Unsloth, so the model and TRL's fp16/bf16 flags can never
    disagree (Unsloth refuses to train an fp16 model with bf16=True).
    """
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]


def train(model_name, train_dataset, eval_dataset=None, run_name=None, resume=False,
          use_tiny="auto", callbacks=None, **knobs):
    """Fine-tune `model_name` on `train_dataset` (a Dataset with `messages`); returns a TrainResult.

    resume=True continues from the newest complete checkpoint in output_dir/run_name/checkpoints.
    callbacks: extra transformers TrainerCallbacks (early stopping, your own logging).
    """
    import unsloth  # noqa: F401  (first: it patches transformers, TRL and PEFT on import)

    from .trainer_setup import build_trainer, load_for_training

    config = build_config(**knobs)
    if train_dataset is None or len(train_dataset) == 0:
        raise ValueError("The training set is empty: nothing to train on. Check the dataset "
                         "names and the cleaning report (medlearn data --stats).")
    choice = choose_model(model_name, use_tiny)
    run_name = run_name or default_run_name(choice.requested)
    paths = _run_paths(config, run_name)
    check_writable(config.artifacts_dir)
    model, tokenizer, precision = load_for_training(choice, config)
    trainer = build_trainer(model, tokenizer, choice, config, precision, train_dataset,
                            eval_dataset, paths, run_name, callbacks or [])
    eval_before = _evaluate(trainer) if eval_dataset is not None and not resume else None
    metrics = trainer.train(resume_from_checkpoint=_resume_point(paths["checkpoint_dir"], resume)).metrics
    eval_after = _evaluate(trainer) if eval_dataset is not None else None
    sources = sorted(set(train_dataset["source"])) if "source" in train_dataset.column_names else []
    return _finish(trainer, choice, config, precision, paths, run_name, metrics, eval_before,
                   eval_after, sources)


def default_run_name(model_name):
    """The run name train() uses when none is given: the model's short name, dots as underscores."""
    return Path(model_name).name.replace(".", "_")


def _run_paths(config, run_name):
    root = Path(config.output_dir) / run_name
    return {"adapter_dir": root / "adapter", "checkpoint_dir": root / "checkpoints",
            "loss_csv": loss_csv_path(config.artifacts_dir, run_name),
            "stats_json": stats_json_path(config.artifacts_dir, run_name),
            "plot_png": loss_png_path(config.artifacts_dir, run_name)}


def latest_checkpoint(checkpoint_dir):
    """The newest checkpoint that was written completely (trainer_state.json is saved last)."""
    folder = Path(checkpoint_dir)
    complete = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return max(complete, key=lambda p: int(p.name.split("-")[1]), default=None)


def _resume_point(checkpoint_dir, resume):
    if not resume:
        return None
    checkpoint = latest_checkpoint(checkpoint_dir)
    print(f"Resuming from {checkpoint}" if checkpoint else "No checkpoint yet: starting fresh.")
    return str(checkpoint) if checkpoint else None


def _evaluate(trainer):
    return round(trainer.evaluate()["eval_loss"], 4)


def _finish(trainer, choice, config, precision, paths, run_name, metrics, eval_before, eval_after,
            sources):
    from .plots import plot_all_runs
    from .tracking import build_stats, save_stats

    config_used = dict(dataclasses.asdict(config), precision_used=precision, model=choice.requested,
                       source=choice.source, template=choice.template, run_name=run_name,
                       datasets=sources)
    adapter_dir = paths["adapter_dir"]
    trainer.model.save_pretrained(adapter_dir)
    trainer.processing_class.save_pretrained(adapter_dir)
    write_run_info(adapter_dir, choice, config_used)
    write_json(adapter_dir / "training_config.json", config_used)
    stats = build_stats(paths["loss_csv"], metrics, config_used, eval_before, eval_after)
    save_stats(paths["stats_json"], stats)
    plot_all_runs(config.artifacts_dir)
    print(json.dumps({k: stats[k] for k in ("runtime_seconds", "steps", "final_loss",
                                             "eval_loss_before", "eval_loss_after")}))
    return TrainResult(run_name, adapter_dir, paths["checkpoint_dir"], paths["loss_csv"],
                       paths["stats_json"], paths["plot_png"], stats, trainer.model,
                       trainer.processing_class, choice)

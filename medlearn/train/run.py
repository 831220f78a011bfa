"""One call that fine-tunes: Unsloth 4-bit model + LoRA + TRL SFTTrainer with response-only loss.

    result = train("llama-3.1-8b-instruct", data.train, data.eval, run_name="llama3-medquad")

Defaults are what works on a free Colab T4 (15 GB, no bf16). On a CPU the tiny model of the same
family trains through the same calls.
"""
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..artifacts import check_writable, loss_csv_path, loss_png_path, stats_json_path, write_json
from ..config import build_config
from ..memory import plan_memory
from ..models import choose_model
from ..precision import choose_precision
from ..record import write_run_info
from ..registry import MODELS
from . import runs


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


def train(model_name, train_dataset, eval_dataset=None, run_name=None, resume=False,
          use_tiny="auto", callbacks=None, overwrite=False, **knobs):
    """Fine-tune `model_name` on `train_dataset` (a Dataset with `messages`); returns a TrainResult.

    run_name: default the model's name; when an earlier run already used the default name, this run
    takes a fresh one (name-2, ...). A name given explicitly is never silently reused.
    resume=True continues the newest complete checkpoint of the same run (same options, data and
    seed; anything else is refused) exactly as if it had never stopped.
    overwrite=True deletes an earlier run of this name first (re-running a notebook cell).
    callbacks: extra transformers TrainerCallbacks (early stopping, your own logging).
    """
    import unsloth  # noqa: F401  (first: it patches transformers, TRL and PEFT on import)

    config = build_config(**knobs)
    if train_dataset is None or len(train_dataset) == 0:
        raise ValueError("The training set is empty: nothing to train on. Check the dataset "
                         "names and the cleaning report (medlearn data --stats).")
    choice = choose_model(model_name, use_tiny)
    print(f"Training {choice.describe()}", flush=True)
    plan_memory(choice.requested, config).check()  # before an hour of loading, not after
    identity = runs.run_identity(config, choice.requested, train_dataset, eval_dataset)
    run_name = _choose_run_name(config, run_name, choice.requested, resume, overwrite)
    paths = _run_paths(config, run_name)
    lock = runs.acquire_lock(paths["run_dir"])  # first: a refused run writes nothing anywhere
    try:
        check_writable(config.artifacts_dir)
        record, checkpoint = _open_run(paths, identity, resume, overwrite)
        return _train_locked(choice, config, record, checkpoint, paths, run_name, train_dataset,
                             eval_dataset, callbacks)
    finally:
        runs.release_lock(lock)


def _train_locked(choice, config, record, checkpoint, paths, run_name, train_dataset, eval_dataset,
                  callbacks):
    from .tracking import SegmentCallback
    from .trainer import build_trainer, load_for_training

    # Decided once, here: a resumed run keeps the precision it started in, whatever "auto" picks today.
    precision = record.get("precision") or choose_precision(config, _fp16_safe(choice))
    model, tokenizer = load_for_training(choice, config, precision)
    record["precision"] = precision
    segment = SegmentCallback(lambda: runs.write_record(paths["run_dir"], record), record)
    trainer = build_trainer(model, tokenizer, choice, config, precision, train_dataset, eval_dataset,
                            paths, run_name, [segment, *(callbacks or [])])
    if checkpoint is None and eval_dataset is not None:
        record["eval_loss_before"] = _evaluate(trainer)
    runs.write_record(paths["run_dir"], record)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    eval_after = _evaluate(trainer) if eval_dataset is not None else None
    sources = sorted(set(train_dataset["source"])) if "source" in train_dataset.column_names else []
    result = _finish(trainer, choice, config, precision, paths, run_name, record, eval_after, sources)
    record["state"] = "finished"
    runs.write_record(paths["run_dir"], record)
    return result


def _fp16_safe(choice):
    """Whether the model trains safely in fp16 (the registry says; a model outside it is assumed so)."""
    spec = MODELS.get(choice.requested)
    return spec.fp16_safe if spec else True


def default_run_name(model_name):
    """The run name train() uses when none is given: the model's short name, dots as underscores."""
    return Path(model_name).name.replace(".", "_")


def _choose_run_name(config, run_name, model_name, resume, overwrite):
    """The name given, or the default one; a default already used by an earlier run gets a suffix."""
    if run_name:
        return run_name
    name = default_run_name(model_name)
    if resume or overwrite or not runs.has_started(Path(config.output_dir) / name):
        return name
    fresh = runs.fresh_name(config.output_dir, name)
    print(f"The run name {name} is taken by an earlier run ({_run_state(Path(config.output_dir) / name)}); "
          f"this run is named {fresh}. (overwrite=True / --overwrite replaces the earlier one; "
          "resume=True / --resume continues an interrupted one.)")
    return fresh


def _run_state(run_dir):
    return "finished" if runs.is_finished(run_dir) else "interrupted"


def _run_paths(config, run_name):
    root = Path(config.output_dir) / run_name
    return {"run_dir": root, "adapter_dir": root / "adapter", "checkpoint_dir": root / "checkpoints",
            "loss_csv": loss_csv_path(config.artifacts_dir, run_name),
            "stats_json": stats_json_path(config.artifacts_dir, run_name),
            "plot_png": loss_png_path(config.artifacts_dir, run_name)}


def _open_run(paths, identity, resume, overwrite):
    """(run record, checkpoint to resume or None), refusing to mix this run with another one."""
    run_dir, name = paths["run_dir"], paths["run_dir"].name
    artifacts = [paths["loss_csv"], paths["stats_json"], paths["plot_png"]]
    if overwrite:
        if runs.has_started(run_dir):
            print(f"Overwriting the earlier run {name} in {run_dir} (overwrite=True).")
        runs.clear_run(run_dir, artifacts)
    elif resume:
        checkpoint = _checkpoint_to_resume(run_dir, paths["checkpoint_dir"], identity)
        if checkpoint is not None:
            return runs.read_record(run_dir), checkpoint
        print(f"No complete checkpoint of run {name} yet: starting it from step 0.")
        record = runs.read_record(run_dir)
        runs.clear_run(run_dir, artifacts)
        if record:  # keep the earlier segments: their time was spent on this run
            return dict(record, eval_loss_before=None, state="running"), None
    elif runs.has_started(run_dir):
        raise runs.RunConflictError(_taken_message(run_dir))
    return {"run_name": name, "identity": identity, "precision": None, "eval_loss_before": None,
            "segments": [], "state": "running"}, None


def _checkpoint_to_resume(run_dir, checkpoint_dir, identity):
    record = runs.read_record(run_dir)
    name = run_dir.name
    if record is None and runs.has_started(run_dir):
        raise runs.RunConflictError(
            f"Run {name} in {run_dir} has no run record (saved by an older medlearn), so its checkpoints "
            "cannot be checked to belong to this run. Start again with overwrite=True (--overwrite) or "
            "use another run name.")
    if record is None:
        return None
    if not runs.same_identity(record["identity"], identity):
        changes = "; ".join(runs.identity_differences(record["identity"], identity)) or "unknown"
        raise runs.RunConflictError(
            f"Cannot resume run {name}: its checkpoints belong to another run "
            f"({runs.describe_identity(record['identity'])}) than this one "
            f"({runs.describe_identity(identity)}). Different: {changes}. Resume with the same options "
            "and data, start again with overwrite=True (--overwrite), or use another run name.")
    if record.get("state") == "finished":
        raise runs.RunConflictError(
            f"Run {name} already finished (adapter in {run_dir / 'adapter'}): nothing to resume. Train it "
            "again with overwrite=True (--overwrite), or give a new run another name.")
    checkpoint = runs.resumable_checkpoint(checkpoint_dir)
    if checkpoint is not None:
        print(f"Resuming from {checkpoint} (run {name}, {runs.describe_identity(identity)})")
    return checkpoint


def _taken_message(run_dir):
    name = run_dir.name
    if runs.is_finished(run_dir):
        return (f"Run {name} already finished in {run_dir}. Its name is not reused silently: pass "
                f"overwrite=True (--overwrite) to train it again from scratch, or another run name "
                f"(run_name= / --run-name).")
    return (f"Run {name} in {run_dir} was interrupted before it finished. Pass resume=True (--resume) to "
            f"continue it, overwrite=True (--overwrite) to start it again, or another run name.")


def latest_checkpoint(checkpoint_dir):
    """The newest checkpoint that was written completely and is readable (damaged ones are skipped)."""
    return runs.resumable_checkpoint(checkpoint_dir)


def _evaluate(trainer):
    return round(trainer.evaluate()["eval_loss"], 4)


def _finish(trainer, choice, config, precision, paths, run_name, record, eval_after, sources):
    from ..artifacts import use_normal_mode
    from ..plots import plot_all_runs
    from .tracking import build_stats, save_stats

    config_used = dict(dataclasses.asdict(config), precision_used=precision, model=choice.requested,
                       source=choice.source, template=choice.template, run_name=run_name,
                       datasets=sources)
    adapter_dir = paths["adapter_dir"]
    trainer.model.save_pretrained(adapter_dir)
    trainer.processing_class.save_pretrained(adapter_dir)
    write_run_info(adapter_dir, choice, config_used)
    write_json(adapter_dir / "training_config.json", config_used)
    use_normal_mode(adapter_dir)  # some savers write 0600 files: give them the process's usual mode
    stats = build_stats(paths["loss_csv"], record["segments"], config_used, record["eval_loss_before"],
                        eval_after, identity=record["identity"])
    save_stats(paths["stats_json"], stats)
    plot_all_runs(config.artifacts_dir)
    print(json.dumps({k: stats[k] for k in ("runtime_seconds", "steps", "final_loss",
                                             "eval_loss_before", "eval_loss_after")}))
    return TrainResult(run_name, adapter_dir, paths["checkpoint_dir"], paths["loss_csv"],
                       paths["stats_json"], paths["plot_png"], stats, trainer.model,
                       trainer.processing_class, choice)

"""Record a run as it goes: the loss CSV after every log, and the stats JSON at the end."""
import resource
import statistics
import sys
import time

from transformers import TrainerCallback

from ..artifacts import read_loss_rows, write_json, write_loss_rows
from ..runtime import stack_versions


class LossCSVCallback(TrainerCallback):
    """Rewrites `{run}_loss.csv` after every logging step and evaluation.

    Rows are kept by step, so the eval loss logged at step N lands on step N's row (an evaluation
    before training is step 0). On resume,
    rows after the checkpoint's step are dropped: those steps are trained again and logged once.
    """

    PLOT_EVERY_SECONDS = 30  # redrawing a PNG costs ~0.1 s: fine per minute, not per tiny step

    def __init__(self, csv_path, plot_fn=None):
        self.csv_path = csv_path
        self.plot_fn = plot_fn  # redraws {run}_loss.png from the CSV
        self.last_plot = 0.0
        self.rows = {}
        self.started = None
        self.elapsed_before = 0.0  # seconds already spent before a resume

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = self.last_plot = time.monotonic()  # first redraw after PLOT_EVERY_SECONDS
        if state.global_step and self.csv_path.exists():  # resumed from a checkpoint
            kept = [r for r in read_loss_rows(self.csv_path) if r["step"] <= state.global_step]
            self.rows = {int(r["step"]): r for r in kept}
            self.elapsed_before = max((r["elapsed_seconds"] or 0.0 for r in kept), default=0.0)
        else:  # a fresh run keeps only the step-0 evaluation made just before training
            self.rows = {step: row for step, row in self.rows.items() if step == 0}
        self._flush()

    def on_train_end(self, args, state, control, **kwargs):
        self._flush(force_plot=True)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs and "eval_loss" not in logs:
            return  # the end-of-training summary, not a step
        row = self.rows.setdefault(state.global_step, {"step": state.global_step})
        row["epoch"] = round(state.epoch or 0.0, 4)
        running = time.monotonic() - self.started if self.started is not None else 0.0
        row["elapsed_seconds"] = round(self.elapsed_before + running, 3)
        for source, column in (("loss", "loss"), ("learning_rate", "learning_rate"),
                               ("grad_norm", "grad_norm"), ("num_input_tokens_seen", "tokens_seen"),
                               ("eval_loss", "eval_loss")):
            if logs.get(source) is not None:
                row[column] = float(logs[source])
        self._flush()

    def _flush(self, force_plot=False):
        write_loss_rows(self.csv_path, self.rows.values())
        due = force_plot or time.monotonic() - self.last_plot > self.PLOT_EVERY_SECONDS
        if self.plot_fn and due and any(r.get("loss") is not None for r in self.rows.values()):
            self.plot_fn()
            self.last_plot = time.monotonic()


def peak_memory():
    """Peak GPU memory reserved in GB on CUDA, else the process's peak RSS in GB."""
    import torch

    if torch.cuda.is_available():
        return {"peak_gpu_memory_reserved_gb": round(torch.cuda.max_memory_reserved() / 1024**3, 3)}
    # ru_maxrss is in kilobytes on Linux and bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return {"peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1024**3, 3)}


def gpu_name():
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def build_stats(csv_path, segments, config, eval_before=None, eval_after=None, identity=None):
    """The stats JSON of the whole run: speed over every segment (a resumed run has several), losses
    (from the CSV, so the two always agree), memory, stack, config and identity."""
    rows = read_loss_rows(csv_path)
    losses = [r["loss"] for r in rows if r["loss"] is not None]
    tokens = int(max((r["tokens_seen"] or 0 for r in rows), default=0))
    steps = int(max((r["step"] for r in rows), default=0))
    runtime = round(sum(segment["seconds"] for segment in segments), 3)
    samples = steps * config["per_device_train_batch_size"] * config["gradient_accumulation_steps"]
    return {
        "runtime_seconds": runtime,  # training time of all segments, steps trained twice included
        "samples_per_second": round(samples / runtime, 3) if runtime else None,
        "tokens_per_second": round(tokens / runtime, 2) if runtime else None,
        "steps": steps,
        "tokens_seen": tokens,
        "final_loss": losses[-1] if losses else None,
        "mean_loss": statistics.fmean(losses) if losses else None,
        "eval_loss_before": eval_before,
        "eval_loss_after": eval_after,
        "segments": segments,
        "identity": {k: v for k, v in (identity or {}).items() if k != "options"},
        **peak_memory(),
        "gpu_name": gpu_name(),
        "versions": stack_versions(),
        "config": config,
    }


class SegmentCallback(TrainerCallback):
    """Keeps the run record's list of segments (one per process that trained) up to date.

    Written at every log, so a segment killed without warning still says how far it got and how
    long it took; the stats JSON sums the segments into the whole run's time.
    """

    def __init__(self, save, record):
        self.save, self.record = save, record
        self.segment, self.started = None, None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()
        self.segment = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "from_step": state.global_step,
                        "to_step": state.global_step, "seconds": 0.0, "state": "running"}
        self.record["segments"].append(self.segment)
        self.save()

    def on_log(self, args, state, control, **kwargs):
        self._update(state, "running")

    def on_train_end(self, args, state, control, **kwargs):
        self._update(state, "finished")

    def _update(self, state, status):
        if self.segment is None:
            return
        self.segment.update(to_step=state.global_step, seconds=round(time.monotonic() - self.started, 3),
                            state=status)
        self.save()


class LossProgressBar(TrainerCallback):
    """One progress bar with the latest loss on it, in place of the Trainer's bar and its log lines."""

    def __init__(self):
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="training", unit="step",
                        dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if self.bar is None:
            return
        shown = {"loss": logs.get("loss"), "eval_loss": logs.get("eval_loss")}
        shown = {key: f"{value:.4f}" for key, value in shown.items() if isinstance(value, (int, float))}
        if shown:
            self.bar.set_postfix(shown, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def save_stats(path, stats):
    write_json(path, stats)


def run_summary(stats):
    """One table row for a run: where and how long it trained, its memory and its losses."""
    config = stats["config"]
    before, after = stats.get("eval_loss_before"), stats.get("eval_loss_after")
    return {
        "run": config["run_name"], "model": config["model"], "machine": stats["gpu_name"] or "CPU",
        "precision": config["precision_used"], "steps": stats["steps"],
        "seconds": round(stats["runtime_seconds"], 1),
        "peak_memory_gb": stats.get("peak_gpu_memory_reserved_gb", stats.get("peak_rss_gb")),
        "final_loss": round(stats["final_loss"], 4) if stats["final_loss"] is not None else None,
        "eval_before": before, "eval_after": after,
        "eval_drop": round(before - after, 4) if before is not None and after is not None else None,
    }


def summarize_runs(runs):
    """A DataFrame, one row per run; `runs` holds TrainResults, stats dicts or stats JSON paths."""
    import json
    from pathlib import Path

    import pandas as pd

    rows = []
    for run in runs:
        if isinstance(run, (str, Path)):
            run = json.loads(Path(run).read_text())
        rows.append(run_summary(getattr(run, "stats", run)))
    return pd.DataFrame(rows).set_index("run")

"""Loss curves: one run or many on one figure, smoothed line over raw points, eval loss dashed.

Reads medlearn's loss CSVs and the two-column `Step,Loss` CSVs that other fine-tuning projects
commit, so a learner can lay their run beside someone else's.
"""
from pathlib import Path

import pandas as pd

SMOOTHING = 0.6  # exponential moving average weight: enough to see the trend, not hide the noise


def read_loss_csv(path):
    """A DataFrame with columns step, loss, eval_loss and bad_loss, from either CSV flavour.

    bad_loss is True where a loss was written but is not a finite number (inf, nan: a diverged
    step); such a loss is NaN in `loss`, and the plot marks the step instead of drawing it.
    """
    from .files import check_file

    check_file(path, "csv")  # empty, binary, non-UTF-8 or ragged files: one message naming the line
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)  # "nan" stays text: written, not blank
    lowered = {column: column.strip().lower() for column in frame.columns}
    frame = frame.rename(columns=lowered).rename(columns={"training loss": "loss", "train_loss": "loss"})
    missing = [column for column in ("step", "loss") if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no {' or '.join(missing)} column. Expected medlearn's loss CSV "
                         f"or a two-column 'Step,Loss' CSV; found columns {list(frame.columns)}.")
    if "eval_loss" not in frame.columns:
        frame["eval_loss"] = float("nan")
    written = frame["loss"].astype(str).str.strip() != ""
    frame = frame[["step", "loss", "eval_loss"]].replace("", float("nan")).apply(pd.to_numeric, errors="coerce")
    frame = frame.replace([float("inf"), float("-inf")], float("nan"))
    frame["bad_loss"] = written & frame["loss"].isna()
    return frame.dropna(subset=["step"]).sort_values("step")


def label_for(path):
    name = Path(path).stem
    return name[: -len("_loss")] if name.endswith("_loss") else name


def plot_loss_curves(csv_paths, out_png, labels=None, title="Training loss"):
    """Draw every CSV's loss on one figure and save it to `out_png`; returns the path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works on CI and inside notebooks alike
    import matplotlib.pyplot as plt

    if not csv_paths:
        raise ValueError("No loss CSVs given to plot.")
    labels = labels or [label_for(p) for p in csv_paths]
    many = len(csv_paths) > 3  # then the legend goes beside the axes, not over the curves
    figure, axes = plt.subplots(figsize=(11, 5) if many else (8, 4.5))
    for path, label, color in zip(csv_paths, labels, _colors(len(csv_paths))):
        _draw_run(axes, _checked_frame(path), label, color)
    axes.set(xlabel="optimizer step", ylabel="loss", title=title)
    axes.grid(alpha=0.3)
    if many:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes.legend(fontsize="small")
    return save_figure(figure, out_png)


def _checked_frame(path):
    frame = read_loss_csv(path)
    if not (frame["loss"].notna().any() or frame["eval_loss"].notna().any()):
        bad = int(frame["bad_loss"].sum())
        raise ValueError(f"{path}: no finite loss to draw ({len(frame)} rows; {bad} with inf or nan). "
                         "A run whose every loss is inf/nan diverged: lower the learning rate and train again.")
    return frame


def save_figure(figure, out_png):
    """Save a matplotlib figure (creating its folder) and free it; returns the path written.

    A name without a known image suffix gets ".png", so the path returned is the file on disk.
    """
    import matplotlib.pyplot as plt

    figure.tight_layout()
    out_png = Path(out_png)
    if out_png.suffix.lower().lstrip(".") not in figure.canvas.get_supported_filetypes():
        out_png = out_png.with_name(out_png.name + ".png")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_png, dpi=110)
    plt.close(figure)
    return out_png


def _draw_run(axes, frame, label, color):
    train = frame.dropna(subset=["loss"])
    axes.scatter(train["step"], train["loss"], s=8, alpha=0.25, color=color)
    smoothed = train["loss"].ewm(alpha=1 - SMOOTHING).mean()
    axes.plot(train["step"], smoothed, color=color, label=f"{label} train (smoothed)")
    bad = frame[frame["bad_loss"]]
    if len(bad):  # diverged steps: marked along the top, never drawn as a line to infinity
        axes.scatter(bad["step"], [1.0] * len(bad), marker="x", color=color, clip_on=False,
                     transform=axes.get_xaxis_transform(), label=f"{label}: {len(bad)} non-finite loss(es)")
    evaluated = frame.dropna(subset=["eval_loss"])
    if len(evaluated):
        axes.plot(evaluated["step"], evaluated["eval_loss"], "--o", markersize=3, color=color,
                  label=f"{label} eval")


def _colors(count):
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return [cycle[i % len(cycle)] for i in range(count)]


def plot_all_runs(artifacts_dir, out_name="all_models.png"):
    """Every `*_loss.csv` in the artifacts folder on one figure (the comparison plot)."""
    csvs = sorted(Path(artifacts_dir).glob("*_loss.csv"))
    return plot_loss_curves(csvs, Path(artifacts_dir) / out_name, title="All runs")

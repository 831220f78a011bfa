"""Evaluation results: a readable summary, artifacts/eval_{run}.json, and one comparison plot.

The plot puts every result it is given side by side: benchmark accuracy per model with the
majority (dashed) and random (dotted) baselines of the same questions, held-out perplexity, and
the off-topic shares. Base and fine-tuned runs of a family therefore land on one figure.
"""
import json
import re
from pathlib import Path

from ..artifacts import write_json
from ..plots import save_figure

MCQ = ("pubmedqa", "medqa", "medmcqa")


def format_result(result):
    """A few lines a learner reads: the score, n, and what chance and the majority class would get."""
    kind = result["benchmark"]
    if kind == "heldout":
        return (f"{result['model']}: held-out loss {result['loss']:.4f}, perplexity {result['perplexity']:.2f} "
                f"on {result['n']} conversations ({result['tokens']} answer tokens, "
                f"{result['truncated_rows']} cut at max length)")
    if kind == "offtopic":
        return (f"{result['model']}: declined {result['declined_non_medical']:.0%} of {result['n_non_medical']} "
                f"non-medical questions, answered {result['answered_medical']:.0%} of {result['n_medical']} "
                f"medical ones ({result['method']})")
    lines = [f"{result['title']}, n = {result['n']}, {protocol_name(result)}",
             f"  {'':24}{'accuracy':>10}{'macro-F1':>10}"]
    rows = [] if result["scored_by"].startswith("baseline") else [(result["model"], result)]
    rows += [(name + " baseline", scores) for name, scores in result["baselines"].items()]
    for name, scores in rows:
        lines.append(f"  {name[:24]:24}{scores['accuracy']:>10.3f}{scores['macro_f1']:>10.3f}")
    if "accuracy_norm" in result:
        lines.append(f"  (acc_norm, per character of the option, {result['accuracy_norm']:.3f}; "
                     f"{result['questions_per_second']:.1f} questions/s)")
    return "\n".join(lines)


def protocol_name(result):
    """How a result was asked, in words: the lm-eval task, or the chat template."""
    protocol = result.get("protocol", "chat")
    if protocol == "leaderboard":
        task = result.get("lm_eval_task")
        return f"leaderboard protocol (lm-eval {task})" if task else "leaderboard protocol"
    template = result.get("template")
    return f"chat protocol ({template} template)" if template else "chat protocol"


def run_name_for(result):
    """A default run name: model and benchmark, in characters that are safe in a file name."""
    model = re.sub(r"[^A-Za-z0-9._-]+", "-", result["model"]).strip("-")
    suffix = "_leaderboard" if result.get("protocol") == "leaderboard" else ""
    return f"{model}_{result['benchmark']}{suffix}"


def save_result(result, artifacts_dir="artifacts", run=None):
    """Write artifacts/eval_{run}.json (temporary file, then rename); returns the path."""
    path = Path(artifacts_dir) / f"eval_{run or run_name_for(result)}.json"
    write_json(path, dict(result, run=run or run_name_for(result)))
    print(f"Saved {path}")
    return path


def load_results(paths):
    """Result dicts from JSON files (dicts given directly are passed through)."""
    results = []
    for item in paths:
        if isinstance(item, dict):
            results.append(item)
            continue
        try:
            data = json.loads(Path(item).read_text())
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or "benchmark" not in data or "model" not in data:
            raise ValueError(f"{item} is not a medlearn evaluation result (no 'benchmark'/'model' field).")
        results.append(data)
    return results


def plot_results(results, out_png="artifacts/eval_comparison.png", title="Evaluation: base vs fine-tuned"):
    """One PNG comparing every result given (paths or dicts); returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works on CI and inside notebooks alike
    import matplotlib.pyplot as plt

    results = load_results(results)
    if not results:
        raise ValueError("No evaluation results given to plot.")
    panels = [(draw, chosen) for draw, chosen in [
        (draw_benchmarks, [r for r in results if r["benchmark"] in MCQ]),
        (draw_heldout, [r for r in results if r["benchmark"] == "heldout"]),
        (draw_offtopic, [r for r in results if r["benchmark"] == "offtopic"])] if chosen]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), squeeze=False)
    for axis, (draw, chosen) in zip(axes[0], panels):
        draw(axis, chosen)
    figure.suptitle(title)
    return save_figure(figure, out_png)


def bar_label(result):
    """A model's name in the legend, with its protocol: the two protocols give different numbers."""
    return f"{result['model']} ({result.get('protocol', 'chat')})"


def model_labels(results):
    return list(dict.fromkeys(bar_label(r) for r in results if not r["scored_by"].startswith("baseline")))


def draw_benchmarks(axis, results):
    """Grouped accuracy bars per benchmark; baselines drawn as lines across each group."""
    benchmarks = [b for b in MCQ if any(r["benchmark"] == b for r in results)]
    models = model_labels(results)
    width = 0.8 / max(len(models), 1)
    for m, model in enumerate(models):
        scored = {r["benchmark"]: r["accuracy"] for r in results  # last one wins
                  if bar_label(r) == model and not r["scored_by"].startswith("baseline")}
        places = [b for b, bench in enumerate(benchmarks) if bench in scored]
        axis.bar([b - 0.4 + width * (m + 0.5) for b in places], [scored[benchmarks[b]] for b in places],
                 width, color=f"C{m}", label=model)
    ticks = []
    for b, bench in enumerate(benchmarks):
        first = next(r for r in results if r["benchmark"] == bench)  # baselines of the questions scored
        axis.hlines(first["baselines"]["majority"]["accuracy"], b - 0.45, b + 0.45, colors="black",
                    linestyles="--", label="majority class" if b == 0 else None)
        axis.hlines(first["baselines"]["random"]["accuracy"], b - 0.45, b + 0.45, colors="gray",
                    linestyles=":", label="random guess" if b == 0 else None)
        ticks.append(f"{first['title']}\nn = {first['n']}")
    axis.set_xticks(range(len(benchmarks)), ticks, fontsize="small")
    protocols = sorted({r.get("protocol", "chat") for r in results})
    axis.set(ylim=(0, 1), ylabel="accuracy",
             title=f"Multiple-choice benchmarks (zero-shot; {' and '.join(protocols)} protocol)")
    axis.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)


def draw_heldout(axis, results):
    labels = [r["model"] for r in results]
    axis.bar(range(len(results)), [r["perplexity"] for r in results], color=[f"C{i}" for i in range(len(results))])
    axis.set_xticks(range(len(results)), labels, fontsize="small", rotation=15)
    axis.set(ylabel="perplexity (lower is better)", title="Held-out answers")


def draw_offtopic(axis, results):
    width = 0.8 / len(results)
    for m, r in enumerate(results):
        axis.bar([i - 0.4 + width * (m + 0.5) for i in range(2)],
                 [r["declined_non_medical"], r["answered_medical"]], width, color=f"C{m}", label=r["model"])
    axis.set_xticks([0, 1], ["non-medical declined", "medical answered"])
    axis.set(ylim=(0, 1), ylabel="share of questions", title="Staying on topic")
    axis.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)

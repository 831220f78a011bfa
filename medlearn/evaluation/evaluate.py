"""One call per evaluation step, each printing what a learner wants to see and returning a result dict.

    base = load_for_eval("llama-3.1-8b-instruct")           # the tiny llama-3 on a CPU
    result = evaluate_benchmark(base, "medqa", sample=True)  # accuracy, macro-F1, n, baselines
    save_result(result, run="base_medqa"); plot_results(["artifacts/eval_base_medqa.json", ...])
"""
import time
from dataclasses import dataclass
from pathlib import Path

from .baselines import baselines_for, check_baseline, majority_label
from .benchmarks import BENCHMARKS, Benchmark, load_benchmark
from .metrics import accuracy, macro_f1


@dataclass
class EvalModel:
    model: object
    tokenizer: object
    choice: object  # medlearn.models.ModelChoice: family, template, source

    @property
    def label(self):
        """How the model is named in tables and plots; an adapter folder is marked as fine-tuned."""
        folder = Path(self.choice.requested)
        if not folder.is_dir():
            return self.choice.requested
        run = folder.parent.name if folder.name == "adapter" else folder.name  # outputs/RUN/adapter
        return run + " (fine-tuned)"


def load_for_eval(name_or_adapter, max_seq_length=2048, load_in_4bit=True, dtype=None):
    """Load a model name or a saved adapter folder for evaluation, with its family's chat template."""
    from unsloth import FastLanguageModel  # first: it patches transformers and PEFT

    from ..inference import load_chat_model

    model, tokenizer, choice = load_chat_model(name_or_adapter, max_seq_length, load_in_4bit, dtype)
    FastLanguageModel.for_inference(model)  # eval mode and Unsloth's fast inference path on a GPU
    print(f"Evaluating {choice.describe()}")
    return EvalModel(model, tokenizer, choice)


def as_benchmark(benchmark, **load_options):
    return benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark, **load_options)


def evaluate_benchmark(evaluated, benchmark, style="letter", batch_size=8, progress=True, **load_options):
    """Score a model (an EvalModel from load_for_eval) on a benchmark; prints and returns the result.

    `benchmark` is a name (load_options such as sample=True, path=, limit= are passed to
    load_benchmark) or a Benchmark already loaded.
    """
    from .report import format_result
    from .scoring import score_questions

    bench = as_benchmark(benchmark, **load_options)
    print(bench.describe())
    spec = BENCHMARKS[bench.name]
    rows, per_second = score_questions(evaluated.model, evaluated.tokenizer, bench.questions,
                                       evaluated.choice.template, spec.lettered, style, batch_size, progress)
    golds = [row["gold"] for row in rows]
    result = base_result(bench, evaluated.label, "model")
    result.update(model_source=evaluated.choice.source, family=evaluated.choice.family,
                  template=evaluated.choice.template, tiny=evaluated.choice.tiny, choice_style=style,
                  accuracy=accuracy(golds, [r["pred"] for r in rows]),
                  accuracy_norm=accuracy(golds, [r["pred_norm"] for r in rows]),
                  macro_f1=macro_f1(golds, [r["pred"] for r in rows]),
                  questions_per_second=per_second, predictions=rows)
    print(format_result(result))
    return result


def evaluate_baseline(baseline, benchmark, **load_options):
    """Score the majority-class or uniform-random baseline on a benchmark, as if it were a model."""
    from .report import format_result

    check_baseline(baseline)
    bench = as_benchmark(benchmark, **load_options)
    print(bench.describe())
    result = base_result(bench, f"{baseline} baseline", "baseline:" + baseline)
    chosen = result["baselines"][baseline]
    result.update(accuracy=chosen["accuracy"], macro_f1=chosen["macro_f1"])
    if baseline == "majority":
        label = majority_label(bench.questions["answer"])
        result["predictions"] = [{"id": i, "gold": g, "pred": label}
                                 for i, g in zip(bench.questions["id"], bench.questions["answer"])]
    print(format_result(result))
    return result


def base_result(bench, label, scored_by):
    """The fields every benchmark result shares: what was scored, on which questions, and the baselines."""
    golds = bench.questions["answer"]
    return {"benchmark": bench.name, "title": BENCHMARKS[bench.name].title, "model": label,
            "scored_by": scored_by, "n": len(golds),
            "baselines": baselines_for(golds, option_count(bench.questions)),
            "data": {"source": bench.source, "split": bench.split, "rows_read": bench.rows_read,
                     "excluded": bench.excluded},
            "created": time.strftime("%Y-%m-%d %H:%M:%S")}


def option_count(questions):
    counts = sorted({len(options) for options in questions["options"]})
    if len(counts) != 1:
        raise ValueError(f"Questions have different numbers of options ({counts}); the random baseline "
                         "needs one option count per benchmark. Score each option count separately.")
    return counts[0]


def evaluate_heldout(evaluated, eval_dataset, max_length=2048, batch_size=4):
    """Held-out loss and perplexity of a model on an eval split (a Dataset with `messages`)."""
    from .heldout import heldout_loss

    result = heldout_loss(evaluated.model, evaluated.tokenizer, eval_dataset, evaluated.choice.template,
                          max_length, batch_size)
    return describe_and_print(result, evaluated, "Held-out loss")


def evaluate_offtopic(evaluated, questions=None, batch_size=8, max_new_tokens=None, **load_options):
    """Share of non-medical questions declined and medical ones answered, on held-out labelled questions."""
    from .offtopic import load_offtopic_questions, offtopic_behaviour

    if questions is None:
        questions = load_offtopic_questions(**load_options)
    result = offtopic_behaviour(evaluated.model, evaluated.tokenizer, evaluated.choice.template, questions,
                                batch_size, max_new_tokens)
    return describe_and_print(result, evaluated, "Off-topic behaviour")


def describe_and_print(result, evaluated, title):
    """Stamp a result with the model that produced it, print its summary, and return it."""
    from .report import format_result

    result.update(model=evaluated.label, model_source=evaluated.choice.source, scored_by="model",
                  family=evaluated.choice.family, tiny=evaluated.choice.tiny, title=title,
                  created=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(format_result(result))
    return result


def evaluate_all(name_or_adapter, eval_dataset, benchmarks, run, artifacts_dir="artifacts",
                 load_in_4bit=True, offtopic_options=None, progress=False):
    """Every measurement of one model (held-out loss, each benchmark, off-topic), each saved as
    artifacts/eval_{run}_{benchmark}.json; frees the model afterwards. Returns the saved paths.

    Freeing matters on a T4: a base and a fine-tuned 8B model at once would not fit in 15 GB.
    """
    import gc

    from .report import save_result

    evaluated = load_for_eval(name_or_adapter, load_in_4bit=load_in_4bit)
    results = [evaluate_heldout(evaluated, eval_dataset)]
    results += [evaluate_benchmark(evaluated, bench, progress=progress) for bench in benchmarks]
    results.append(evaluate_offtopic(evaluated, **(offtopic_options or {})))
    del evaluated
    gc.collect()
    _empty_cuda_cache()
    return [save_result(r, artifacts_dir, run=f"{run}_{r['benchmark']}") for r in results]


def _empty_cuda_cache():
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()

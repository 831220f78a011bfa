"""One call per evaluation step, each printing what a learner wants to see and returning a result dict.

    base = load_for_eval("llama-3.1-8b-instruct")           # the tiny llama-3 on a CPU
    result = evaluate_benchmark(base, "medqa", sample=True)  # accuracy, macro-F1, n, baselines
    save_result(result, run="base_medqa"); plot_results(["artifacts/eval_base_medqa.json", ...])
"""
import time
from dataclasses import dataclass
from pathlib import Path

from ..data.benchmarks import BENCHMARKS, Benchmark, load_benchmark
from .baselines import baselines_for, check_baseline, majority_label
from .metrics import accuracy, macro_f1


@dataclass
class EvalModel:
    model: object
    tokenizer: object
    choice: object  # medlearn.models.ModelChoice: family, template, source

    @property
    def label(self):
        """How the model is named in tables and plots; an adapter (or merged) folder is marked as fine-tuned."""
        if not self.fine_tuned:
            return self.choice.requested
        folder = Path(self.choice.requested)
        run = folder.parent.name if folder.name == "adapter" else folder.name  # outputs/RUN/adapter
        return run + " (fine-tuned)"

    @property
    def fine_tuned(self):
        """True for a folder medlearn saved after training (adapter or merged), not a plain model folder."""
        from ..record import RUN_INFO_FILE

        return Path(self.choice.requested, RUN_INFO_FILE).is_file()

    def describe(self):
        from ..inference import is_plain_model

        if is_plain_model(self.choice.requested) and self.choice.family is None:
            return f"{self.choice.requested} (a Hugging Face model as it is; no course family, its own template)"
        if is_plain_model(self.choice.requested):
            return (f"{self.choice.requested} (a Hugging Face model as it is; {self.choice.family} family, "
                    f"template {self.choice.template})")
        return self.choice.describe()


def load_for_eval(name_or_adapter, max_seq_length=2048, load_in_4bit=True, dtype=None, family=None):
    """Load a model name, adapter folder, plain model folder or Hub id for evaluation.

    dtype: "auto" (float32 on a CPU, bf16 or fp16 on a GPU), a name or a torch dtype; None keeps
    Unsloth's default. family: only for a plain model whose tokenizer does not say it.
    """
    from unsloth import FastLanguageModel  # first: it patches transformers and PEFT

    from ..inference import load_chat_model

    model, tokenizer, choice = load_chat_model(name_or_adapter, max_seq_length, load_in_4bit, dtype, family,
                                               any_family=True)
    FastLanguageModel.for_inference(model)  # eval mode and Unsloth's fast inference path on a GPU
    evaluated = EvalModel(model, tokenizer, choice)
    print(f"Evaluating {evaluated.describe()} in {model_dtype(model)}")
    return evaluated


def model_dtype(model):
    """The dtype the model computes in, as a short name ("float32")."""
    dtype = getattr(model, "dtype", None) or next(model.parameters()).dtype
    return str(dtype).replace("torch.", "")


def as_benchmark(benchmark, **load_options):
    return benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark, **load_options)


def evaluate_benchmark(evaluated, benchmark, style="letter", batch_size=8, progress=True, protocol="chat",
                       training_data=None, **load_options):
    """Score a model (an EvalModel from load_for_eval) on a benchmark; prints and returns the result.

    protocol: "chat" (the family chat template, the course's own) or "leaderboard" (lm-eval's
    plain-text prompts, comparable with the Open Medical-LLM Leaderboard). `benchmark` is a name
    (load_options such as sample=True, path=, limit= go to load_benchmark) or a Benchmark. For a
    fine-tuned model the questions are first looked up in its training data (training_data, or the
    datasets its folder names) and the count is reported and saved.
    """
    from .leaderboard import LM_EVAL_TASKS, check_protocol
    from .report import format_result
    from .scoring import score_questions

    check_protocol(protocol)
    bench = as_benchmark(benchmark, **load_options)
    print(bench.describe())
    # Shipped benchmark samples mean an offline run, whose training read the shipped samples too.
    sample = load_options.get("sample", False) or bench.split == "sample"
    contamination = check_contamination(evaluated, bench, training_data, sample)
    spec = BENCHMARKS[bench.name]
    rows, per_second = score_questions(evaluated.model, evaluated.tokenizer, bench.questions,
                                       evaluated.choice.template, spec.lettered, style, batch_size, progress,
                                       protocol=protocol, benchmark=bench.name)
    golds = [row["gold"] for row in rows]
    result = base_result(bench, evaluated.label, "model")
    result.update(protocol=protocol, model_source=evaluated.choice.source, family=evaluated.choice.family,
                  template=(evaluated.choice.template or "the tokenizer's own") if protocol == "chat" else None,
                  tiny=evaluated.choice.tiny, dtype=model_dtype(evaluated.model),
                  choice_style=style if protocol == "chat" else "lm-eval choices",
                  accuracy=accuracy(golds, [r["pred"] for r in rows]),
                  accuracy_norm=accuracy(golds, [r["pred_norm"] for r in rows]),
                  macro_f1=macro_f1(golds, [r["pred"] for r in rows]),
                  questions_per_second=per_second, predictions=rows)
    if protocol == "leaderboard":
        result["lm_eval_task"] = LM_EVAL_TASKS[bench.name]
    if contamination is not None:
        result["contamination"] = contamination
    print(format_result(result))
    return result


def check_contamination(evaluated, bench, training_data=None, sample=False):
    """The contamination report of a fine-tuned model (printed), or None for a model that was not tuned here."""
    from .contamination import contamination_report, describe_contamination

    if training_data is None and not evaluated.fine_tuned:
        return None
    report = contamination_report(bench.questions, evaluated.choice.requested, training_data, sample)
    print(describe_contamination(report))
    return report


def evaluate_baseline(baseline, benchmark, protocol="chat", **load_options):
    """Score the majority-class or uniform-random baseline on a benchmark, as if it were a model.

    A baseline never reads a prompt, so both protocols give the same numbers; `protocol` only labels
    the result, so it sits beside the model results it is compared with.
    """
    from .leaderboard import check_protocol
    from .report import format_result

    check_baseline(baseline)
    check_protocol(protocol)
    bench = as_benchmark(benchmark, **load_options)
    print(bench.describe())
    result = base_result(bench, f"{baseline} baseline", "baseline:" + baseline)
    result["protocol"] = protocol
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
                 load_in_4bit=True, offtopic_options=None, progress=False, protocols=("chat",), dtype=None,
                 train_dataset=None):
    """Every measurement of one model (held-out loss, each benchmark under each protocol, off-topic), each
    saved as artifacts/eval_{run}_{benchmark}.json (chat protocol) or ..._{benchmark}_leaderboard.json;
    frees the model afterwards. Returns the saved paths.

    train_dataset: the split the model was trained on, for the contamination check of a fine-tuned model.
    Freeing matters on a T4: a base and a fine-tuned 8B model at once would not fit in 15 GB.
    """
    import gc

    from .report import save_result

    evaluated = load_for_eval(name_or_adapter, load_in_4bit=load_in_4bit, dtype=dtype)
    results = [evaluate_heldout(evaluated, eval_dataset)]
    for bench in benchmarks:
        results += [evaluate_benchmark(evaluated, bench, progress=progress, protocol=protocol,
                                       training_data=train_dataset) for protocol in protocols]
    results.append(evaluate_offtopic(evaluated, **(offtopic_options or {})))
    del evaluated
    gc.collect()
    _empty_cuda_cache()
    return [save_result(r, artifacts_dir, run=f"{run}_{r['benchmark']}{protocol_suffix(r)}") for r in results]


def protocol_suffix(result):
    """File-name suffix: none for the chat protocol (the course's original files), _leaderboard otherwise."""
    return "_leaderboard" if result.get("protocol") == "leaderboard" else ""


def _empty_cuda_cache():
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()

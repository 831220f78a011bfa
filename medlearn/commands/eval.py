import contextlib
import json
import sys
from pathlib import Path

HELP = ("Evaluate a model or adapter: PubMedQA / MedQA / MedMCQA accuracy beside baselines, "
        "held-out loss, or off-topic behaviour; saves artifacts/eval_RUN.json and a comparison plot.")
KINDS = ("pubmedqa", "medqa", "medmcqa", "heldout", "offtopic")


def configure(parser):
    parser.add_argument("--model", help="model name (medlearn models), tiny-FAMILY, an adapter folder, "
                                        "a Hugging Face model folder or a Hub id (owner/name)")
    parser.add_argument("--benchmark", required=True, help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("--protocol", default="chat", choices=["leaderboard", "chat"],
                        help="leaderboard: lm-eval's plain-text prompts (comparable with the Open Medical-LLM "
                             "Leaderboard); chat: the family chat template, how the tuned chat model answers")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                        help="auto: float32 on a CPU, bfloat16 on a GPU that has it, float16 on a T4")
    parser.add_argument("--family", help="for a plain model folder or Hub id whose tokenizer does not "
                                         "tell its course family")
    parser.add_argument("--cop-base", type=int, choices=[0, 1],
                        help="MedMCQA answer numbering: 0 = Hub release (cop 0-3), 1 = GitHub release (1-4); "
                             "detected when left out")
    parser.add_argument("--baseline", help="score the 'majority' or 'random' baseline instead of a model")
    parser.add_argument("--path", help="a benchmark file in its published schema (Parquet, JSON Lines, "
                                       "JSON, CSV; PubMedQA's ori_pqal.json too) or, for heldout, a "
                                       "file with a messages column")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="skip malformed lines of a --path JSON Lines file (counted and reported) "
                             "instead of refusing the file")
    parser.add_argument("--sample", action="store_true", help="use the shipped sample files (offline)")
    parser.add_argument("--limit", type=int, help="score only the first N questions")
    parser.add_argument("--all-rows", action="store_true",
                        help="PubMedQA: score every row, not only the official 500-id test subset")
    parser.add_argument("--dataset", help="heldout: source name(s), comma-separated; their eval split is used")
    parser.add_argument("--style", default="letter", choices=["letter", "text"],
                        help="score option letters (the leaderboard's way) or the options' own text")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=2048, help="max sequence length")
    parser.add_argument("--no-4bit", action="store_true",
                        help="load the model unquantized (always so on a CPU unless --4bit)")
    parser.add_argument("--4bit", dest="force_4bit", action="store_true",
                        help="load in 4-bit on a CPU too (the default on a GPU, as in training)")
    parser.add_argument("--run", help="result name: artifacts/eval_RUN.json (default: model_benchmark)")
    parser.add_argument("--artifacts-dir", default="artifacts")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def run(args):
    check_args(args)
    # With --json, stdout carries only the JSON; progress and summaries go to stderr.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = evaluate(args)
        from ..evaluation import plot_results, save_result

        path = save_result(result, args.artifacts_dir, args.run)
        others = sorted(Path(args.artifacts_dir).glob("eval_*.json"))
        print(f"Comparison plot of {len(others)} result(s): "
              f"{plot_results(others, Path(args.artifacts_dir) / 'eval_comparison.png')}")
    if args.json:
        print(json.dumps(json.loads(path.read_text()), indent=2))


def check_args(args):
    if args.benchmark not in KINDS:
        raise ValueError(f"Unknown benchmark {args.benchmark!r}. Valid benchmarks: {', '.join(KINDS)}.")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be a positive number of questions, got {args.limit}. "
                         "Leave it out to score every question.")
    if args.baseline and args.benchmark in ("heldout", "offtopic"):
        raise ValueError(f"--baseline scores multiple-choice benchmarks only, not {args.benchmark}.")
    if args.cop_base is not None and args.benchmark != "medmcqa":
        raise ValueError(f"--cop-base is MedMCQA's answer numbering; it means nothing for {args.benchmark}.")
    if not args.baseline and not args.model:
        raise ValueError("Pass --model NAME_OR_ADAPTER (or --baseline majority|random).")


def evaluate(args):
    """Read the questions first, then load the model: a bad file is refused before minutes of loading."""
    from .. import evaluation

    load_options = dict(sample=args.sample, path=args.path, limit=args.limit)
    bench_options = dict(load_options, test_subset=not args.all_rows, skip_bad_rows=args.skip_bad_rows,
                         **({"cop_base": args.cop_base} if args.cop_base is not None else {}))
    if args.baseline:
        return evaluation.evaluate_baseline(args.baseline, args.benchmark, args.protocol, **bench_options)
    if args.benchmark == "heldout":
        questions = heldout_split(args)
    elif args.benchmark != "offtopic":
        questions = evaluation.load_benchmark(args.benchmark, **bench_options)
    evaluated = evaluation.load_for_eval(args.model, args.max_length, load_in_4bit=use_4bit(args),
                                         dtype=args.dtype, family=args.family)
    if args.benchmark == "heldout":
        return evaluation.evaluate_heldout(evaluated, questions, args.max_length, args.batch_size)
    if args.benchmark == "offtopic":
        return evaluation.evaluate_offtopic(evaluated, batch_size=args.batch_size, **load_options)
    return evaluation.evaluate_benchmark(evaluated, questions, args.style, args.batch_size,
                                         protocol=args.protocol)


def use_4bit(args):
    """4-bit on a GPU (as the model was trained), unquantized on a CPU where 4-bit is only emulated."""
    from ..models.choice import cuda_available

    if args.no_4bit and args.force_4bit:
        raise ValueError("--4bit and --no-4bit contradict each other; pass one.")
    if args.no_4bit or args.force_4bit:
        return args.force_4bit
    return cuda_available()


def heldout_split(args):
    """The eval conversations: a file with `messages`, or the eval split of --dataset sources."""
    if args.path:
        from ..files import read_table

        split = read_table(args.path, args.skip_bad_rows)
        if "messages" not in split.column_names:
            raise ValueError(f"--path {args.path}: no 'messages' column (found: {', '.join(split.column_names)}). "
                             "heldout reads conversations: the eval split of your training data, saved with "
                             "its messages column.")
    elif args.dataset:
        from ..data import prepare_dataset

        # The same call as `medlearn train --dataset`, so this is the split training held out.
        split = prepare_dataset(args.dataset.split(","), sample=args.sample).eval
    else:
        raise ValueError("heldout needs the eval conversations: --dataset NAMES (as given to medlearn "
                         "train) or --path FILE with a 'messages' column.")
    if args.limit:
        split = split.select(range(min(args.limit, len(split))))
    return split

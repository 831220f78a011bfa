import json

HELP = "Load a course dataset (Hub, shipped sample or local copy), clean it and show stats or examples."


def configure(parser):
    parser.add_argument("--list", action="store_true", help="print the registry and the restricted datasets")
    parser.add_argument("--dataset", metavar="NAME", help="a source short name (see --list)")
    parser.add_argument("--path", metavar="FILE", help="a local copy of the source in its published schema")
    parser.add_argument("--sample", action="store_true", help="use the sample shipped in data/samples/")
    parser.add_argument("--split", default="train", help="the split to load (default: train)")
    parser.add_argument("--limit", type=int, help="read at most this many rows")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="skip malformed lines of a --path JSON Lines file (counted and reported) "
                             "instead of refusing the file")
    parser.add_argument("--stats", action="store_true", help="print rows read, rows kept and drops by reason")
    parser.add_argument("--examples", type=int, default=3, help="conversations to show without --stats")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--off", metavar="RULE[,RULE]", default="",
                        help="quality rules to switch off, e.g. short_answer,benchmark_question "
                             "(every rule is listed in the --stats --json report)")
    parser.add_argument("--min-answer-chars", type=int, default=None,
                        help="the short_answer threshold in characters (default 100)")
    parser.add_argument("--benchmarks", choices=["auto", "samples", "hub"], default="auto",
                        help="benchmark questions to keep out: the shipped samples, or also the real "
                             "test sets from the Hub (auto: samples with --sample, else hub)")


def run(args):
    import datasets

    datasets.disable_progress_bars()  # the learner wants the numbers, not twenty progress bars
    if args.list:
        return _print_registry(args.json)
    if not args.dataset:
        raise ValueError("Give --dataset NAME (see `medlearn data --list`) or --list.")
    from ..data import SOURCES, clean, load_source

    rows = load_source(args.dataset, sample=args.sample, path=args.path, split=args.split, limit=args.limit,
                       skip_bad_rows=args.skip_bad_rows)
    cleaned, report = clean(rows, require_answer=SOURCES[args.dataset].has_answers, **_rule_options(args))
    if args.stats:
        print(json.dumps(report.to_dict(), indent=2) if args.json else report)
        return 0
    examples = cleaned.select(range(min(args.examples, len(cleaned))))["messages"]
    if args.json:
        print(json.dumps({"report": report.to_dict(), "examples": list(examples)}, indent=2))
        return 0
    print(report)
    for number, messages in enumerate(examples, start=1):
        print(f"\n--- conversation {number} ---")
        for turn in messages:
            print(f"[{turn['role']}] {turn['content']}")
    return 0


def _rule_options(args):
    benchmarks = args.benchmarks
    if benchmarks == "auto":
        benchmarks = "samples" if args.sample else "hub"
    options = {"off": [name for name in args.off.split(",") if name.strip()], "benchmarks": benchmarks}
    options["off"] = [name.strip() for name in options["off"]]
    if args.min_answer_chars is not None:
        options["min_answer_chars"] = args.min_answer_chars
    return options


def _print_registry(as_json):
    import pandas as pd

    from ..data.sources import registry_rows, restricted_rows

    sources, restricted = registry_rows(), restricted_rows()
    if as_json:
        print(json.dumps({"sources": sources, "restricted": restricted}, indent=2))
        return 0
    columns = ["name", "hub_id", "rows", "license", "description"]
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print(pd.DataFrame(sources)[columns].to_string(index=False))
        print("\nRestricted (cannot be downloaded freely; loading them explains how to get access):")
        print(pd.DataFrame(restricted)[["name", "description", "url"]].to_string(index=False))
    return 0

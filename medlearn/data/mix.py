"""Mix cleaned sources into one training set, by weights or by row counts, keeping `source`."""
from dataclasses import dataclass


STATS_ATTRIBUTE = "medlearn_data_stats"  # where prepare_dataset leaves its stats on train and eval


@dataclass
class PreparedData:
    train: object     # datasets.Dataset
    eval: object      # datasets.Dataset (empty when eval_fraction=0)
    reports: dict     # source name -> CleanReport

    def stats(self):
        """What cleaning did, for the run's stats JSON: every source's report and the leak check."""
        leaks = [report.leak_check for report in self.reports.values() if report.leak_check]
        return {"sources": {name: report.to_dict() for name, report in self.reports.items()},
                "benchmark_questions_dropped": sum(leak["dropped"] for leak in leaks),
                "benchmarks_checked": leaks[0]["checked"] if leaks else [],
                "benchmarks_missing": leaks[0]["missing"] if leaks else []}


def data_stats_of(dataset):
    """The cleaning stats prepare_dataset attached to its train/eval Dataset (None for any other)."""
    return getattr(dataset, STATS_ATTRIBUTE, None)


def mix(datasets_by_name, weights=None, counts=None, seed=3407, total=None):
    """One shuffled Dataset(messages, source) from several.

    counts={"medquad": 500, "finetome": 100}: that many rows of each (sampled without repeats).
    weights={"medquad": 0.8, "finetome": 0.2}: those shares of `total` rows; without `total`, the
    largest total every source can supply without repeating a row. Neither: everything.
    """
    from datasets import concatenate_datasets

    if not datasets_by_name:
        raise ValueError("mix() needs at least one dataset, e.g. {'medquad': medquad_rows}.")
    if weights is not None and counts is not None:
        raise ValueError("Give weights or counts to mix(), not both.")
    for name, dataset in datasets_by_name.items():
        missing = {"messages", "source"} - set(dataset.column_names)
        if missing:
            raise ValueError(f"mix(): dataset {name!r} lacks {sorted(missing)}; load it with "
                             f"load_source or load_file so it has 'messages' and 'source'.")
    sizes = {name: len(dataset) for name, dataset in datasets_by_name.items()}
    wanted = _counts_from_weights(weights, sizes, total) if weights is not None else counts or sizes
    _check_counts(wanted, sizes)
    parts = [_sample(datasets_by_name[name], wanted[name], seed) for name in datasets_by_name
             if wanted.get(name, 0) > 0]
    return concatenate_datasets(parts).shuffle(seed=seed).flatten_indices()


def rows_for_share(train_rows, share):
    """How many extra rows make them `share` of the mix: n / (train_rows + n) = share (at least one)."""
    return max(1, round(share * train_rows / (1 - share)))


def mix_in(train_dataset, extra, share, seed=3407):
    """All rows of `train_dataset` plus rows of `extra` that make up `share` of the result, shuffled.

    Rehearsal (general chat kept in a medical run) adds rows without taking any away, which
    mix(weights=...) would do when one side is short. share=0 returns `train_dataset` unchanged.
    """
    if not 0 <= share < 1:
        raise ValueError(f"share is the fraction of the mix that comes from `extra`, from 0 up to but not "
                         f"including 1 (e.g. 0.2); got {share!r}.")
    if share == 0:
        return train_dataset
    wanted = rows_for_share(len(train_dataset), share)
    if wanted > len(extra):
        most = len(extra) / (len(extra) + len(train_dataset))
        raise ValueError(f"share={share} of {len(train_dataset)} training rows needs {wanted} extra rows, but "
                         f"`extra` has {len(extra)}; use share <= {most:.2f} or more extra rows.")
    return mix({"train": train_dataset, "extra": extra}, counts={"train": len(train_dataset), "extra": wanted},
               seed=seed)


def _counts_from_weights(weights, sizes, total):
    unknown = set(weights) - set(sizes)
    if unknown or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights must be non-negative numbers for {sorted(sizes)}; got {weights}.")
    share = {name: weights.get(name, 0) / sum(weights.values()) for name in sizes}
    if total is None:
        total = int(min(sizes[name] / share[name] for name in sizes if share[name] > 0))
    counts = {name: int(round(total * share[name])) for name in sizes}
    too_many = {name: n for name, n in counts.items() if n > sizes[name]}
    if too_many:
        raise ValueError(f"total={total} with weights {weights} needs {too_many} rows, more than "
                         f"those sources have ({sizes}); lower total or leave it out.")
    return counts


def _check_counts(counts, sizes):
    for name, count in counts.items():
        if name not in sizes:
            raise ValueError(f"counts names {name!r}, which is not among the datasets: {sorted(sizes)}.")
        if not 0 <= count <= sizes[name]:
            raise ValueError(f"counts asks for {count} rows of {name!r}, which has {sizes[name]} "
                             f"after cleaning; ask for at most {sizes[name]}.")


def _sample(dataset, count, seed):
    import numpy as np

    dataset = dataset.select_columns(["messages", "source"])
    if count == len(dataset):
        return dataset
    rows = np.sort(np.random.default_rng(seed).choice(len(dataset), size=count, replace=False))
    return dataset.select(rows)


def prepare_dataset(names, sample=False, eval_fraction=0.1, seed=3407, limit_per_source=None,
                    weights=None, counts=None, paths=None, tokenizer=None, max_answer_tokens=None,
                    off=(), min_answer_chars=None, benchmarks="auto"):
    """Load, clean, mix and split sources in one call -> PreparedData(train, eval, reports).

    paths={"medquad": "my_copy.csv"} reads local copies instead of the Hub for those names.
    off / min_answer_chars: switch quality rules off, or move the short-answer threshold (clean()).
    benchmarks: rows containing a benchmark question are dropped; "auto" checks the shipped
    benchmark samples, plus the real test sets from the Hub when the data is real (sample=False).
    The counts are in each report and in data.stats(), which also rides on data.train for train().
    """
    from .clean import clean
    from .loaders import load_source
    from .sources import get_source
    from .split import split_train_eval

    names = [names] if isinstance(names, str) else list(names)
    if benchmarks == "auto":
        benchmarks = "samples" if sample else "hub"
    options = {"off": off, "benchmarks": benchmarks}
    if min_answer_chars is not None:
        options["min_answer_chars"] = min_answer_chars
    cleaned, reports = {}, {}
    for name in names:
        if not get_source(name).has_answers:
            raise ValueError(f"{name!r} has questions but no answers, so it cannot be trained on "
                             f"directly; use load_labelled_questions() for it.")
        rows = load_source(name, sample=sample, path=(paths or {}).get(name), limit=limit_per_source)
        cleaned[name], reports[name] = clean(rows, tokenizer, max_answer_tokens, **options)
    split = split_train_eval(mix(cleaned, weights, counts, seed), eval_fraction, seed)
    prepared = PreparedData(split["train"], split["eval"], reports)
    stats = prepared.stats()
    for part in (prepared.train, prepared.eval):
        setattr(part, STATS_ATTRIBUTE, stats)
    if stats["benchmarks_checked"]:
        print(f"Benchmark leak check: dropped {stats['benchmark_questions_dropped']} row(s) containing a "
              f"benchmark question (checked: {', '.join(stats['benchmarks_checked'])}).")
    return prepared

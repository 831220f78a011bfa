"""Medical datasets in one conversational shape: a `messages` column and a `source` column.

    from medlearn.data import load_source, clean, split_train_eval
    rows, report = clean(load_source("medquad", sample=True))
    parts = split_train_eval(rows)          # DatasetDict(train=..., eval=...)

Modules: sources (registry and restricted datasets), loaders (Hub / sample / file -> messages),
text (clean_text: real markup out, whitespace normalised, code untouched), rules (named quality rules
per source), benchmarks (PubMedQA / MedQA / MedMCQA questions in one schema, for evaluation and for
leaks), leaks (benchmark questions kept out of training), clean (rules, empties, duplicates,
all counted), split (leak-free split), mix (mixing, prepare_dataset), tables (a pandas table to look at).
"""
from .clean import RULE_NAMES, CleanReport, clean, clean_text, normalize_text
from .leaks import benchmark_index
from .loaders import load_file, load_labelled_questions, load_source
from .mix import PreparedData, data_stats_of, mix, mix_in, prepare_dataset
from .rules import RULES
from .sources import RESTRICTED, SOURCES, RestrictedDatasetError, get_source
from .split import split_labelled_questions, split_train_eval
from .tables import to_qa_table

__all__ = ["SOURCES", "RESTRICTED", "RestrictedDatasetError", "get_source", "load_source",
           "load_file", "load_labelled_questions", "clean", "clean_text", "normalize_text",
           "CleanReport", "RULES", "RULE_NAMES", "benchmark_index", "split_train_eval",
           "split_labelled_questions", "mix", "mix_in", "prepare_dataset", "PreparedData", "data_stats_of",
           "to_qa_table"]

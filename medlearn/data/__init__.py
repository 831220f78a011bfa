"""Medical datasets in one conversational shape: a `messages` column and a `source` column.

    from medlearn.data import load_source, clean, split_train_eval
    rows, report = clean(load_source("medquad", sample=True))
    parts = split_train_eval(rows)          # DatasetDict(train=..., eval=...)

Modules: sources (registry and restricted datasets), loaders (Hub / sample / file -> messages),
clean (debris, empties, duplicates, counted), split (leak-free split), mix (mixing, prepare_dataset),
tables (conversations as a pandas table to look at).
"""
from .clean import CleanReport, clean, clean_text, normalize_text
from .loaders import load_file, load_labelled_questions, load_source
from .mix import PreparedData, mix, prepare_dataset
from .sources import RESTRICTED, SOURCES, RestrictedDatasetError, get_source
from .split import split_labelled_questions, split_train_eval
from .tables import to_qa_table

__all__ = ["SOURCES", "RESTRICTED", "RestrictedDatasetError", "get_source", "load_source",
           "load_file", "load_labelled_questions", "clean", "clean_text", "normalize_text",
           "CleanReport", "split_train_eval", "split_labelled_questions", "mix", "prepare_dataset", "PreparedData", "to_qa_table"]

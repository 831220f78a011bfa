"""Benchmark leak check: a training row that contains a benchmark question would flatter the score.

MedTuned's pmc_llama rows, for one, are exam questions from sources that include MedQA and
PubMedQA, which the course then scores on. clean() drops (and counts, as "benchmark_question")
every row whose user turn contains a benchmark question, compared as lower-case words with
punctuation ignored. A question of fewer than MIN_CONTAINED_WORDS words must match the whole user
turn, so a short MedMCQA stem ("Drug of choice for anaphylaxis is") does not catch every longer
question that happens to include it.

Questions checked: always the shipped samples (data/benchmarks/, all their rows); with hub=True
also the sets the course scores on: PubMedQA's official test ids, MedQA test, MedMCQA validation.
A Hub set that cannot be loaded is named in `missing`, and the report says the check was partial.
"""
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

MIN_CONTAINED_WORDS = 8
_WORD = re.compile(r"\w+")


def question_words(text):
    """A text as its lower-case words: the form in which questions are compared."""
    return _WORD.findall(text.casefold()) if isinstance(text, str) else []


@dataclass(frozen=True)
class BenchmarkIndex:
    whole: frozenset                 # every benchmark question, words joined by one space
    by_opening: dict = field(default_factory=dict)  # first MIN_CONTAINED_WORDS words -> questions
    first_words: frozenset = frozenset()  # the first word of every question in by_opening
    checked: tuple = ()              # what was checked, e.g. "medqa sample (24 questions)"
    missing: tuple = ()              # what could not be loaded, with the reason

    def matches(self, text):
        """True when `text` is, or contains, one of the benchmark questions."""
        words = question_words(text)
        joined = " ".join(words)
        if joined in self.whole:
            return True
        padded = f" {joined} "
        for i in range(len(words) - MIN_CONTAINED_WORDS + 1):
            if words[i] not in self.first_words:
                continue  # cheap test first: most positions cannot start a benchmark question
            candidates = self.by_opening.get(" ".join(words[i:i + MIN_CONTAINED_WORDS]))
            if candidates and any(f" {question} " in padded for question in candidates):
                return True
        return False

    def summary(self):
        return {"checked": list(self.checked), "missing": list(self.missing)}


def index_questions(questions, checked=(), missing=()):
    """A BenchmarkIndex over plain question strings."""
    whole, by_opening = set(), {}
    for question in questions:
        words = question_words(question)
        if not words:
            continue
        whole.add(" ".join(words))
        if len(words) >= MIN_CONTAINED_WORDS:
            by_opening.setdefault(" ".join(words[:MIN_CONTAINED_WORDS]), []).append(" ".join(words))
    first_words = frozenset(opening.split(" ")[0] for opening in by_opening)
    return BenchmarkIndex(frozenset(whole), by_opening, first_words, tuple(checked), tuple(missing))


@lru_cache(maxsize=2)
def benchmark_index(hub=False):
    """The benchmark questions to keep out of training (cached per process)."""
    from .benchmarks import BENCHMARKS, load_benchmark

    questions, checked, missing = [], [], []
    for name in BENCHMARKS:
        sample = list(load_benchmark(name, sample=True, test_subset=False).questions["question"])
        questions += sample
        checked.append(f"{name} sample ({len(sample)} questions)")
    if hub:
        for name, spec in BENCHMARKS.items():
            split = "official test ids" if name == "pubmedqa" else spec.split
            try:
                real = list(load_benchmark(name).questions["question"])
            except Exception as error:  # offline or gated: the check goes on with what it has
                missing.append(f"{name} {split} from {spec.hub_id}: {error}")
                continue
            questions += real
            checked.append(f"{name} {split} ({len(real)} questions)")
    if missing:
        warnings.warn("Benchmark leak check is partial; not checked: " + "; ".join(missing), stacklevel=2)
    return index_questions(questions, checked, missing)


def resolve_benchmarks(benchmarks):
    """clean()'s `benchmarks` argument as a BenchmarkIndex (None: no check)."""
    if benchmarks is None or isinstance(benchmarks, BenchmarkIndex):
        return benchmarks
    if benchmarks in ("samples", "hub"):
        return benchmark_index(hub=benchmarks == "hub")
    if isinstance(benchmarks, (list, tuple, set, frozenset)):
        return index_questions(benchmarks, [f"{len(benchmarks)} given questions"])
    raise ValueError(f"benchmarks must be 'samples' (the shipped benchmark samples), 'hub' (samples plus "
                     f"PubMedQA test, MedQA test and MedMCQA validation from the Hub), a list of question "
                     f"strings, or None (no leak check); got {benchmarks!r}.")

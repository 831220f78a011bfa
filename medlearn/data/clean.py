"""Cleaning: strip markup from every turn, run each source's quality rules, then drop unusable rows,
counting every repair and every drop by its name.

Reasons a row is dropped, in the order they are checked (a row is counted once, under the first):
  missing_value         a turn is None (blank CSV cell, JSON null) or not text (a number, a list)
  bad_turns             roles do not go (system) user, assistant, user, assistant...
  empty_question        a user turn is empty after cleaning
  empty_answer          an assistant turn is empty, or there is none
  anonymiser_damage, referral_only, short_answer, truncated_answer
                        the source's quality rules (medlearn/data/rules.py); each can be turned off
  benchmark_question    the question is, or contains, a benchmark question (medlearn/data/leaks.py)
  answer_too_long       an assistant turn has more tokens than max_answer_tokens
  exact_duplicate       the same conversation as an earlier row, character for character
  normalized_duplicate  the same as an earlier row after lower-casing and collapsing whitespace
                        and repeated punctuation
Repairs (scraped_prefix, doubled_question_mark, anonymiser_damage) rewrite a turn; the report counts
the kept rows each one changed.
"""
import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

from .leaks import resolve_benchmarks
from .rules import MIN_ANSWER_CHARS, RULES, drop_reason, repair_turns
from .text import clean_text

LEAK_RULE = "benchmark_question"
RULE_NAMES = tuple(RULES) + (LEAK_RULE,)
REASONS = ("missing_value", "bad_turns", "empty_question", "empty_answer", "anonymiser_damage",
           "referral_only", "short_answer", "truncated_answer", LEAK_RULE, "answer_too_long",
           "bad_label", "exact_duplicate", "normalized_duplicate")
WORK_COLUMNS = ["_reason", "_repaired", "_exact", "_normalized"]

_REPEATED_PUNCT = re.compile(r"([^\w\s])\1+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([^\w\s])")
_ANY_SPACE = re.compile(r"\s+")


@dataclass
class CleanReport:
    rows_read: int
    rows_kept: int
    dropped: dict = field(default_factory=dict)   # reason -> rows dropped for it (non-zero only)
    source: str = None
    repaired: dict = field(default_factory=dict)  # repair rule -> kept rows it changed (non-zero only)
    rules: dict = field(default_factory=dict)     # every rule -> {"on", "repaired", "dropped"}
    leak_check: dict = None                       # benchmarks checked / missing, rows dropped

    def to_dict(self):
        return asdict(self)

    def __str__(self):
        drops = ", ".join(f"{reason} {count}" for reason, count in self.dropped.items()) or "none"
        text = f"{self.source or 'dataset'}: read {self.rows_read}, kept {self.rows_kept}; dropped: {drops}"
        if self.repaired:
            text += "; repaired: " + ", ".join(f"{rule} {n}" for rule, n in self.repaired.items())
        return text


def normalize_text(text):
    """The comparison key of a text: lower case, one space, no repeated punctuation."""
    return _normalize_clean(clean_text(text) or "")


def _normalize_clean(text):
    # normalize_text for text that clean_text already cleaned (the turns inside clean()).
    text = _REPEATED_PUNCT.sub(r"\1", text.lower())
    return _ANY_SPACE.sub(" ", _SPACE_BEFORE_PUNCT.sub(r"\1", text)).strip()


def clean(dataset, tokenizer=None, max_answer_tokens=None, require_answer=True, off=(),
          min_answer_chars=MIN_ANSWER_CHARS, benchmarks="samples"):
    """Clean conversations; returns (clean dataset, CleanReport with every repair and drop counted).

    max_answer_tokens (with a tokenizer) drops rows whose longest answer is over the budget.
    require_answer=False accepts user-only conversations (the labelled questions).
    off: rule names to switch off, e.g. ("short_answer", "benchmark_question"); see RULE_NAMES.
    min_answer_chars: the short_answer threshold, for the sources that run that rule.
    benchmarks: "samples" (shipped benchmark samples), "hub" (plus the real test sets), a list of
    question strings, or None: rows containing one of those questions are dropped.
    """
    if max_answer_tokens is not None and tokenizer is None:
        raise ValueError("max_answer_tokens needs the tokenizer that will count the tokens; "
                         "pass tokenizer=... as well.")
    off = _check_off(off)
    index = None if LEAK_RULE in off else resolve_benchmarks(benchmarks)
    rows_read = len(dataset)
    marked = dataset.map(
        # No cache reuse: a cached result from an older version of these rules would be stale.
        _mark_batch, batched=True, desc="Cleaning", load_from_cache_file=False,
        fn_kwargs={"tokenizer": tokenizer, "max_answer_tokens": max_answer_tokens,
                   "require_answer": require_answer, "off": off, "index": index,
                   "min_answer_chars": min_answer_chars})
    reasons, repairs = _reasons_with_duplicates(marked)
    keep = [i for i, reason in enumerate(reasons) if not reason]
    repaired = _count((name for i in keep for name in repairs[i].split(",")), RULE_NAMES)
    kept = _take(marked, keep)
    dropped = _count(reasons)
    on = _rules_on(dataset, off, index)
    report = CleanReport(rows_read, len(kept), dropped, _single_source(dataset), repaired,
                         _rule_table(on, repaired, dropped), _leak_summary(index, dropped))
    return kept, report


def _take(marked, rows):
    """The kept rows as a new Dataset, without the work columns.

    pyarrow's take copies the rows in C++; select + flatten_indices re-cast every row in Python and
    cost more than the cleaning itself on 20,000 chat rows.
    """
    import pyarrow as pa
    from datasets import Dataset, DatasetInfo
    from datasets.table import InMemoryTable

    if marked._indices is not None:  # map() writes a fresh table, so this is a safety net only
        return marked.select(rows).remove_columns(WORK_COLUMNS).flatten_indices()
    table = marked.data.table.take(pa.array(rows, type=pa.int64())).drop_columns(WORK_COLUMNS)
    features = marked.features.copy()
    for column in WORK_COLUMNS:
        del features[column]
    return Dataset(InMemoryTable(table), info=DatasetInfo(features=features))


def _check_off(off):
    off = frozenset([off] if isinstance(off, str) else off or ())
    unknown = sorted(off - set(RULE_NAMES))
    if unknown:
        raise ValueError(f"Unknown rule(s) to switch off: {', '.join(unknown)}. "
                         f"Valid rules: {', '.join(RULE_NAMES)}.")
    return off


def count_label_drops(questions, report):
    """Turn cleaned labelled questions into Dataset(text, label), counting bad labels."""
    labels = questions["label"]
    bad = [i for i, label in enumerate(labels) if label is None]
    if bad:
        questions = questions.select([i for i, label in enumerate(labels) if label is not None])
    texts = questions.map(lambda batch: {"text": [m[0]["content"] for m in batch["messages"]]},
                          batched=True, remove_columns=["messages", "source"], load_from_cache_file=False)
    dropped = dict(report.dropped)
    if bad:
        dropped["bad_label"] = len(bad)
    dropped = {reason: dropped[reason] for reason in REASONS if reason in dropped}
    report = replace(report, rows_kept=len(texts), dropped=dropped)
    return texts.select_columns(["text", "label"]), report


def _mark_batch(batch, tokenizer, max_answer_tokens, require_answer, off, index, min_answer_chars):
    size = len(batch["messages"])
    sources, tasks = batch.get("source") or [None] * size, batch.get("task") or [None] * size
    cleaned, reasons, repaired, exact, normalized = [], [], [], [], []
    for messages, source, task in zip(batch["messages"], sources, tasks):
        turns, changed = _clean_turns(messages), []
        reason = _structure_reason(messages, turns, require_answer)
        if not reason:
            rules = _rules_for(source, task, off)
            turns, changed = repair_turns(turns, rules)
            turns = _without_empty_system(turns)
            reason = (_empty_reason(turns, require_answer) or drop_reason(turns, rules, min_answer_chars)
                      or _leak_reason(turns, index))
        cleaned.append(turns)
        reasons.append(reason)
        repaired.append(",".join(changed))  # a string column: one type in every batch
        # Keys for duplicate detection: roles and contents joined by control characters.
        exact.append("\x1e".join("\x1f".join((t["role"], str(t["content"]))) for t in messages))
        normalized.append("\x1e".join("\x1f".join((t["role"], _normalize_clean(t["content"] or "")))
                                      for t in turns))
    if max_answer_tokens is not None:
        _mark_long_answers(cleaned, reasons, tokenizer, max_answer_tokens)
    return {"messages": cleaned, "_reason": reasons, "_repaired": repaired, "_exact": exact,
            "_normalized": normalized}


@lru_cache(maxsize=256)
def _rules_for(source, task, off):
    from .sources import GENERIC_RULES, SOURCES

    entry = SOURCES.get(source)
    rules = entry.rules_for(task) if entry else GENERIC_RULES
    return frozenset(rules) - off


def _clean_turns(messages):
    turns = [{"role": turn["role"], "content": clean_text(turn["content"])} for turn in messages]
    return _without_empty_system(turns)


def _without_empty_system(turns):
    # An empty system turn says nothing; removing it is not a drop.
    return [t for t in turns if not (t["role"] == "system" and not t["content"])]


def _structure_reason(raw, turns, require_answer):
    if any(not isinstance(t["content"], str) for t in raw if t["role"] != "system"):
        return "missing_value"
    roles = [t["role"] for t in turns]
    if roles[:1] == ["system"]:
        roles = roles[1:]
    expected = ["user", "assistant"] * (len(roles) // 2 + 1)
    ends_right = roles[-1:] == ["assistant"] or (not require_answer and roles[-1:] == ["user"])
    if not roles or roles != expected[:len(roles)] or not (ends_right or roles == ["user"]):
        return "bad_turns"
    return ""


def _empty_reason(turns, require_answer):
    roles = [t["role"] for t in turns]
    if any(t["role"] == "user" and not t["content"] for t in turns):
        return "empty_question"
    if (require_answer and "assistant" not in roles) or any(
            t["role"] == "assistant" and not t["content"] for t in turns):
        return "empty_answer"
    return ""


def _leak_reason(turns, index):
    if index is None:
        return ""
    return LEAK_RULE if any(t["role"] == "user" and index.matches(t["content"]) for t in turns) else ""


def _rules_on(dataset, off, index):
    from .sources import GENERIC_RULES, SOURCES

    names = dataset.unique("source") if "source" in dataset.column_names and len(dataset) else []
    on = set(GENERIC_RULES).union(*(SOURCES[n].all_rules() for n in names if n in SOURCES))
    if index is not None:
        on.add(LEAK_RULE)
    return on - off


def _rule_table(on, repaired, dropped):
    """Every rule with whether it ran and its counts, so a report lists each one, zeros included."""
    return {name: {"on": name in on, "repaired": repaired.get(name, 0), "dropped": dropped.get(name, 0)}
            for name in RULE_NAMES}


def _leak_summary(index, dropped):
    if index is None:
        return None
    return dict(index.summary(), dropped=dropped.get(LEAK_RULE, 0))


def _mark_long_answers(cleaned, reasons, tokenizer, max_answer_tokens):
    # One tokenizer call for every answer of the batch (fast tokenizers batch in Rust).
    owners, answers = [], []
    for row, turns in enumerate(cleaned):
        if not reasons[row]:
            for turn in turns:
                if turn["role"] == "assistant":
                    owners.append(row)
                    answers.append(turn["content"])
    if not answers:
        return
    lengths = [len(ids) for ids in tokenizer(answers, add_special_tokens=False)["input_ids"]]
    for row, length in zip(owners, lengths):
        if length > max_answer_tokens:
            reasons[row] = "answer_too_long"


def _reasons_with_duplicates(marked):
    # Duplicates need the whole column at once: pandas marks repeats of earlier usable rows.
    frame = marked.select_columns(WORK_COLUMNS).to_pandas()
    usable = frame["_reason"] == ""
    # where(usable) blanks unusable rows, so a row is never a "duplicate" of a dropped one.
    frame.loc[usable & frame["_exact"].where(usable).duplicated(), "_reason"] = "exact_duplicate"
    usable = frame["_reason"] == ""
    repeated = usable & frame["_normalized"].where(usable).duplicated()
    frame.loc[repeated, "_reason"] = "normalized_duplicate"
    return frame["_reason"].tolist(), frame["_repaired"].tolist()


def _count(reasons, order=REASONS):
    counts = {}
    for reason in reasons:  # any iterable of names; empty names are not counted
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    ordered = [reason for reason in order if reason in counts]
    return {reason: counts[reason] for reason in ordered + sorted(set(counts) - set(ordered))}


def _single_source(dataset):
    if "source" not in dataset.column_names or len(dataset) == 0:
        return None
    names = dataset.unique("source")
    return names[0] if len(names) == 1 else None

"""Cleaning: strip debris from every turn, then drop unusable rows, counting each drop by reason.

Reasons, in the order they are checked (a row is counted once, under the first that applies):
  missing_value         a turn is None (blank CSV cell, JSON null) or not text (a number, a list)
  bad_turns             roles do not go (system) user, assistant, user, assistant...
  empty_question        a user turn is empty after stripping
  empty_answer          an assistant turn is empty, or there is none
  answer_too_long       an assistant turn has more tokens than max_answer_tokens
  exact_duplicate       the same conversation as an earlier row, character for character
  normalized_duplicate  the same as an earlier row after lower-casing and collapsing whitespace
                        and repeated punctuation
"""
import html
import re
from dataclasses import asdict, dataclass, field

REASONS = ("missing_value", "bad_turns", "empty_question", "empty_answer", "answer_too_long",
           "bad_label", "exact_duplicate", "normalized_duplicate")
WORK_COLUMNS = ["_reason", "_exact", "_normalized"]

_BREAK_TAG = re.compile(r"<\s*(br|/p|p|/div|li)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*\b[^<>]*>")
_COMMENT_END = re.compile(r"\s*-->\s*$")
_COMMENT_START = re.compile(r"^\s*<!--\s*")
_DOUBLED_QUESTION = re.compile(r"\?(\s*\?)+")
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_REPEATED_PUNCT = re.compile(r"([^\w\s])\1+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([^\w\s])")
_ANY_SPACE = re.compile(r"\s+")


@dataclass
class CleanReport:
    rows_read: int
    rows_kept: int
    dropped: dict = field(default_factory=dict)  # reason -> rows dropped for it (non-zero only)
    source: str = None

    def to_dict(self):
        return asdict(self)

    def __str__(self):
        drops = ", ".join(f"{reason} {count}" for reason, count in self.dropped.items()) or "none"
        name = self.source or "dataset"
        return f"{name}: read {self.rows_read}, kept {self.rows_kept}; dropped: {drops}"


def clean_text(text):
    """Strip markup debris and stray whitespace from one piece of text (None stays None)."""
    if not isinstance(text, str):
        return None
    text = html.unescape(_BREAK_TAG.sub("\n", text))
    text = _TAG.sub("", text)
    text = _COMMENT_START.sub("", _COMMENT_END.sub("", text))
    text = _DOUBLED_QUESTION.sub("?", text)
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _MANY_NEWLINES.sub("\n\n", _SPACE_AROUND_NEWLINE.sub("\n", text))
    return _COMMENT_END.sub("", text.strip()).strip()


def normalize_text(text):
    """The comparison key of a text: lower case, one space, no repeated punctuation."""
    text = _REPEATED_PUNCT.sub(r"\1", (clean_text(text) or "").lower())
    return _ANY_SPACE.sub(" ", _SPACE_BEFORE_PUNCT.sub(r"\1", text)).strip()


def clean(dataset, tokenizer=None, max_answer_tokens=None, require_answer=True):
    """Clean conversations; returns (clean dataset, CleanReport with every drop counted).

    max_answer_tokens (with a tokenizer) drops rows whose longest answer is over the budget.
    require_answer=False accepts user-only conversations (the labelled questions).
    """
    if max_answer_tokens is not None and tokenizer is None:
        raise ValueError("max_answer_tokens needs the tokenizer that will count the tokens; "
                         "pass tokenizer=... as well.")
    rows_read = len(dataset)
    marked = dataset.map(
        # No cache reuse: a cached result from an older version of these rules would be stale.
        _mark_batch, batched=True, desc="Cleaning", load_from_cache_file=False,
        fn_kwargs={"tokenizer": tokenizer, "max_answer_tokens": max_answer_tokens,
                   "require_answer": require_answer})
    reasons = _reasons_with_duplicates(marked)
    kept = marked.select([i for i, reason in enumerate(reasons) if not reason])
    kept = kept.remove_columns(WORK_COLUMNS).flatten_indices()
    dropped = _count(reasons)
    source = _single_source(dataset)
    return kept, CleanReport(rows_read, len(kept), dropped, source)


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
    report = CleanReport(report.rows_read, len(texts), dropped, report.source)
    return texts.select_columns(["text", "label"]), report


def _mark_batch(batch, tokenizer, max_answer_tokens, require_answer):
    cleaned, reasons, exact, normalized = [], [], [], []
    for messages in batch["messages"]:
        turns = _clean_turns(messages)
        cleaned.append(turns)
        reasons.append(_row_reason(messages, turns, require_answer))
        # Keys for duplicate detection: roles and contents joined by control characters.
        exact.append("\x1e".join("\x1f".join((t["role"], str(t["content"]))) for t in messages))
        normalized.append("\x1e".join("\x1f".join((t["role"], normalize_text(t["content"])))
                                      for t in turns))
    if max_answer_tokens is not None:
        _mark_long_answers(cleaned, reasons, tokenizer, max_answer_tokens)
    return {"messages": cleaned, "_reason": reasons, "_exact": exact, "_normalized": normalized}


def _clean_turns(messages):
    turns = [{"role": turn["role"], "content": clean_text(turn["content"])} for turn in messages]
    # An empty system turn says nothing; removing it is not a drop.
    return [t for t in turns if not (t["role"] == "system" and not t["content"])]


def _row_reason(raw, turns, require_answer):
    if any(not isinstance(t["content"], str) for t in raw if t["role"] != "system"):
        return "missing_value"
    roles = [t["role"] for t in turns]
    if roles[:1] == ["system"]:
        roles = roles[1:]
    expected = ["user", "assistant"] * (len(roles) // 2 + 1)
    ends_right = roles[-1:] == ["assistant"] or (not require_answer and roles[-1:] == ["user"])
    if not roles or roles != expected[:len(roles)] or not (ends_right or roles == ["user"]):
        return "bad_turns"
    if any(t["role"] == "user" and not t["content"] for t in turns):
        return "empty_question"
    if (require_answer and "assistant" not in roles) or any(
            t["role"] == "assistant" and not t["content"] for t in turns):
        return "empty_answer"
    return ""


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
    return frame["_reason"].tolist()


def _count(reasons):
    counts = {}
    for reason in reasons:
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    ordered = [reason for reason in REASONS if reason in counts]
    return {reason: counts[reason] for reason in ordered + sorted(set(counts) - set(ordered))}


def _single_source(dataset):
    if "source" not in dataset.column_names or len(dataset) == 0:
        return None
    names = dataset.unique("source")
    return names[0] if len(names) == 1 else None

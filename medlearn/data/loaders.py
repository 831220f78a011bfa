"""Loaders: read a source (Hub, shipped sample or local copy) and turn each row into a conversation.

Every loader returns a `datasets.Dataset` with `messages` (a list of {"role", "content"}) and
`source`. The Hub, the shipped samples and a learner's own file all go through
`datasets.load_dataset`, so a sample exercises the same code path as the real download. Values
that are None or not text become a None content; clean() counts and drops those rows.
"""
import string
from pathlib import Path

from ..files import read_table
from .sources import LABEL, NUMBER, SHAREGPT, TEXT, get_source

ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "system": "system"}
MAPPING_KEYS = ("system", "user", "assistant", "messages")
# wiki-medical-terms only has a title and an article; the question is this sentence with the title
# filled in. It is dataset content (what a reader would ask), not a model prompt format.
TERM_QUESTION = string.Template("What is $term?")


def conversation_features(with_label=False, kept=()):
    """The one schema every loader returns (plus `label` for the labelled questions, and any
    published columns a source keeps, such as MedTuned's task set)."""
    from datasets import Features, List, Value

    columns = {"messages": List({"role": Value("string"), "content": Value("string")}),
               "source": Value("string")}
    if with_label:
        columns["label"] = Value("int64")
    columns.update({name: Value("string") for name in kept})
    return Features(columns)


def load_source(name, sample=False, path=None, split="train", limit=None, skip_bad_rows=False):
    """Load a registered source as conversations: from the Hub, the shipped sample, or `path`.

    sample=True reads data/samples/; path=FILE reads a local copy in the published schema (checked
    line by line: medlearn.files; skip_bad_rows=True skips malformed JSON Lines rows, counted).
    """
    source = get_source(name)
    if split not in source.splits:
        raise ValueError(f"{name!r} has no split {split!r}; it has: {', '.join(source.splits)}.")
    check_limit(limit)
    if path is not None:
        table, where = read_table(path, skip_bad_rows), str(path)
    elif sample:
        where = str(source.sample_path(split))
        table = read_table(where)
    else:
        table, where = _download(source, split), source.hub_id
    check_columns(table, source.columns, where)
    if limit is not None:
        table = table.select(range(min(int(limit), len(table))))
    return convert(table, source.kind, source.mapping, source.name, source.kept_columns)


def check_limit(limit):
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive whole number of rows, got {limit!r}. Leave it out to "
                         "read every row.")


def load_file(path, mapping, source=None, skip_bad_rows=False):
    """Load your own CSV / JSON Lines / Parquet file as conversations.

    mapping: {"user": "question", "assistant": "answer"} plus optional "system"; a list of columns
    for one role is joined by a newline; or {"messages": "conversations"} for a column of chat
    turns ({"role","content"} or ShareGPT {"from","value"}). `source` defaults to the file name.
    """
    table = read_table(path, skip_bad_rows)
    expected = check_mapping(mapping, table, path)
    check_columns(table, expected, str(path))
    kind = "sharegpt" if "messages" in mapping else "fields"
    return convert(table, kind, mapping, source or Path(path).stem)


def load_labelled_questions(sample=False, path=None, limit=None, return_report=False):
    """The medical-questions rows as Dataset(text, label): label 1 medical, 0 not medical.

    Cleaned like every source (debris stripped, empty, non-text and duplicate rows dropped), and
    rows whose label is not 0 or 1 are dropped as "bad_label"; return_report=True also returns
    the CleanReport with every drop counted.
    """
    from .clean import clean, count_label_drops

    conversations = load_source("medical-questions", sample=sample, path=path, limit=limit)
    cleaned, report = clean(conversations, require_answer=False)
    questions, report = count_label_drops(cleaned, report)
    if return_report:
        return questions, report
    return questions


def check_columns(table, expected, where):
    """Every expected column exists and holds the expected kind of value; else a ValueError."""
    schema = ", ".join(f"{column} ({kind})" for column, kind in expected.items())
    for column, kind in expected.items():
        if column not in table.column_names:
            raise ValueError(f"{where}: missing column {column!r}. Expected columns: {schema}; "
                             f"the file has: {', '.join(table.column_names)}.")
        if not _has_kind(table, column, kind):
            raise ValueError(f"{where}: column {column!r} holds {table.features[column]}, expected "
                             f"{kind}. Expected columns: {schema}.")


def check_mapping(mapping, table, path):
    """Validate a load_file mapping; returns {column: kind} for check_columns."""
    valid = "a dict like {'user': 'question', 'assistant': 'answer'} (optional 'system'), " \
            "or {'messages': 'conversations'}"
    if not isinstance(mapping, dict) or not mapping:
        raise ValueError(f"{path}: mapping must be {valid}; got {mapping!r}.")
    unknown = [key for key in mapping if key not in MAPPING_KEYS]
    needed = ["messages"] if "messages" in mapping else ["user", "assistant"]
    if unknown or any(key not in mapping for key in needed):
        raise ValueError(f"{path}: mapping must be {valid}; got keys {list(mapping)}.")
    expected = {}
    for role, columns in mapping.items():
        for column in _as_list(columns):
            if column not in table.column_names:
                raise ValueError(f"{path}: the mapping names column {column!r} for {role!r}, but the "
                                 f"file has only: {', '.join(table.column_names)}. Expected mapping: {valid}.")
            expected[column] = SHAREGPT if role == "messages" else TEXT
    return expected


def convert(table, kind, mapping, source_name, kept_columns=None):
    """Batched map from published columns to (messages, source), plus the columns a source keeps."""
    converters = {"fields": _fields_batch, "sharegpt": _turns_batch, "term": _term_batch,
                  "questions": _questions_batch}
    kept_columns = kept_columns or {}
    # Renamed first: MedTuned's published `source` would otherwise collide with ours.
    mapping = {role: _renamed(columns, kept_columns) for role, columns in mapping.items()}
    table = table.rename_columns(kept_columns)
    kept = list(kept_columns.values())
    return table.map(converters[kind], batched=True,
                     remove_columns=[c for c in table.column_names if c not in kept],
                     fn_kwargs={"mapping": mapping, "source_name": source_name},
                     features=conversation_features(kind == "questions", kept),
                     desc=f"Converting {source_name}", load_from_cache_file=False)


def _renamed(columns, renames):
    if isinstance(columns, list):
        return [renames.get(column, column) for column in columns]
    return renames.get(columns, columns)


def _fields_batch(batch, mapping, source_name):
    size = len(next(iter(batch.values())))
    rows = []
    for i in range(size):
        messages = []
        system = _joined(batch, mapping.get("system"), i)
        user = _joined(batch, mapping["user"], i)
        if system and user == "":
            system, user = None, system  # a task with no input is a question on its own
        if system:  # an empty or missing system turn is simply absent
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": _joined(batch, mapping["assistant"], i)})
        rows.append(messages)
    return {"messages": rows, "source": [source_name] * size}


def _turns_batch(batch, mapping, source_name):
    rows = []
    for turns in batch[mapping["messages"]]:
        rows.append([_turn(turn) for turn in (turns or [])])
    return {"messages": rows, "source": [source_name] * len(rows)}


def _term_batch(batch, mapping, source_name):
    questions = [TERM_QUESTION.substitute(term=title.strip()) if _is_text(title) else None
                 for title in batch[mapping["user"]]]
    answers = [_text_or_none(text) for text in batch[mapping["assistant"]]]
    rows = [[{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            for q, a in zip(questions, answers)]
    return {"messages": rows, "source": [source_name] * len(rows)}


def _questions_batch(batch, mapping, source_name):
    rows = [[{"role": "user", "content": _text_or_none(text)}] for text in batch[mapping["user"]]]
    labels = [_label_or_none(label) for label in batch[mapping["label"]]]
    return {"messages": rows, "source": [source_name] * len(rows), "label": labels}


def _turn(turn):
    turn = turn or {}
    role = turn.get("role") or turn.get("from")
    content = turn.get("content", turn.get("value"))
    # An unknown role is kept as written so clean() can count the row as "bad_turns".
    return {"role": ROLES.get(role, str(role)), "content": _text_or_none(content)}


def _joined(batch, columns, i):
    """One role's content: the text of one column, or of several joined by a newline."""
    if columns is None:
        return None
    values = [batch[column][i] for column in _as_list(columns)]
    if any(value is not None and not isinstance(value, str) for value in values):
        return None  # a number or list where text belongs: counted as "missing_value" by clean()
    parts = [value for value in values if value and value.strip()]
    if not parts:
        return "" if any(value is not None for value in values) else None
    return "\n".join(parts)


def _download(source, split):
    from datasets import load_dataset

    try:
        return load_dataset(source.hub_id, source.hub_config, split=split)
    except Exception as error:  # offline, gated, renamed: say what to do instead
        raise RuntimeError(
            f"Could not load {source.hub_id} ({source.name}) from the Hugging Face Hub: {error}. "
            f"Without Hub access use sample=True (the shipped sample) or path=FILE (a local copy "
            f"with columns {', '.join(source.columns)}).") from error


def _has_kind(table, column, kind):
    from datasets import Json, List, Value

    feature = table.features[column]
    if isinstance(feature, Json):
        return kind in (TEXT, LABEL)  # mixed types: the odd rows are counted as dropped later
    if kind == SHAREGPT:
        return isinstance(feature, List) and isinstance(feature.feature, dict)
    if not isinstance(feature, Value):
        return False
    if kind == TEXT and feature.dtype in ("string", "large_string"):
        return True
    if feature.dtype == "null" or table.data.column(column).null_count == len(table.data):
        return True  # an empty column (CSV reads it as float NaN): rows are dropped as empty later
    if kind == LABEL:
        return feature.dtype.startswith(("int", "uint", "float", "bool"))
    return kind == NUMBER and feature.dtype.startswith(("int", "uint", "float"))


def _as_list(columns):
    return list(columns) if isinstance(columns, (list, tuple)) else [columns]


def _is_text(value):
    return isinstance(value, str)


def _text_or_none(value):
    return value if isinstance(value, str) else None


def _label_or_none(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None  # NaN != NaN: a missing label in a CSV
    return int(value) if value in (0, 1) else None

"""One checked reader for every data file a learner gives: `data --path`, `eval --path`, `plot`, notebooks.

    table = read_table("my_rows.jsonl")                       # a datasets.Dataset
    table = read_table("my_rows.jsonl", skip_bad_rows=True)   # malformed lines skipped, counted, reported

Before `datasets.load_dataset` sees a file, it is checked line by line, so an empty, binary,
truncated, malformed or non-UTF-8 file gets one message that names the file, the line and what was
expected, instead of a parser traceback from deep inside pyarrow. Malformed JSON Lines rows are
refused by default (the message says how to skip them); skip_bad_rows=True skips them and reports
how many and which lines.
"""
import csv
import json
import tempfile
from pathlib import Path

FORMATS = {".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
SKIP_HINT = "pass skip_bad_rows=True (--skip-bad-rows) to skip such lines, counted and reported"
SHOWN_BAD_LINES = 5  # lines named in a report; the count is always complete


def file_format(path):
    """'csv', 'json' or 'parquet' from the file name, or a ValueError listing what is accepted."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: unknown file type {Path(path).suffix!r}; use one of {', '.join(FORMATS)}.")
    return kind


def read_table(path, skip_bad_rows=False):
    """Read a CSV / JSON (Lines) / Parquet file as a datasets.Dataset, after checking every line."""
    from datasets import load_dataset

    path = Path(path)
    kind = check_file(path)
    source, skipped = path, []
    if kind == "json" and not starts_with(path, b"["):
        skipped = bad_json_lines(path)
        if skipped and not skip_bad_rows:
            line, reason = skipped[0]
            raise ValueError(f"{path}, line {line}: {reason}. Expected one JSON object per line; "
                             f"{len(skipped)} line(s) of the file are like this: fix them, or {SKIP_HINT}.")
    with tempfile.TemporaryDirectory(prefix="medlearn-rows-") as folder:
        if skipped:
            source = write_without(path, {line for line, _ in skipped}, Path(folder) / path.name)
            print(describe_skipped(path, skipped), flush=True)
        try:
            return load_dataset(kind, data_files=str(source), split="train", keep_in_memory=True)
        except Exception as error:  # any reader failure becomes one learner-facing message
            raise ValueError(f"{path} could not be read as {kind}: {first_line(error)}") from None


def check_file(path, kind=None):
    """The file's format after checking it exists, is not empty or binary, and is what its name says;
    for text formats, that every line is UTF-8 (and for CSV, that every row has the header's fields)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No file at {path}. Give the path of a CSV, JSON Lines or Parquet file.")
    kind = kind or file_format(path)
    with open(path, "rb") as handle:
        head = handle.read(2048)
    if not head.strip():
        raise ValueError(f"{path} is empty; expected a {kind} file with a header or rows.")
    is_parquet = head.startswith(b"PAR1")
    if kind == "parquet":
        if not is_parquet:
            raise ValueError(f"{path} is not a Parquet file (no PAR1 magic bytes) although it ends in "
                             f".parquet; rename it to what it is (.csv, .jsonl).")
        return kind
    if is_parquet or b"\x00" in head:
        raise ValueError(f"{path} is a binary file, not {kind}; if it is Parquet, name it .parquet.")
    looks_json = head.lstrip()[:1] in (b"{", b"[")
    if kind == "json" and not looks_json:
        raise ValueError(f"{path} is not JSON: it should start with '{{' (JSON Lines) or '[' (a JSON "
                         f"list of rows); if it is a CSV file, name it .csv.")
    if kind == "csv" and looks_json:
        raise ValueError(f"{path} looks like JSON, not CSV; name it .jsonl.")
    check_utf8(path)
    if kind == "csv":
        check_csv_rows(path)
    elif starts_with(path, b"["):
        check_json_document(path)
    return kind


def starts_with(path, prefix):
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip().startswith(prefix)


def check_utf8(path):
    """Raise naming the line of the first byte that is not UTF-8."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}, line {number}: not UTF-8 text (byte {raw[error.start]:#04x} at column "
                    f"{error.start + 1}). Save the file as UTF-8 (pandas: to_csv(..., encoding='utf-8'); "
                    "a spreadsheet: 'CSV UTF-8'), or convert it: iconv -f latin1 -t utf-8.") from None


def check_csv_rows(path):
    """Every row has as many fields as the header, and no quoted field runs to the end of the file."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
            for row in reader:
                if row and len(row) != len(header):
                    raise ValueError(f"{path}, line {reader.line_num}: {len(row)} field(s) where the header "
                                     f"has {len(header)} ({', '.join(header)}). Quote fields that contain "
                                     "commas, or fix the row.")
        except csv.Error as error:
            raise ValueError(f"{path}, line {reader.line_num}: not valid CSV ({error}); the file may be "
                             "truncated or a quote left open.") from None


def check_json_document(path):
    """A file that starts with '[' must be one complete JSON list of row objects."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}, line {error.lineno}: not valid JSON ({error.msg}); the file may be "
                         "truncated. Expected a JSON list of row objects, or one object per line (.jsonl).") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"{path}: expected a JSON list of row objects ({{...}}), one per row.")


def bad_json_lines(path):
    """[(line number, what is wrong)] for each non-blank line of a JSON Lines file that is not an object."""
    bad = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                ending = " (the line is cut off: a truncated file?)" if "Unterminated" in error.msg or \
                    error.pos >= len(line.rstrip()) else ""
                bad.append((number, f"not valid JSON: {error.msg}{ending}"))
                continue
            if not isinstance(row, dict):
                bad.append((number, f"a JSON {type(row).__name__}, not an object {{...}}"))
    return bad


def write_without(path, lines_to_skip, target):
    """A copy of `path` without the given line numbers (the rows load_dataset then reads)."""
    with open(path, encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
        for number, line in enumerate(source, start=1):
            if number not in lines_to_skip:
                out.write(line)
    return target


def describe_skipped(path, skipped):
    shown = "; ".join(f"line {line}: {reason}" for line, reason in skipped[:SHOWN_BAD_LINES])
    more = f"; and {len(skipped) - SHOWN_BAD_LINES} more" if len(skipped) > SHOWN_BAD_LINES else ""
    return f"{path}: skipped {len(skipped)} malformed line(s) ({shown}{more})."


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

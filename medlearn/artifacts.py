"""Files a run leaves behind, written so that an interruption never truncates or duplicates them.

Every write goes to a temporary file in the same folder and is then renamed over the target:
a rename is atomic, so a reader (or a resumed run) sees either the old file or the new one. A
killed process (a Colab disconnect) cannot tear such a file. There is no fsync: it would guard
against a crash of the whole machine, at a cost on every logging step (Google Drive mounts too).
"""
import csv
import io
import json
import os
import tempfile
from pathlib import Path

LOSS_COLUMNS = ["step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_seen",
                "elapsed_seconds", "eval_loss"]


def write_atomic(path, text):
    """Write `text` to `path` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, normal_file_mode())  # mkstemp's 0600 would hide the file from the learner's group
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def normal_file_mode():
    """The mode a plain open() gives a new file in this process: 0666 less the umask."""
    mask = os.umask(0)  # the umask can only be read by setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def use_normal_mode(folder):
    """Give every file in `folder` the process's normal mode (some savers write 0600 temp files)."""
    mode = normal_file_mode()
    for path in Path(folder).iterdir():
        if path.is_file():
            os.chmod(path, mode)


def write_json(path, data):
    write_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def loss_csv_path(artifacts_dir, run):
    return Path(artifacts_dir) / f"{run}_loss.csv"


def stats_json_path(artifacts_dir, run):
    return Path(artifacts_dir) / f"trainer_stats_{run}.json"


def loss_png_path(artifacts_dir, run):
    return Path(artifacts_dir) / f"{run}_loss.png"


def write_loss_rows(path, rows):
    """Write loss rows (dicts keyed by LOSS_COLUMNS), sorted by step, one row per step."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOSS_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["step"]):
        cells = {column: _blank_if_none(row.get(column)) for column in LOSS_COLUMNS}
        cells["step"] = int(row["step"])  # 176, never 176.0 (rows read back from a CSV are floats)
        writer.writerow(cells)
    write_atomic(path, buffer.getvalue())


def read_loss_rows(path):
    """Rows of a medlearn loss CSV as dicts of floats (None where a cell is empty)."""
    with open(path, newline="") as handle:
        return [{key: _float_or_none(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def check_writable(folder):
    """Fail before training, not after an hour, if the artifacts folder cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-")
        probe.close()
    except OSError as error:
        raise RuntimeError(f"Cannot write to the artifacts folder {folder}: {error.strerror}. "
                           "Pass artifacts_dir= a folder you can write to.") from error
    return folder


def _blank_if_none(value):
    return "" if value is None else value


def _float_or_none(value):
    return None if value in (None, "") else float(value)

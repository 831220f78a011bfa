"""Where medlearn builds things once per machine (tiny models, vendor files, real models), and whether a
build's process still runs.

Below every stage: the models, the vendor references and training's run locks all need it.
"""
import os
from pathlib import Path


def cache_root():
    """Where builds are kept: $MEDLEARN_CACHE, else ~/.cache/medlearn."""
    return Path(os.environ.get("MEDLEARN_CACHE", Path.home() / ".cache" / "medlearn"))


def process_alive(pid):
    """True while process `pid` runs on this machine (a zombie, finished but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return not _is_zombie(pid)


def _is_zombie(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False

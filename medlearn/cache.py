"""Where medlearn builds things once per machine (tiny models, vendor files, real models), and whether a
build's process still runs.

Below every stage: the models, the vendor references and training's run locks all need it.
"""
import os
import shutil
import tempfile
from pathlib import Path


def cache_root():
    """Where builds are kept: $MEDLEARN_CACHE, else ~/.cache/medlearn."""
    return Path(os.environ.get("MEDLEARN_CACHE", Path.home() / ".cache" / "medlearn"))


def build_once(path, name, write):
    """Build the folder `path`: `write(workdir)` fills a hidden folder beside it, renamed when complete.

    A killed build never leaves a half-written folder behind, and two processes building the same
    folder at once both succeed (the second one's identical build is dropped).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_builds(path.parent)
    # The builder's pid is in the name, so a later build can tell an abandoned folder from a live one.
    workdir = Path(tempfile.mkdtemp(prefix=f".{name}-{os.getpid()}-", dir=path.parent))
    try:
        write(workdir)
        try:
            workdir.rename(path)
        except OSError:  # another process finished first: its build is identical
            shutil.rmtree(workdir, ignore_errors=True)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return path


def remove_abandoned_builds(folder):
    """Delete the hidden work folders of builds whose process is gone (killed mid-build); returns them."""
    removed = []
    for workdir in Path(folder).glob(".*-*-*"):
        pid = workdir.name.split("-")[-2]
        if workdir.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(workdir, ignore_errors=True)
            removed.append(workdir)
    return removed


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

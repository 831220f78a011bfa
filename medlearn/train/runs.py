"""A run folder (outputs/RUN/): who the run is, who is training it now, and where it can resume.

    outputs/RUN/run.json       the run record: identity, precision, eval-before, segments, state
    outputs/RUN/.lock          the process training it now (pid, host, command)
    outputs/RUN/checkpoints/   Trainer checkpoints, resumable only by a run of the same identity

A run's identity is a hash of its training options, a fingerprint of its data and its seed: two
trainings that share a name but not an identity are different runs, and one never continues the
other's checkpoints. The lock keeps two processes from writing one run folder at once.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from pathlib import Path

from ..artifacts import write_json
from ..cache import process_alive

RECORD = "run.json"
LOCK = ".lock"
# Options that change where files go or how many old checkpoints are kept, not what is trained.
NOT_IDENTITY = ("artifacts_dir", "output_dir", "save_steps", "save_total_limit")


class RunConflictError(RuntimeError):
    """The run name is taken: by a finished run, another run's checkpoints, or a live process."""


# ---------------------------------------------------------------- identity

def training_options(config, model_name):
    """The options that decide what a run trains (its config hash is taken over these)."""
    options = {k: v for k, v in dataclasses.asdict(config).items() if k not in NOT_IDENTITY}
    options["target_modules"] = list(options["target_modules"])
    return dict(options, model=model_name)


def data_fingerprint(*datasets):
    """A short hash of every row of the given datasets (None ones skipped), in order."""
    digest = hashlib.sha256()
    for dataset in datasets:
        if dataset is None:
            continue
        digest.update(f"rows={len(dataset)};".encode())
        for row in dataset:
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def run_identity(config, model_name, train_dataset, eval_dataset):
    options = training_options(config, model_name)
    config_hash = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:12]
    return {"config_hash": config_hash, "data_fingerprint": data_fingerprint(train_dataset, eval_dataset),
            "seed": config.seed, "options": options}


def describe_identity(identity):
    return (f"config {identity['config_hash']}, data {identity['data_fingerprint']}, "
            f"seed {identity['seed']}")


def identity_differences(old, new):
    """'max_steps 40 -> 60' for each option that differs, and the data when it does."""
    changes = [f"{key} {old['options'].get(key)!r} -> {new['options'].get(key)!r}"
               for key in sorted(set(old.get("options", {})) | set(new["options"]))
               if old.get("options", {}).get(key) != new["options"].get(key)]
    if old.get("data_fingerprint") != new["data_fingerprint"]:
        changes.append("the training or eval rows")
    return changes


def same_identity(old, new):
    return all(old.get(key) == new[key] for key in ("config_hash", "data_fingerprint", "seed"))


# ---------------------------------------------------------------- the run record

def read_record(run_dir):
    path = Path(run_dir) / RECORD
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RunConflictError(f"The run record {path} is unreadable ({error}). Delete the run folder "
                               f"{run_dir}, or start again with overwrite=True (--overwrite).") from None


def write_record(run_dir, record):
    write_json(Path(run_dir) / RECORD, record)


def is_finished(run_dir):
    record = read_record(run_dir) if (Path(run_dir) / RECORD).exists() else None
    if record is not None:
        return record.get("state") == "finished"
    return (Path(run_dir) / "adapter").is_dir()  # a run saved before run records existed


def has_started(run_dir):
    """Anything of an earlier training in the folder: a record, checkpoints or an adapter."""
    run_dir = Path(run_dir)
    return ((run_dir / RECORD).exists() or (run_dir / "adapter").exists()
            or any((run_dir / "checkpoints").glob("checkpoint-*")))


def fresh_name(output_dir, run_name):
    """run_name-2, run_name-3, ...: the first name no earlier training has used."""
    number = 2
    while has_started(Path(output_dir) / f"{run_name}-{number}") or (
            Path(output_dir) / f"{run_name}-{number}" / LOCK).exists():
        number += 1
    return f"{run_name}-{number}"


def new_segment(from_step):
    return {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "from_step": from_step, "to_step": from_step,
            "seconds": 0.0, "state": "running"}


# ---------------------------------------------------------------- the lock

def acquire_lock(run_dir):
    """Create run_dir/.lock for this process, or raise naming the live process that holds it.

    A lock left by a process that no longer runs (a killed Colab kernel) is taken over, saying so.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "command": " ".join(sys.argv)[:300]}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            holder = _read_lock(path)
            if holder and _is_alive(holder):
                raise RunConflictError(
                    f"Run {run_dir.name!r} is being trained right now by process {holder.get('pid')} on "
                    f"{holder.get('host')} (since {holder.get('started')}: {holder.get('command')!r}). Wait "
                    f"for it to finish, or give this run another name (run_name= / --run-name).") from None
            print(f"Run {run_dir.name}: process {holder.get('pid') if holder else '?'} that held its lock "
                  "is no longer running; taking the lock over.")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(mine))
        return path
    raise RunConflictError(f"Could not take the lock {path}: another process keeps creating it.")


def release_lock(path):
    holder = _read_lock(path)
    if holder and holder.get("pid") == os.getpid():
        Path(path).unlink(missing_ok=True)


def _read_lock(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None  # half-written by a process killed while taking it: treat as stale


def _is_alive(holder):
    if holder.get("host") != socket.gethostname():
        return True  # another machine (a shared Drive folder): we cannot tell, so assume it runs
    try:
        pid = int(holder["pid"])
    except (KeyError, ValueError, TypeError):
        return False
    return process_alive(pid)


# ---------------------------------------------------------------- clearing and checkpoints

def clear_run(run_dir, artifact_paths):
    """Delete an earlier training of this name (overwrite=True): its folder but the lock, its artifacts."""
    run_dir = Path(run_dir)
    for child in run_dir.iterdir() if run_dir.exists() else []:
        if child.name == LOCK:
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for path in artifact_paths:
        Path(path).unlink(missing_ok=True)


def checkpoint_problem(folder):
    """Why a checkpoint folder cannot be resumed from, or None when it is complete and readable."""
    folder = Path(folder)
    state = folder / "trainer_state.json"
    if not state.exists():
        return "trainer_state.json is missing (killed while saving)"
    try:
        step = json.loads(state.read_text())["global_step"]
    except (OSError, ValueError, KeyError) as error:
        return f"trainer_state.json is damaged ({type(error).__name__}: {error})"
    if f"checkpoint-{step}" != folder.name:
        return f"trainer_state.json says step {step}, not {folder.name}"
    weights = folder / "adapter_model.safetensors"
    problem = safetensors_problem(weights) if weights.exists() else "adapter_model.safetensors is missing"
    if problem:
        return problem
    for needed in ("optimizer.pt", "scheduler.pt"):
        if not (folder / needed).exists():
            return f"{needed} is missing"
    return None


def safetensors_problem(path):
    # A safetensors file is an 8-byte header length, a JSON header, then the tensors' bytes.
    try:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(length))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"{path.name} is damaged ({type(error).__name__})"
    if path.stat().st_size < 8 + length + end:
        return f"{path.name} is truncated ({path.stat().st_size} of {8 + length + end} bytes)"
    return None


def resumable_checkpoint(checkpoint_dir):
    """The newest complete checkpoint; damaged newer ones are named and skipped. None if there is none."""
    folders = sorted(Path(checkpoint_dir).glob("checkpoint-*"), key=_step_of, reverse=True)
    for folder in folders:
        if _step_of(folder) < 0:
            continue
        problem = checkpoint_problem(folder)
        if problem is None:
            return folder
        print(f"Skipping {folder}: {problem}. Falling back to the previous checkpoint.")
    return None


def _step_of(folder):
    try:
        return int(folder.name.split("-")[1])
    except (IndexError, ValueError):
        return -1

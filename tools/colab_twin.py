"""A Colab twin on this CPU: Python 3.13 with Colab's own versions of every package the course uses.

    python tools/colab_twin.py build [--twin .colab-twin]   # make colab-twin: the twin, once (~5 GB)
    python tools/colab_twin.py test  [--twin .colab-twin]   # make colab-test: the course in a copy of it

`build` reads Colab's published package list (tests/data/colab-runtime/pip-freeze.gpu.txt) and installs,
into a Python 3.13 venv, Colab's version of every package the course imports directly or through
Unsloth's own requirements, with every dependency constrained to Colab's list too. Differences that cannot
be helped, all on the CUDA side, which a CPU never loads:
- the package index's torch 2.11.0 is built for CUDA 13.0 (Colab's is the cu128 build from PyTorch's own
  index, which is not reachable here), so the versions read 2.11.0, not 2.11.0+cu128, and pip brings
  that build's nvidia-*-cu13 libraries: Colab's cuda-* and nvidia-* lines are left out of the constraints;
- Python 3.13.0 from pyenv where Colab has 3.13.15 (the same minor version; wheels are the same).

`test` runs what a learner runs, from a clean clone of this repository's HEAD, in a fresh copy of the twin
(an environment layered over the twin, so the twin itself never changes):
1. `python tools/install.py --for colab` (the real install, timed), then again: the second run must call no pip;
2. every Colab package the install moved must be listed in install.JUSTIFIED_COLAB_MOVES;
3. offline: `medlearn runtime`, `medlearn demo`, and every notebook under nbval, as CI checks them.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import install  # noqa: E402
from colab_runtime import SNAPSHOT, find_python, read_freeze, read_python_version  # noqa: E402

TWIN = REPO / ".colab-twin"
# The notebook kernel and the test runner; nbval is the one of them Colab lacks (taken at our pin).
HARNESS = ("ipykernel", "pytest", "nbval")
# Colab's CUDA stack: the index's torch brings its own (CUDA 13) instead.
CUDA_PREFIXES = ("cuda-", "nvidia-")
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "MEDLEARN_GPU_BUDGET_GB": "15"}


def colab_constraints(freeze):
    """Colab's versions as pip constraints: local build labels (+cu128) dropped, the CUDA stack left out."""
    return {name: version.split("+")[0] for name, version in freeze.items()
            if not install.canonical(name).startswith(CUDA_PREFIXES)}


def twin_packages(freeze, requires_dist):
    """The requirements to install: Colab's version of each package that the course, Unsloth or the CPU
    lane's packages name, plus the test harness. Packages Colab lacks are left to the Colab install, as on
    Colab. `requires_dist`: the Requires-Dist lines of unsloth, unsloth_zoo and the CPU lane's packages."""
    colab = {install.canonical(name): version for name, version in colab_constraints(freeze).items()}
    from packaging.requirements import Requirement

    names = {install.canonical(install.package_name(r)) for r in
             install.read_requirements(REPO / "requirements.txt", include_tests=False)}
    # extras' packages too: Colab has most of them, and the closer the twin is to Colab the better
    names |= {install.canonical(Requirement(line).name) for line in requires_dist}
    names |= set(HARNESS)
    wanted = sorted(f"{name}=={colab[name]}" for name in names if name in colab)
    pins = {install.canonical(install.package_name(r)): r for r in
            install.read_requirements(REPO / "requirements.txt", include_tests=True)}
    return wanted + [pins[name] for name in HARNESS if name not in colab]


def cpu_lane_requires_dist():
    """What the CPU lane's packages (installed --no-deps on Colab) import from Colab: tiktoken, jsonschema, ...
    Read from this interpreter, where `make env` installed them at their pins."""
    import importlib.metadata

    return [line for name in install.cpu_lane_packages() for line in importlib.metadata.requires(name) or []]


def build(twin):
    """Create the twin once; rebuilt only when Colab's list, the requirements or this script change."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in (
        SNAPSHOT / "pip-freeze.gpu.txt", REPO / "requirements.txt", Path(__file__)))).hexdigest()[:12]
    stamp = twin / ".colab-twin-ready"
    if stamp.exists() and stamp.read_text() == digest:
        print(f"The Colab twin in {twin} is up to date.")
        return
    python = find_python(read_python_version())
    if python is None:
        raise SystemExit(f"No Python {read_python_version()[:4]} here (pyenv install 3.13 gives one).")
    shutil.rmtree(twin, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([python, "-m", "venv", str(twin)], check=True)
    freeze = read_freeze()
    constraints = twin / "colab-constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(colab_constraints(freeze).items())))
    packages = twin_packages(freeze, install.unsloth_requires_dist() + cpu_lane_requires_dist())
    run([twin / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", constraints, *packages])
    stamp.write_text(digest)
    print(f"Colab twin built in {time.monotonic() - started:.0f} s: {len(packages)} packages at Colab's "
          f"versions and their dependencies, {folder_gb(twin):.1f} GB in {twin}")


def folder_gb(folder):
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file() and not f.is_symlink()) / 1e9


def run(command, **kwargs):
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def layered_env(twin, folder):
    """A venv that sees the twin's packages behind its own: what the Colab install changes lands in it
    (pip leaves the twin's copies alone, "outside environment"), so the twin stays as Colab ships it."""
    python = twin / "bin" / "python"
    subprocess.run([python, "-m", "venv", "--without-pip", folder], check=True)
    run([folder / "bin" / "python", "-m", "ensurepip", "--upgrade", "--default-pip"], capture_output=True)
    (site_packages(folder) / "colab-twin.pth").write_text(
        f"import site; site.addsitedir({str(site_packages(twin))!r})\n")
    return folder / "bin" / "python"


def site_packages(venv):
    return next(Path(venv).glob("lib/python3*/site-packages"))


def versions_in(python):
    """{name: version} as `python` imports them: install.installed_versions, run by that interpreter."""
    import json

    code = (f"import json, sys; sys.path.insert(0, {str(REPO / 'tools')!r}); import install; "
            "print(json.dumps(install.installed_versions()))")
    return json.loads(subprocess.run([str(python), "-c", code], check=True, capture_output=True,
                                     text=True).stdout)


def unjustified_moves(before, after):
    """Colab packages whose version the install changed without a reason in JUSTIFIED_COLAB_MOVES."""
    moved = {name: (version, after.get(name)) for name, version in before.items()
             if after.get(name) != version and name not in ("pip", "setuptools")}
    for name, (was, now) in sorted(moved.items()):
        why = install.JUSTIFIED_COLAB_MOVES.get(name, "NOT JUSTIFIED")
        print(f"  moved {name} {was} -> {now}: {why}")
    return sorted(name for name in moved if name not in install.JUSTIFIED_COLAB_MOVES)


def timed(label, times, command, **kwargs):
    started = time.monotonic()
    done = run(command, **kwargs)
    times[label] = time.monotonic() - started
    return done


def test(twin):
    if not (twin / ".colab-twin-ready").exists():
        raise SystemExit(f"No Colab twin in {twin}: run `make colab-twin` first.")
    times = {}
    with tempfile.TemporaryDirectory(prefix="colab-test-") as tmp:
        tmp = Path(tmp)
        clone = tmp / "medlearn"
        run(["git", "clone", "--quiet", REPO, clone])
        python = layered_env(twin, tmp / "env")
        env = dict(os.environ, MEDLEARN_CACHE=str(tmp / "cache"))
        install_script = [python, clone / "tools" / "install.py", "--for", "colab"]
        timed("install (first run)", times, install_script, cwd=clone, env=env)
        second = timed("install (second run)", times, install_script, cwd=clone, env=env,
                       capture_output=True, text=True)
        print(second.stdout, end="")
        if "pip not called" not in second.stdout or any(mark in second.stdout for mark in (" -m pip ", "Collecting ")):
            raise SystemExit("The second Colab install called pip: it must find everything in place.")
        print("What the install changed of Colab's packages:")
        unjustified = unjustified_moves(versions_in(twin / "bin" / "python"), versions_in(python))
        if unjustified:
            raise SystemExit(f"The Colab install moved {', '.join(unjustified)}: keep them (constraint or "
                             "pin) or justify each in tools/install.py JUSTIFIED_COLAB_MOVES.")
        offline = dict(env, **OFFLINE)
        timed("medlearn runtime", times, [python, "-m", "medlearn", "runtime"], cwd=clone, env=offline)
        timed("medlearn demo", times, [python, "-m", "medlearn", "demo"], cwd=clone, env=offline)
        notebooks = sorted(str(path.relative_to(clone)) for path in (clone / "notebooks").glob("[0-9]*.ipynb"))
        timed("notebooks under nbval", times, [python, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                                               "--nbval-lax", *notebooks], cwd=clone, env=offline)
    print("\nColab twin: green. Times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("build", "test"))
    parser.add_argument("--twin", type=Path, default=TWIN, help="the twin's folder (default .colab-twin/)")
    args = parser.parse_args()
    (build if args.action == "build" else test)(args.twin.resolve())


if __name__ == "__main__":
    main()

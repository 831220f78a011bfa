"""Colab's GPU runtime as Google publishes it (tests/data/colab-runtime/): its packages and its Python.

Read by the Colab install's plan (benchmarks/colab_install_plan.py) and by the Colab twin
(tools/colab_twin.py), which builds those versions into a Python 3.13 environment on this machine.
"""
import glob
import os
import shutil
import subprocess
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "colab-runtime"


def read_freeze(path=SNAPSHOT / "pip-freeze.gpu.txt"):
    """{name: version} of a `pip freeze` listing; direct references take the version in their file name."""
    versions = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
        else:
            name, _, url = line.partition(" @ ")
            version = version_in_file_name(url)
            if version is None:  # a git checkout names no version; nothing we install depends on it
                continue
        versions[name.strip()] = version.strip()
    return versions


def version_in_file_name(url):
    file_name = url.split("#", 1)[0].rsplit("/", 1)[-1]
    if file_name.endswith(".whl"):
        return file_name.split("-")[1]
    for suffix in (".tar.gz", ".zip"):
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)].rsplit("-", 1)[1]
    return None


def read_python_version(path=SNAPSHOT / "os-info-gpu.txt"):
    """'3.13.15' from the 'Python 3.13.15' line of os-info-gpu.txt."""
    for line in Path(path).read_text().splitlines():
        if line.startswith("Python "):
            return line.split()[1]
    raise ValueError(f"{path}: no 'Python X.Y.Z' line")


def find_python(version):
    """An interpreter of Colab's minor version (python3.13 on PATH or under pyenv) that runs, or None."""
    minor = ".".join(version.split(".")[:2])
    candidates = [shutil.which(f"python{minor}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python{minor}")))
    for python in filter(None, candidates):
        # a pyenv shim is on PATH even where its version is not selected, and then fails
        if subprocess.run([python, "-c", ""], capture_output=True).returncode == 0:
            return python
    return None

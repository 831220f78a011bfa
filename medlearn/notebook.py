"""Small conveniences every notebook uses, so no notebook carries its own copy of them."""
from pathlib import Path


def repo_root():
    """The course repository (medlearn is installed editable from it, on Colab and in CI)."""
    return Path(__file__).resolve().parent.parent


def artifacts_dir():
    return repo_root() / "artifacts"


def on_gpu():
    import torch

    return torch.cuda.is_available()


def resolve_auto(value, on_gpu_value, on_cpu_value):
    """Config cells say "auto": the GPU (Colab) choice on a GPU, the CPU (CI) choice otherwise."""
    if value != "auto":
        return value
    return on_gpu_value if on_gpu() else on_cpu_value


def start():
    """The first call of every notebook: the runtime report, and where artifacts will go."""
    from .runtime import print_runtime_report

    report = print_runtime_report()
    print(f"Artifacts folder: {artifacts_dir()}")
    return report


def show_image(path, width=720):
    """Display a PNG the course wrote (a loss plot, a comparison)."""
    from IPython.display import Image, display

    display(Image(filename=str(path), width=width))

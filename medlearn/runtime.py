"""What is this machine? The first thing every notebook prints: GPU, memory, bf16, Colab, versions.

Nothing here imports torch's CUDA kernels or Unsloth, so the report is quick and safe to call first.
"""
import importlib.metadata
import os
import sys

STACK = ("torch", "unsloth", "unsloth_zoo", "transformers", "trl", "peft", "datasets",
         "accelerate", "bitsandbytes")


def stack_versions():
    """Installed versions of the libraries the course pins ('missing' where absent)."""
    versions = {"python": sys.version.split()[0]}
    for package in STACK:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def is_colab():
    return "COLAB_RELEASE_TAG" in os.environ or "google.colab" in sys.modules


def native_bf16():
    """True when GPU 0 computes bf16 natively (compute capability 8.0+), the answer Unsloth acts on.

    torch.cuda.is_bf16_supported() counts emulation by default and says True on a T4, where Unsloth
    loads the model in fp16; asking TRL for bf16 there makes Unsloth refuse to train. So ask Unsloth
    when it runs on this GPU, else torch without emulation (the same rule: capability >= 8.0).
    """
    import torch

    if not torch.cuda.is_available():
        return False
    unsloth = sys.modules.get("unsloth")
    if unsloth is not None and getattr(unsloth, "DEVICE_TYPE", None) == "cuda":
        return bool(unsloth.is_bfloat16_supported())
    return torch.cuda.is_bf16_supported(including_emulation=False)


def gpu_facts():
    """Name, memory and native bf16 support of GPU 0, or None on a machine without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu_name": props.name,
        "gpu_memory_gb": round(props.total_memory / 1024**3, 1),
        "compute_capability": f"{props.major}.{props.minor}",
        "bf16_supported": native_bf16(),
    }


def runtime_report():
    """A dict describing this runtime, with plain-language warnings where it does not fit the course."""
    gpu = gpu_facts()
    report = {"device": "cuda" if gpu else "cpu", "colab": is_colab(), **(gpu or {}),
              "versions": stack_versions(), "warnings": []}
    warnings = report["warnings"]
    if gpu is None:
        warnings.append("No GPU: running the CPU path on a tiny model. On Colab choose "
                        "Runtime > Change runtime type > T4 GPU to train the real models.")
    elif gpu["gpu_memory_gb"] < 14:
        warnings.append(f"{gpu['gpu_name']} has {gpu['gpu_memory_gb']} GB: 7B-9B models in 4-bit "
                        "need about 14 GB; pick a 2B model or lower max_seq_length.")
    if gpu and not gpu["bf16_supported"]:
        warnings.append(f"{gpu['gpu_name']} has no bf16: training uses fp16 (float32 for families "
                        "that overflow in fp16).")
    missing = [name for name, version in report["versions"].items() if version == "missing"]
    if missing:
        warnings.append(f"Not installed: {', '.join(missing)}. Run the install cell "
                        "(or `make env`) first.")
    return report


def print_runtime_report(report=None):
    """Print the report as a learner wants to read it; returns the report."""
    report = report or runtime_report()
    if report["device"] == "cuda":
        print(f"GPU: {report['gpu_name']} ({report['gpu_memory_gb']} GB, "
              f"compute {report['compute_capability']}, native bf16: {report['bf16_supported']})")
    else:
        print("GPU: none (CPU only)")
    print(f"Colab: {report['colab']}")
    print("Stack: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    for warning in report["warnings"]:
        print(f"WARNING: {warning}")
    return report

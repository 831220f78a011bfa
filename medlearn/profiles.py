"""Hardware profiles: make this process see a Colab T4 (or an A100) without having one.

Every GPU-branch decision in medlearn (precision, the model chosen, the runtime report, the memory
plan) reads the hardware through `torch.cuda`. `simulate("t4")` answers those questions as a Colab T4
does, so the GPU branch runs and is tested on a CPU:

    with simulate("t4"):
        choose_precision(TrainConfig(), fp16_safe=True)   # "fp16", as on Colab

Only the questions are answered; nothing runs on a GPU. Kernels, `.to("cuda")` and Unsloth's own
import-time checks still need real hardware (`make gpu-check`): import unsloth before entering a
profile, never inside one.
"""
import contextlib
import os
from dataclasses import dataclass
from types import SimpleNamespace

GIB = 1024**3


@dataclass(frozen=True)
class GpuProfile:
    name: str  # the device name torch reports
    capability: tuple  # CUDA compute capability (major, minor)
    total_memory: int  # bytes, as torch.cuda.get_device_properties(0).total_memory reports them
    colab: bool  # whether the profile also carries Colab's environment markers
    source: str  # where the figures come from

    @property
    def memory_gib(self):
        return self.total_memory / GIB

    @property
    def native_bf16(self):
        return self.capability[0] >= 8  # bf16 tensor cores arrived with Ampere (8.0)


PROFILES = {
    # Unsloth's Colab notebooks print "GPU = Tesla T4. Max memory = 14.741 GB." (total_memory in GiB);
    # NVIDIA's T4 datasheet: Turing, compute capability 7.5, 16 GB GDDR6 of which Colab exposes ~15.
    "t4": GpuProfile("Tesla T4", (7, 5), 15_828_320_256, True,
                     "NVIDIA T4 datasheet; memory as Unsloth's T4 notebooks print it (14.741 GB)"),
    # Colab's paid A100 runtime; Unsloth-style notebooks run there print
    # "GPU = NVIDIA A100-SXM4-40GB. Max memory = 39.557 GB."
    "a100": GpuProfile("NVIDIA A100-SXM4-40GB", (8, 0), 42_474_005_332, True,
                       "NVIDIA A100 datasheet; memory as Unsloth notebooks on an A100 print it (39.557 GB)"),
}

# What Colab sets in every runtime's environment (medlearn.runtime.is_colab reads the first).
COLAB_ENVIRONMENT = {"COLAB_RELEASE_TAG": "release-colab-simulated", "COLAB_GPU": "1"}


def get_profile(name):
    if name not in PROFILES:
        raise ValueError(f"Unknown hardware profile {name!r}. Valid profiles: {', '.join(PROFILES)}.")
    return PROFILES[name]


def _cuda_answers(profile):
    """The torch.cuda functions medlearn asks, answering as `profile` does."""
    properties = SimpleNamespace(name=profile.name, major=profile.capability[0],
                                 minor=profile.capability[1], total_memory=profile.total_memory)

    def is_bf16_supported(including_emulation=True):
        # torch's default counts emulation: on a T4 it says True although nothing runs in bf16 natively.
        return True if including_emulation else profile.native_bf16

    return {
        "is_available": lambda: True,
        "device_count": lambda: 1,
        "current_device": lambda: 0,
        "get_device_name": lambda device=None: profile.name,
        "get_device_capability": lambda device=None: profile.capability,
        "get_device_properties": lambda device=None: properties,
        "is_bf16_supported": is_bf16_supported,
        "mem_get_info": lambda device=None: (profile.total_memory, profile.total_memory),
        "memory_allocated": lambda device=None: 0,
        "memory_reserved": lambda device=None: 0,
        "max_memory_reserved": lambda device=None: 0,
        "empty_cache": lambda: None,
    }


@contextlib.contextmanager
def simulate(name, colab=None):
    """Within the block, torch.cuda and the environment answer as the profile's GPU (and Colab) do."""
    import torch

    profile = get_profile(name)
    colab = profile.colab if colab is None else colab
    saved = {attr: getattr(torch.cuda, attr) for attr in _cuda_answers(profile)}
    saved_env = {key: os.environ.get(key) for key in COLAB_ENVIRONMENT}
    try:
        for attr, answer in _cuda_answers(profile).items():
            setattr(torch.cuda, attr, answer)
        if colab:
            os.environ.update(COLAB_ENVIRONMENT)
        else:
            for key in COLAB_ENVIRONMENT:
                os.environ.pop(key, None)
        yield profile
    finally:
        for attr, original in saved.items():
            setattr(torch.cuda, attr, original)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

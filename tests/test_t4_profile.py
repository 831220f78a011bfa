"""The GPU branch of every decision, executed on the CPU under a simulated Colab T4 (and an A100).

A learner's first real notebook runs on a T4: compute capability 7.5, 14.7 GiB, bf16 only emulated.
These tests make the process see that hardware (medlearn.profiles.simulate) and assert what medlearn
decides there, so a decision that would stop a learner on Colab fails here first.
"""
from pathlib import Path

import pytest
import torch
import unsloth  # noqa: F401  (imported on the real CPU: its import-time checks cannot run under a profile)

from medlearn.models import choose_model
from medlearn.profiles import simulate
from medlearn.registry import MODELS, get_model
from medlearn.runtime import print_runtime_report, runtime_report
from medlearn.train import build_config, choose_precision, torch_dtype


@pytest.fixture
def t4():
    with simulate("t4") as profile:
        yield profile


@pytest.fixture
def a100():
    with simulate("a100") as profile:
        yield profile


def test_the_t4_profile_answers_as_torch_does_on_a_t4(t4):
    assert torch.cuda.is_available()
    assert torch.cuda.get_device_capability() == (7, 5)
    assert round(torch.cuda.get_device_properties(0).total_memory / 1024**3, 3) == 14.741
    assert torch.cuda.is_bf16_supported() is True  # torch's default counts emulation
    assert torch.cuda.is_bf16_supported(including_emulation=False) is False


def test_the_profile_is_undone_after_the_block():
    with simulate("t4"):
        pass
    assert not torch.cuda.is_available()
    assert runtime_report()["colab"] is False


def test_a_t4_trains_in_fp16_not_the_bf16_torch_claims(t4):
    # The bug: choose_precision asked torch.cuda.is_bf16_supported(), True on a T4 by emulation;
    # Unsloth then loaded fp16 and refused to train with bf16=True.
    config = build_config()
    assert choose_precision(config, get_model("llama-3.1-8b-instruct").fp16_safe) == "fp16"
    assert choose_precision(config, get_model("gemma-3-1b-it").fp16_safe) == "fp32"
    assert choose_precision(build_config(precision="fp32"), True) == "fp32"


def test_an_a100_trains_in_bf16(a100):
    assert choose_precision(build_config(), get_model("llama-3.1-8b-instruct").fp16_safe) == "bf16"
    assert choose_precision(build_config(), get_model("gemma-3-1b-it").fp16_safe) == "bf16"


def unsloth_bf16_rule():
    """Unsloth's own decision, read from the installed Unsloth: bf16 only at capability 8.0 or more."""
    # _gpu_init runs only on a GPU (on a CPU it stops at import), so read it rather than import it.
    source = (Path(unsloth.__file__).parent / "_gpu_init.py").read_text()
    rule = "SUPPORTS_BFLOAT16 = _cuda_cap is not None and _cuda_cap[0] >= 8"
    assert rule in source, "Unsloth changed how it decides bf16: re-read unsloth/_gpu_init.py"
    from unsloth.device_type import cuda_bf16_capability

    capability = cuda_bf16_capability()  # Unsloth's reading of the (simulated) device
    return capability is not None and capability[0] >= 8


@pytest.mark.parametrize("profile", ["t4", "a100"])
def test_the_dtype_handed_to_unsloth_and_trls_flags_agree_with_unsloth(profile):
    # (Building the SFTConfig itself here would test Unsloth's CPU patches, which rewrite the flags.)
    from medlearn.train.trainer import precision_flags

    with simulate(profile):
        unsloth_bf16 = unsloth_bf16_rule()
        for name, spec in MODELS.items():
            precision = choose_precision(build_config(), spec.fp16_safe)
            dtype = torch_dtype(precision)
            flags = precision_flags(precision)
            # Unsloth turns a bf16 request into fp16 where it decides bf16 is unsupported...
            assert not (dtype == torch.bfloat16 and not unsloth_bf16), name
            # ...and refuses to train an fp16 model with bf16=True (or a bf16 model with fp16=True).
            assert (flags["bf16"], flags["fp16"]) == (dtype == torch.bfloat16, dtype == torch.float16), name
            if spec.fp16_safe:
                assert dtype == (torch.bfloat16 if unsloth_bf16 else torch.float16), name


def test_the_runtime_report_on_a_t4(t4, capsys):
    report = runtime_report()
    assert (report["device"], report["gpu_name"], report["compute_capability"]) == ("cuda", "Tesla T4", "7.5")
    assert report["gpu_memory_gb"] == 14.7 and report["bf16_supported"] is False and report["colab"]
    assert any("no bf16" in warning and "fp16" in warning for warning in report["warnings"])
    assert not any("tiny model" in warning for warning in report["warnings"])
    print_runtime_report(report)
    assert "GPU: Tesla T4 (14.7 GB, compute 7.5, native bf16: False)" in capsys.readouterr().out


def test_the_runtime_report_on_an_a100_has_no_precision_warning(a100):
    report = runtime_report()
    assert report["bf16_supported"] is True
    assert not any("bf16" in warning for warning in report["warnings"])


def test_a_t4_loads_the_real_models_not_the_tiny_stand_ins(t4):
    for name, spec in MODELS.items():
        choice = choose_model(name)
        assert (choice.tiny, choice.source) == (False, spec.hub_id), name


def test_medlearn_runtime_profile_t4_prints_the_t4_decisions(capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["runtime", "--profile", "t4"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "GPU: Tesla T4" in out and "Colab: True" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()[:1] and
             line.split()[0] in MODELS}
    assert lines["llama-3.1-8b-instruct"] == ["fp16", get_model("llama-3.1-8b-instruct").hub_id]
    assert lines["gemma-3-1b-it"][0] == "fp32"
    assert not torch.cuda.is_available()  # the command put the machine back

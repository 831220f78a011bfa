"""The memory plan against Unsloth's published T4 figures, and the ledger of live models.

Published figures (unslothai/notebooks, nb/*.ipynb, printed on a Tesla T4 at r=16 on all seven
projections): "Number of trainable parameters", the model.safetensors download size, "GB of
memory reserved" after loading and "Peak reserved memory" after 60 steps.
"""
import json
import shutil
import warnings

import pytest
import torch

from medlearn import footprint, memory
from medlearn.cli import main
from medlearn.models import ModelChoice, choose_model, load_model
from medlearn.registry import MODELS

PRINTED_TRAINABLE = {"llama-3.1-8b-instruct": 41_943_040,  # nb/Llama3.1_(8B)-Alpaca.ipynb
                     "mistral-7b-instruct-v0.3": 41_943_040,  # nb/Mistral_v0.3_(7B)-Conversational.ipynb
                     "gemma-2-9b-it": 54_018_048}  # nb/Gemma2_(9B)-Alpaca.ipynb
# model.safetensors of the bnb-4bit repo each notebook downloads, in GB (10**9) as its progress bar says.
PRINTED_FILE_GB = {"llama-3.1-8b-instruct": 5.70, "mistral-7b-instruct-v0.3": 4.14, "gemma-2-9b-it": 6.13}


@pytest.fixture(autouse=True)
def empty_ledger(monkeypatch):
    monkeypatch.setattr(memory, "_BOOKINGS", [])
    monkeypatch.delenv(memory.BUDGET_ENV, raising=False)


# ---------------------------------------------------------------- the estimate

def test_every_registry_model_has_its_architecture_facts():
    assert set(footprint.SHAPES) == set(MODELS)


@pytest.mark.parametrize("name", sorted(PRINTED_TRAINABLE))
def test_lora_size_equals_unsloths_printed_trainable_parameters(name):
    assert footprint.lora_params(footprint.SHAPES[name], 16, footprint.PROJECTIONS) == PRINTED_TRAINABLE[name]


@pytest.mark.parametrize("name", sorted(PRINTED_FILE_GB))
def test_4bit_weights_match_the_size_of_the_published_4bit_checkpoint(name):
    weights_gb = footprint.weights_gib(footprint.SHAPES[name]) * footprint.GIB / 1e9
    assert weights_gb == pytest.approx(PRINTED_FILE_GB[name], rel=0.02)


def test_estimate_against_published_t4_runs():
    for row in memory.compare_published():
        assert row["after_load_estimate"] == pytest.approx(row["after_load_published"], abs=0.15), row
        # Full-length batches bound the published runs from above (their rows were shorter),
        # and not by more than the logits of one full batch.
        assert row["peak_published"] <= row["peak_estimate"] <= row["peak_published"] + 1.5, row


def test_defaults_fit_a_t4_for_every_course_model():
    for name in MODELS:
        plan = memory.plan_memory(name, gpu_gb=footprint.T4_GIB)
        assert plan.fits and plan.peak_gb < footprint.T4_GIB, plan.describe()


def test_longer_sequences_cost_more_and_unsloth_checkpointing_costs_least():
    default = memory.plan_memory("llama-3.1-8b-instruct").peak_gb
    longer = memory.plan_memory("llama-3.1-8b-instruct", {"max_seq_length": 4096}).peak_gb
    plain = memory.plan_memory("llama-3.1-8b-instruct", {"use_gradient_checkpointing": True}).peak_gb
    none = memory.plan_memory("llama-3.1-8b-instruct", {"use_gradient_checkpointing": False}).peak_gb
    assert default < longer and default < plain < none


def test_logits_chunk_follows_unsloths_fused_loss():
    import unsloth  # noqa: F401  (unsloth_zoo refuses to import before it)
    from unsloth_zoo.fused_losses.cross_entropy_loss import get_chunk_size

    for tokens, vocab, target in [(2048, 128256, 4), (4096, 128256, 4), (4096, 128256, 2),
                                  (16384, 256000, 3.4), (512, 32768, 1)]:
        chunks = get_chunk_size(1, tokens, vocab, target_gb=target)
        ours = footprint.loss_chunk_gib(tokens, vocab, free_gib=2 * target)
        assert ours == pytest.approx(tokens * vocab * footprint.CE_BYTES_PER_LOGIT / 2**30 / chunks)


def test_a_run_that_does_not_fit_says_what_to_change_and_each_change_fits():
    plan = memory.plan_memory("gemma-2-9b-it", {"max_seq_length": 8192}, gpu_gb=footprint.T4_GIB)
    assert not plan.fits and plan.peak_gb > footprint.T4_GIB
    assert any(tip.startswith("max_seq_length=") for tip in plan.advice)
    assert any("gemma-2-2b-it" in tip for tip in plan.advice)
    for tip in plan.advice:
        if tip.startswith("max_seq_length="):
            length = int(tip.split("=")[1])
            assert memory.plan_memory("gemma-2-9b-it", {"max_seq_length": length}, footprint.T4_GIB).fits
    assert "does NOT fit" in plan.describe()


def test_a_plan_that_does_not_fit_raises_under_a_budget_and_warns_without(monkeypatch):
    plan = memory.plan_memory("llama-3.1-8b-instruct", {"max_seq_length": 32768})
    with pytest.warns(memory.MemoryWarning, match="does NOT fit"):
        plan.check()
    monkeypatch.setenv(memory.BUDGET_ENV, "15")
    with pytest.raises(memory.MemoryBudgetError, match="max_seq_length="):
        memory.plan_memory("llama-3.1-8b-instruct", {"max_seq_length": 32768}).check()


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown training option.*max_len.*Valid options"):
        memory.plan_memory("llama-3.1-8b-instruct", {"max_len": 4096})
    with pytest.raises(ValueError, match="Unknown model 'llama-9'"):
        memory.plan_memory("llama-9")
    with pytest.raises(ValueError, match="use_gradient_checkpointing='sometimes'"):
        memory.plan_memory("llama-3.1-8b-instruct", {"use_gradient_checkpointing": "sometimes"})


def test_cli_prints_the_plan_and_the_comparison(capsys):
    with pytest.raises(SystemExit) as done:
        main(["memory", "--model", "llama-3.1-8b-instruct", "--set", "max_seq_length=4096", "--gpu-gb", "15",
              "--json"])
    assert done.value.code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["fits"] and plan["gpu_gb"] == 15 and plan["parts_gb"]["activations"] > 0
    with pytest.raises(SystemExit) as done:
        main(["memory", "--model", "llama-3.1-8b-instruct", "--set", "max_seq_length=32768"])
    assert done.value.code == 1 and "does NOT fit" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["memory", "--compare"])
    assert "nb/Llama3.1_(8B)-Alpaca.ipynb" in capsys.readouterr().out


# ---------------------------------------------------------------- the ledger

def stand_in(name="llama-3.1-8b-instruct"):
    """The tiny model standing in for `name` on a CPU, as choose_model gives it."""
    return choose_model(name, use_tiny=True)


def book_fake(choice):
    model = torch.nn.Linear(4, 4)
    return memory.book(model, memory.reserve(choice)), model


def test_a_booking_ends_when_the_model_is_garbage_collected():
    model, _ = book_fake(stand_in())
    assert [b.stands_for for b in memory.alive_models()] == ["llama-3.1-8b-instruct"]
    del model, _
    assert memory.release_models() == []


def test_a_tiny_stand_in_is_booked_at_the_real_models_t4_footprint():
    model, _ = book_fake(stand_in())
    booked = memory.alive_models()[0].gib
    assert booked == pytest.approx(footprint.resident_gib(footprint.SHAPES["llama-3.1-8b-instruct"]))
    assert 5.5 < booked < 6.5  # Unsloth's T4 notebook: 5.984 GB reserved after loading


def test_a_second_big_model_warns_and_a_third_raises_under_a_budget(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_ENV, "15")
    first = book_fake(stand_in())
    with pytest.warns(memory.MemoryWarning, match="while llama-3.1-8b-instruct .* is alive"):
        second = book_fake(stand_in("mistral-7b-instruct-v0.3"))
    with pytest.raises(memory.MemoryBudgetError) as error:
        memory.reserve(stand_in())
    assert "llama-3.1-8b-instruct" in str(error.value) and "mistral-7b-instruct-v0.3" in str(error.value)
    assert "free(result)" in str(error.value)
    del second
    memory.reserve(stand_in())  # one freed: the next load fits again


def test_without_a_budget_going_over_only_warns():
    held = [book_fake(stand_in()) for _ in range(2)]
    with pytest.warns(memory.MemoryWarning, match="over 14.75 GB"):
        memory.reserve(stand_in("gemma-2-9b-it"))
    assert len(held) == 2


def test_loading_a_tiny_model_by_name_books_its_own_size():
    model, _ = load_model(choose_model("tiny-llama-3"), max_seq_length=256, load_in_4bit=False)
    booking = memory.alive_models()[0]
    assert booking.stands_for == "tiny-llama-3"
    assert booking.gib == pytest.approx(sum(p.numel() * p.element_size() for p in model.parameters()) / 2**30)
    assert booking.gib < 0.01


def test_loading_a_stand_in_books_the_real_model():
    model, _ = load_model(stand_in(), max_seq_length=256, load_in_4bit=False)
    assert memory.alive_models()[0].stands_for == "llama-3.1-8b-instruct"
    assert memory.alive_models()[0].gib > 5
    del model
    assert memory.release_models() == []


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import train_tiny_adapter

    return train_tiny_adapter(tmp_path_factory.mktemp("memory"), "memory", max_steps=2)


def test_train_books_its_model_and_free_releases_it(tiny_run, monkeypatch):
    monkeypatch.setattr(memory, "_BOOKINGS", [])
    model, _ = load_model(choose_model("tiny-llama-3"), max_seq_length=256, load_in_4bit=False)
    holder = type("Result", (), {})()
    holder.model = model
    del model
    assert len(memory.alive_models()) == 1
    assert memory.free(holder) == [] and holder.model is None


def test_adapters_and_chat_models_are_booked_as_the_model_they_were_trained_on(tiny_run, tmp_path):
    from medlearn.adapters import load_adapter
    from medlearn.inference import load_chat_model

    folder = shutil.copytree(tiny_run.adapter_dir, tmp_path / "adapter")
    info = json.loads((folder / "medlearn_run.json").read_text())
    info["choice"]["requested"] = "llama-3.1-8b-instruct"  # as a CPU run of notebook 04 writes it
    (folder / "medlearn_run.json").write_text(json.dumps(info))
    model, _, _ = load_adapter(folder, load_in_4bit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", memory.MemoryWarning)  # a second 8B alive: warned, tested above
        chat_model, _, _ = load_chat_model(str(folder), load_in_4bit=False)
    assert [b.stands_for for b in memory.alive_models()] == ["llama-3.1-8b-instruct"] * 2
    assert memory.alive_models()[0].label == str(folder)
    del model, chat_model
    assert memory.release_models() == []


def test_free_warns_when_the_model_is_still_referenced_elsewhere(tiny_run):
    model, _ = load_model(choose_model("tiny-llama-3"), max_seq_length=256, load_in_4bit=False)
    holder = type("Result", (), {"model": model})()
    with pytest.warns(memory.MemoryWarning, match="still referenced elsewhere"):
        alive = memory.free(holder)
    assert len(alive) == 1 and model is not None


def test_stands_for_follows_adapter_and_merged_folders(tmp_path):
    from medlearn.models import write_run_info

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    write_run_info(adapter, ModelChoice("gemma-2-9b-it", "x", "gemma", "gemma", True))
    merged = tmp_path / "merged"
    merged.mkdir()
    write_run_info(merged, ModelChoice(str(merged), str(merged), "gemma", "gemma", True),
                   {"merged_from": str(adapter)})
    assert memory.stands_for(merged) == memory.stands_for(adapter) == "gemma-2-9b-it"


def test_a_model_from_outside_the_course_is_booked_at_its_measured_size(tmp_path):
    plain = ModelChoice(str(tmp_path), str(tmp_path), "llama-3", "llama-3", tiny=False)  # no run info
    model = torch.nn.Linear(64, 64)
    memory.book(model, memory.reserve(plain))
    assert memory.alive_models()[0].stands_for == str(tmp_path)
    assert memory.alive_models()[0].gib == pytest.approx((64 * 64 + 64) * 4 / 2**30)

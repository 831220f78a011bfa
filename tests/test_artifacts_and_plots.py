"""Artifacts are written whole or not at all; plots read our CSVs and the common Step,Loss ones."""
import os
import stat

import pytest

from medlearn.artifacts import check_writable, read_loss_rows, write_atomic, write_loss_rows
from medlearn.plots import plot_loss_curves, read_loss_csv
from medlearn.train import build_config, latest_checkpoint


def test_loss_rows_are_written_sorted_once_per_step(tmp_path):
    path = tmp_path / "run_loss.csv"
    write_loss_rows(path, [{"step": 2, "loss": 1.5}, {"step": 1, "loss": 2.0, "eval_loss": 2.2}])
    rows = read_loss_rows(path)
    assert [r["step"] for r in rows] == [1.0, 2.0]
    assert rows[0]["eval_loss"] == 2.2 and rows[1]["eval_loss"] is None
    assert path.read_text().splitlines()[0] == (
        "step,epoch,loss,learning_rate,grad_norm,tokens_seen,elapsed_seconds,eval_loss")


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "stats.json"
    write_atomic(path, "old")

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new and longer")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]  # no temp file left behind


def test_unwritable_artifacts_folder_fails_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(locked, os.W_OK):  # root ignores permissions: use a path under a file instead
        locked = tmp_path / "a_file"
        locked.write_text("x")
        locked = locked / "artifacts"
    with pytest.raises(RuntimeError, match="Cannot write to the artifacts folder"):
        check_writable(locked)


def test_unknown_knob_lists_the_valid_ones():
    with pytest.raises(ValueError) as error:
        build_config(lora_rank=8)
    assert "lora_rank" in str(error.value) and "lora_r" in str(error.value)
    with pytest.raises(ValueError, match="precision"):
        build_config(precision="int4")


def test_t4_defaults():
    config = build_config()
    assert (config.per_device_train_batch_size, config.gradient_accumulation_steps) == (2, 4)
    assert config.optim == "adamw_8bit" and config.lora_r == 16 and config.max_seq_length == 2048
    assert set(config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                          "up_proj", "down_proj"}
    assert config.use_gradient_checkpointing == "unsloth" and config.seed == 3407


def make_checkpoint(folder, step, state_text=None):
    """A checkpoint folder with the files a Trainer writes (trainer_state.json last)."""
    from safetensors.torch import save_file
    import torch

    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    save_file({"lora_A": torch.zeros(2, 2)}, str(path / "adapter_model.safetensors"))
    for name in ("optimizer.pt", "scheduler.pt"):
        (path / name).write_bytes(b"x")
    if state_text is not False:
        (path / "trainer_state.json").write_text(state_text or f'{{"global_step": {step}}}')
    return path


def test_latest_checkpoint_skips_half_written_and_damaged_ones(tmp_path, capsys):
    make_checkpoint(tmp_path, 10)
    make_checkpoint(tmp_path, 20)
    make_checkpoint(tmp_path, 30, state_text=False)  # killed before trainer_state.json
    make_checkpoint(tmp_path, 40, state_text='{"global_st')  # torn
    truncated = make_checkpoint(tmp_path, 50)
    weights = truncated / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4])
    assert latest_checkpoint(tmp_path).name == "checkpoint-20"
    said = capsys.readouterr().out
    assert "checkpoint-50: adapter_model.safetensors is truncated" in said
    assert "checkpoint-40: trainer_state.json is damaged" in said and "checkpoint-30" in said
    assert latest_checkpoint(tmp_path / "missing") is None


def test_plot_reads_both_csv_flavours_and_writes_a_png(tmp_path):
    ours = tmp_path / "mine_loss.csv"
    write_loss_rows(ours, [{"step": s, "loss": 3 - s / 10, "eval_loss": 3.1 - s / 10 if s % 5 == 0 else None}
                           for s in range(1, 21)])
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("Step,Loss\n1,2.9\n2,2.7\n3,2.6\n")
    assert list(read_loss_csv(theirs)["loss"]) == [2.9, 2.7, 2.6]
    png = plot_loss_curves([ours, theirs], tmp_path / "both.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_plot_rejects_a_csv_without_loss(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,accuracy\n1,0.5\n")
    with pytest.raises(ValueError, match="no step or loss column"):
        read_loss_csv(bad)




def test_4bit_on_a_cpu_without_the_kernels_says_what_to_change(monkeypatch):
    import unsloth  # noqa: F401
    import unsloth_zoo.cpu.runtime as runtime

    from medlearn.models import check_4bit_supported

    monkeypatch.setattr(runtime, "cpu_bnb_4bit_supported", lambda: False)
    with pytest.raises(RuntimeError, match="load_in_4bit=False"):
        check_4bit_supported()

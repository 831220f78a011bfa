"""Training on the tiny models: the loss falls, artifacts are right, runs resume and repeat exactly."""
import json

import pytest
from conftest import measured

from medlearn.artifacts import LOSS_COLUMNS, read_loss_rows

KNOBS = dict(max_steps=12, per_device_train_batch_size=4, gradient_accumulation_steps=1,
             learning_rate=3e-3, warmup_steps=1, max_seq_length=256, eval_steps=6, save_steps=100)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    from medlearn.train import train

    root = tmp_path_factory.mktemp("run")
    return train("tiny-llama-3", data.train, data.eval, run_name="llama3-test",
                 artifacts_dir=root / "artifacts", output_dir=root / "outputs", **KNOBS)


def test_training_and_eval_loss_fall(run):
    # Both fell by at least 0.86 over tools/cpu_spread.py's six CPU settings; 0.3 is a clear fall, not noise.
    rows = read_loss_rows(run.loss_csv)
    losses = [r["loss"] for r in rows if r["loss"] is not None]
    assert measured("train: mean of first 3 - last 3 losses", sum(losses[:3]) / 3 - sum(losses[-3:]) / 3) > 0.3, losses
    assert measured("train: eval loss drop", run.stats["eval_loss_before"] - run.stats["eval_loss_after"]) > 0.3


def test_loss_csv_has_the_documented_columns_and_monotonic_steps(run):
    header = run.loss_csv.read_text().splitlines()[0].split(",")
    assert header == LOSS_COLUMNS
    rows = read_loss_rows(run.loss_csv)
    steps = [int(r["step"]) for r in rows]
    assert steps == list(range(0, 13))  # step 0 is the evaluation before training
    assert [int(r["step"]) for r in rows if r["eval_loss"] is not None] == [0, 6, 12]
    tokens = [r["tokens_seen"] for r in rows[1:]]
    assert tokens == sorted(tokens) and tokens[0] > 0


def test_stats_json_parses_and_agrees_with_the_csv(run):
    stats = json.loads(run.stats_json.read_text())
    losses = [r["loss"] for r in read_loss_rows(run.loss_csv) if r["loss"] is not None]
    assert stats["mean_loss"] == pytest.approx(sum(losses) / len(losses))
    assert stats["final_loss"] == losses[-1] and stats["steps"] == 12
    assert stats["peak_rss_gb"] > 0 and stats["versions"]["trl"] == "1.15.0"
    assert stats["config"]["lora_r"] == 16 and stats["config"]["template"] == "llama-3"


def test_plots_and_adapter_are_written(run):
    assert run.plot_png.read_bytes()[:4] == b"\x89PNG"
    assert (run.plot_png.parent / "all_models.png").exists()
    saved = {p.name for p in run.adapter_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "medlearn_run.json",
            "training_config.json", "tokenizer.json"} <= saved


def test_same_seed_gives_the_same_losses(data, tmp_path):
    from medlearn.train import train

    knobs = dict(KNOBS, max_steps=4, eval_steps=0)
    runs = [train("tiny-gemma", data.train, run_name=f"seed{i}", artifacts_dir=tmp_path / "a",
                  output_dir=tmp_path / "o", **knobs) for i in range(2)]
    losses = [[r["loss"] for r in read_loss_rows(result.loss_csv)] for result in runs]
    assert losses[0] == losses[1] and len(losses[0]) == 4


# Killing and resuming a run: tests/test_resume.py.


def test_empty_training_set_fails_before_loading_a_model(data):
    from medlearn.train import train

    with pytest.raises(ValueError, match="training set is empty"):
        train("tiny-llama-3", data.train.select([]))


def test_unwritable_artifacts_folder_fails_before_training(data, tmp_path):
    from medlearn.train import train

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RuntimeError, match="Cannot write to the artifacts folder"):
        train("tiny-llama-3", data.train, artifacts_dir=blocker / "artifacts")


def test_max_length_shorter_than_every_prompt_is_refused(data, tmp_path):
    from medlearn.train import train

    with pytest.raises(ValueError, match="fully masked.*max_seq_length=16"):
        train("tiny-llama-3", data.train, artifacts_dir=tmp_path, output_dir=tmp_path,
              **dict(KNOBS, max_seq_length=16))

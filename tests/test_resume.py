"""Exact resume and run names: a killed run continues as if it had never stopped, and runs never mix.

The reference is one uninterrupted run; the same run is then killed (SIGKILL, a Colab disconnect)
three times at random steps and resumed each time, once from behind a damaged newest checkpoint.
Its loss CSV and adapter must equal the reference's.
"""
import json
import os
import random
import stat
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO
from medlearn.artifacts import read_loss_rows

KNOBS = dict(max_steps=8, per_device_train_batch_size=4, gradient_accumulation_steps=1, learning_rate=3e-3,
             warmup_steps=1, max_seq_length=256, eval_steps=4, save_steps=2, save_total_limit=2)

TRAIN_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    from transformers import TrainerCallback
    from medlearn.data import prepare_dataset
    from medlearn.train import train

    class KillAt(TrainerCallback):  # a Colab disconnect: no clean-up of any kind
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.global_step == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)

    data = prepare_dataset(["medquad"], sample=True, eval_fraction=0.2)
    kill_at = int(sys.argv[2])
    train("tiny-llama-3", data.train, data.eval, run_name="killed", resume=True,
          artifacts_dir=sys.argv[1] + "/a", output_dir=sys.argv[1] + "/o",
          callbacks=[KillAt()] if kill_at else [], **json.loads(sys.argv[3]))
""")


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    from medlearn.train import train

    root = tmp_path_factory.mktemp("reference")
    return train("tiny-llama-3", data.train, data.eval, artifacts_dir=root / "a", output_dir=root / "o",
                 **KNOBS)


def comparable(rows):
    """CSV rows without the wall-clock column (the only one a resume may change)."""
    return [{k: v for k, v in row.items() if k != "elapsed_seconds"} for row in rows]


def run_segment(root, kill_at):
    script = root / "train_killed.py"
    script.write_text(TRAIN_SCRIPT)
    return subprocess.run([sys.executable, str(script), str(root), str(kill_at), json.dumps(KNOBS)],
                          cwd=REPO, capture_output=True, text=True)


def test_run_killed_three_times_ends_equal_to_the_uninterrupted_run(reference, data, tmp_path):
    from medlearn.train.runs import RunConflictError
    from medlearn.train import train

    seed = random.randrange(10**6)
    rng = random.Random(seed)
    kills = [rng.randint(2, 3), rng.randint(4, 5), rng.randint(6, 7)]
    note = f"kill steps {kills} (random seed {seed})"
    for number, kill_at in enumerate(kills):
        killed = run_segment(tmp_path, kill_at)
        assert killed.returncode == -9, f"{note}: {killed.stdout[-1500:]}{killed.stderr[-1500:]}"
        if number == 0:  # another run of the same name may not continue these checkpoints
            with pytest.raises(RunConflictError, match=r"seed 3407\).*seed 9\).*seed 3407 -> 9"):
                train("tiny-llama-3", data.train, data.eval, run_name="killed", resume=True,
                      artifacts_dir=tmp_path / "a", output_dir=tmp_path / "o", **dict(KNOBS, seed=9))
    newest = max((tmp_path / "o" / "killed" / "checkpoints").glob("checkpoint-*"),
                 key=lambda p: int(p.name.split("-")[1]))
    state = newest / "trainer_state.json"
    state.write_text(state.read_text()[:40])  # a checkpoint torn by a full Drive or a crash
    final = run_segment(tmp_path, 0)
    assert final.returncode == 0, f"{note}: {final.stderr[-3000:]}"
    assert f"Skipping {newest}: trainer_state.json is damaged" in final.stdout, final.stdout[-2000:]

    resumed = read_loss_rows(tmp_path / "a" / "killed_loss.csv")
    expected = read_loss_rows(reference.loss_csv)
    assert [r["step"] for r in resumed] == [r["step"] for r in expected] == list(range(0, 9))
    for ours, theirs in zip(comparable(resumed), comparable(expected)):
        for column, value in theirs.items():
            assert ours[column] == pytest.approx(value, abs=1e-6) if value is not None else ours[column] is None, \
                (note, column, ours, theirs)
    adapter = tmp_path / "o" / "killed" / "adapter" / "adapter_model.safetensors"
    assert adapter.read_bytes() == (reference.adapter_dir / "adapter_model.safetensors").read_bytes(), note

    stats = json.loads((tmp_path / "a" / "trainer_stats_killed.json").read_text())
    assert len(stats["segments"]) == 4 and stats["steps"] == 8
    assert stats["runtime_seconds"] == pytest.approx(sum(s["seconds"] for s in stats["segments"]), abs=0.01)
    assert stats["tokens_seen"] == reference.stats["tokens_seen"] > 0
    assert stats["eval_loss_before"] == reference.stats["eval_loss_before"] is not None
    assert stats["identity"] == {k: v for k, v in reference.stats["identity"].items()}
    assert all(line.split(",")[0].isdigit() for line in (tmp_path / "a" / "killed_loss.csv").read_text().split()[1:])


def test_a_finished_run_name_is_not_reused_silently(reference, data):
    from medlearn.train.runs import RunConflictError
    from medlearn.train import train

    where = dict(artifacts_dir=reference.loss_csv.parent, output_dir=reference.adapter_dir.parent.parent)
    assert reference.run_name == "tiny-llama-3"
    with pytest.raises(RunConflictError, match="already finished.*overwrite=True"):
        train("tiny-llama-3", data.train, run_name="tiny-llama-3", **where, **KNOBS)
    with pytest.raises(RunConflictError, match="already finished.*nothing to resume"):
        train("tiny-llama-3", data.train, data.eval, resume=True, **where, **KNOBS)
    fresh = train("tiny-llama-3", data.train, **where, **dict(KNOBS, max_steps=1))
    assert fresh.run_name == "tiny-llama-3-2"
    assert reference.adapter_dir.exists() and fresh.adapter_dir.exists()
    again = train("tiny-llama-3", data.train, run_name="tiny-llama-3-2", overwrite=True, **where,
                  **dict(KNOBS, max_steps=2))
    assert again.stats["steps"] == 2 and len(again.stats["segments"]) == 1


def test_a_run_being_trained_refuses_a_second_process(data, tmp_path):
    from medlearn.train.runs import RunConflictError
    from medlearn.train import train

    holder = subprocess.Popen(["sleep", "60"])
    try:
        run_dir = tmp_path / "o" / "busy"
        run_dir.mkdir(parents=True)
        (run_dir / ".lock").write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename,
                                                   "started": "now", "command": "medlearn train ..."}))
        with pytest.raises(RunConflictError, match=f"being trained right now by process {holder.pid}"):
            train("tiny-llama-3", data.train, run_name="busy", artifacts_dir=tmp_path / "a",
                  output_dir=tmp_path / "o", **KNOBS)
        assert not (tmp_path / "a").exists()  # refused before anything was written
    finally:
        holder.kill()
        holder.wait()


def test_artifacts_and_adapter_have_the_normal_file_mode(reference):
    from medlearn.artifacts import normal_file_mode

    paths = [reference.loss_csv, reference.stats_json, *reference.adapter_dir.iterdir()]
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in paths if p.is_file()}
    assert set(modes.values()) == {oct(normal_file_mode())}, modes


def test_memory_plan_runs_before_anything_loads(data, tmp_path, monkeypatch):
    from medlearn.memory import MemoryBudgetError
    from medlearn.train import train

    monkeypatch.setenv("MEDLEARN_GPU_BUDGET_GB", "3")
    with pytest.raises(MemoryBudgetError, match="Memory plan for llama-3.1-8b-instruct"):
        train("llama-3.1-8b-instruct", data.train, artifacts_dir=tmp_path / "a", output_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()

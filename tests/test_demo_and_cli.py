"""The command-line faces of training: medlearn train, plot and demo."""
import subprocess
import sys

from conftest import REPO
from medlearn.artifacts import read_loss_rows, write_loss_rows


def medlearn(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "medlearn", *args], capture_output=True, text=True, cwd=cwd)


def test_plot_command_draws_ours_beside_someone_elses(tmp_path):
    ours = tmp_path / "mine_loss.csv"
    write_loss_rows(ours, [{"step": s, "loss": 2.0 - s / 20} for s in range(1, 11)])
    theirs = tmp_path / "other_project.csv"
    theirs.write_text("Step,Loss\n1,2.1\n2,1.9\n3,1.8\n")
    result = medlearn("plot", str(ours), str(theirs), "-o", str(tmp_path / "cmp.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"


def test_train_command_runs_and_rejects_unknown_knobs(tmp_path):
    bad = medlearn("train", "--model", "tiny-gemma", "--dataset", "medquad", "--sample",
                   "--set", "lora_rank=8")
    assert bad.returncode == 2 and "Unknown training option(s): lora_rank" in bad.stderr
    good = medlearn("train", "--model", "tiny-gemma", "--dataset", "wikidoc,medquad", "--sample",
                    "--run-name", "cli", "--set", "max_steps=3", "--set", "max_seq_length=256",
                    "--set", f"artifacts_dir={tmp_path}/a", "--set", f"output_dir={tmp_path}/o")
    assert good.returncode == 0, good.stderr[-2000:]
    assert good.stdout.startswith("medlearn train: tiny-gemma (tiny offline gemma model")
    assert "{'loss'" not in good.stdout + good.stderr  # a clean bar with the loss, not every log dict
    assert "loss=" in good.stderr and "training: 100%" in good.stderr
    assert [int(r["step"]) for r in read_loss_rows(tmp_path / "a" / "cli_loss.csv")] == [0, 1, 2, 3]
    assert (tmp_path / "o" / "cli" / "adapter" / "adapter_model.safetensors").exists()


def test_the_default_demo_fine_tunes_a_real_model_with_a_visible_effect(tmp_path, capsys):
    # make demo's run: SmolLM2-135M-Instruct's real weights on the CPU, 20 steps on the shipped samples.
    from medlearn.demo import run_demo

    row = run_demo(artifacts_dir=tmp_path / "a", output_dir=tmp_path / "o").iloc[0]
    printed = capsys.readouterr().out
    assert row["model"] == "smollm2-135m-instruct" and row["steps"] == 20
    fall = 1 - row["eval_after"] / row["eval_before"]
    assert fall >= 0.05, f"held-out loss {row['eval_before']} -> {row['eval_after']}: fell {fall:.1%}, not 5%"
    assert row["answer_before"] != row["answer"] and "breath" in (row["answer_before"] + row["answer"]).lower()
    assert "(/" in printed and "tiny" not in printed.split("[1/3]")[0]  # the real folder trained, no stand-in


def test_demo_trains_reports_and_answers(tmp_path, capsys):
    from medlearn.demo import run_demo

    summary = run_demo(models=["tiny-llama-3"], artifacts_dir=tmp_path / "a",
                       output_dir=tmp_path / "o", max_steps=4)
    printed = capsys.readouterr().out
    row = summary.iloc[0]
    assert row["steps"] == 4 and row["eval_after"] < row["eval_before"]
    assert isinstance(row["answer"], str) and row["answer"]
    assert "[3/3] Done" in printed and "tiny-llama-3 answers" in printed and "before fine-tuning:" in printed
    assert "medquad: read" in printed  # the cleaning report of each source, not just its name
    assert {p.name for p in (tmp_path / "a").iterdir()} >= {
        "tiny-llama-3_loss.csv", "trainer_stats_tiny-llama-3.json", "tiny-llama-3_loss.png", "all_models.png"}

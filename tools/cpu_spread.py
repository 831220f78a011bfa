"""How far the lessons' run figures move between CPUs: the notebooks under other kernels and thread counts.

    python tools/cpu_spread.py                                   # 6 settings: 3 kernels x 1 and 2 threads
    python tools/cpu_spread.py --kernels own avx2 --threads 2    # a subset

Each setting runs in its own copy of the working tree with a fresh MEDLEARN_CACHE (so the tiny models are
rebuilt under that setting too): it executes the notebooks whose figures the lessons quote, then reads
every `Near` figure of notebooks/test_lesson_figures.py from that copy's artifacts. It prints each figure
per setting and, per kind of figure, the largest spread: the numbers behind SPREAD in that test. It also
runs the tests that hold a float to a tolerance (NUMERIC_TESTS) and prints what each one measured
(`measured(...)` in tests/conftest.py) per setting, beside the test's verdict there.

"own" leaves PyTorch's kernel choice to the CPU (AVX-512 where it has it); "avx2" and "default" set
ATEN_CPU_CAPABILITY as an AVX2-only machine or one without vector extensions would run. Settings of one
thread run two at a time on a 2-core machine. About 25 minutes for all six on 2 cores.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = ["04_finetune_llama", "05_finetune_mistral", "06_finetune_gemma", "07_compare_runs",
             "08_doctor_patient_dialogues", "09_biomedical_instructions", "10_evaluation"]
LESSONS = [f"{name}.md" for name in NOTEBOOKS]
NUMERIC_TESTS = ["tests/test_train.py::test_training_and_eval_loss_fall",
                 "tests/test_tiny_models.py::test_unsloth_4bit_lora_sft_lowers_the_loss",
                 "tests/test_gguf.py::test_f16_greedy_continuation_matches_the_merged_model",
                 "tests/test_gguf.py::test_q8_0_first_token_log_probabilities_agree",
                 "tests/test_use_adapters.py::test_merged_16bit_model_answers_like_base_plus_adapter"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "MEDLEARN_GPU_BUDGET_GB": "15"}


def copy_tree(destination):
    """The working tree as it is now (tracked and new files, not ignored ones) under `destination`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def setting_env(kernels, threads, copy):
    env = dict(os.environ, **OFFLINE, MEDLEARN_CACHE=str(copy / ".cache"), PYTHONPATH=str(copy),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop("ATEN_CPU_CAPABILITY", None)
    if kernels != "own":
        env["ATEN_CPU_CAPABILITY"] = kernels
    return env


def run_setting(kernels, threads, root):
    """{lesson: [[kind, value], ...]} after running the notebooks in a fresh copy under this setting."""
    name = f"{kernels}-{threads}t"
    copy = root / name
    copy_tree(copy)
    env = setting_env(kernels, threads, copy)
    paths = [f"notebooks/{notebook}.ipynb" for notebook in NOTEBOOKS]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", *paths],
                          cwd=copy, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the notebooks failed\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    read = ("import json, test_lesson_figures as figures; "
            f"print(json.dumps(figures.run_figures({LESSONS!r})))")
    out = subprocess.run([sys.executable, "-c", read], cwd=copy / "notebooks", env=env, capture_output=True,
                         text=True, check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *NUMERIC_TESTS],
                           cwd=copy, env=env, capture_output=True, text=True)
    for line in tests.stdout.splitlines():
        if line.startswith("MEASURED "):
            label, _, value = line.removeprefix("MEASURED ").rpartition(": ")
            figures.setdefault("numeric tests", []).append([label, float(value)])
    verdict = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-500:]
    print(f"{name}: done; numeric tests: {verdict}", flush=True)
    return name, figures


def spreads(results):
    """{kind: largest max-min of one figure over the settings}, and the per-figure rows."""
    names = list(results)
    first = results[names[0]]
    largest, rows = {}, []
    for lesson, figures in first.items():
        for index, (kind, _) in enumerate(figures):
            values = [results[name][lesson][index][1] for name in names
                      if index < len(results[name][lesson]) and results[name][lesson][index][0] == kind]
            spread = max(values) - min(values)
            largest[kind] = max(largest.get(kind, 0.0), spread)
            rows.append((lesson, index, kind, values, spread))
    return largest, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", nargs="+", default=["own", "avx2", "default"],
                        choices=["own", "avx512", "avx2", "default"])
    parser.add_argument("--threads", nargs="+", type=int, default=[2, 1], choices=[1, 2])
    parser.add_argument("--keep", action="store_true", help="keep the copies (their artifacts) in /tmp")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cpu-spread-"))
    settings = [(kernels, threads) for threads in args.threads for kernels in args.kernels]
    results = {}
    for threads in args.threads:  # settings of one thread share the two cores
        batch = [setting for setting in settings if setting[1] == threads]
        with ThreadPoolExecutor(max_workers=2 // threads) as pool:
            for name, figures in pool.map(lambda s: run_setting(*s, root), batch):
                results[name] = figures
    largest, rows = spreads(results)
    print("\nlesson figure | kind | " + " | ".join(results) + " | spread")
    for lesson, index, kind, values, spread in rows:
        print(f"{lesson} #{index} | {kind} | " + " | ".join(f"{v:.4f}" for v in values) + f" | {spread:.4f}")
    print("\nlargest spread per kind of figure (notebooks/test_lesson_figures.py SPREAD):")
    print(json.dumps({kind: round(value, 4) for kind, value in sorted(largest.items())}, indent=1))
    (REPO / "artifacts").mkdir(exist_ok=True)
    (REPO / "artifacts" / "cpu_spread.json").write_text(json.dumps({"settings": results, "largest": largest},
                                                                   indent=1))
    print("(every value: artifacts/cpu_spread.json)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

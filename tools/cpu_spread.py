"""How far the lessons' run figures move between CPUs: the notebooks under other kernels and thread counts.

    python tools/cpu_spread.py                                   # 6 settings: 3 kernels x 1 and 2 threads
    python tools/cpu_spread.py --kernels own avx2 --threads 2    # a subset
    python tools/cpu_spread.py --reuse /tmp/cpu-spread-XXXX      # re-read the figures of kept copies
    python tools/cpu_spread.py --notebooks 04_finetune_llama     # one notebook's figures, merged in

Each setting runs in its own copy of the working tree with a fresh MEDLEARN_CACHE (so the tiny models are
rebuilt under that setting too): it executes the notebooks whose figures the lessons quote, then reads
every `Near` figure of notebooks/test_lesson_figures.py from that copy's artifacts. It prints each
quantity's values per setting and its spread (largest max - min), and writes notebooks/cpu_spread.json,
which that test reads its tolerances from. It also runs the tests that hold a float to a tolerance
(NUMERIC_TESTS) and prints what each one measured (`measured(...)` in tests/conftest.py) per setting,
beside the test's verdict there.

"own" leaves PyTorch's kernel choice to the CPU (AVX-512 where it has it); "avx2" and "default" set
ATEN_CPU_CAPABILITY as an AVX2-only machine or one without vector extensions would run. Settings of one
thread run two at a time on a 2-core machine. About 25 minutes for all six on 2 cores.
"""
import argparse
import json
import os
import re
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


def run_setting(kernels, threads, root, reuse=False, notebooks=NOTEBOOKS):
    """(name, {quantity: [values]}) from the notebooks and numeric tests run in a fresh copy under this
    setting; with `reuse`, the current code is copied over the kept copy and the notebooks' artifacts
    there are read again (delete its numeric.json to rerun the numeric tests)."""
    name = f"{kernels}-{threads}t"
    copy = root / name
    env = setting_env(kernels, threads, copy)
    copy_tree(copy)
    if not reuse:
        run_notebooks(name, copy, env, notebooks)
    numeric = {}
    if notebooks == NOTEBOOKS:  # a subset measures only its own notebooks' figures
        if not (copy / "numeric.json").exists():
            (copy / "numeric.json").write_text(json.dumps(run_numeric_tests(name, copy, env)))
        numeric = json.loads((copy / "numeric.json").read_text())
    lessons = [f"{notebook}.md" for notebook in notebooks]
    read = ("import json, test_lesson_figures as figures; "
            f"print(json.dumps(figures.run_figures({lessons!r})))")
    out = subprocess.run([sys.executable, "-c", read], cwd=copy / "notebooks", env=env, capture_output=True,
                         text=True, check=True).stdout
    return name, {**json.loads(out.strip().splitlines()[-1]), **numeric}


def run_notebooks(name, copy, env, notebooks):
    paths = [f"notebooks/{notebook}.ipynb" for notebook in notebooks]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", *paths],
                          cwd=copy, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the notebooks failed\n{done.stdout[-3000:]}{done.stderr[-2000:]}")


def run_numeric_tests(name, copy, env):
    """{test's label: [value]} of what NUMERIC_TESTS measured, and their verdict, printed."""
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *NUMERIC_TESTS],
                           cwd=copy, env=env, capture_output=True, text=True)
    numeric = {}
    for label, value in re.findall(r"MEASURED (.+): (\S+)$", tests.stdout, flags=re.MULTILINE):
        numeric.setdefault("test " + label, []).append(float(value))
    lines = tests.stdout.strip().splitlines()
    failed = [line for line in lines if line.startswith("FAILED")]
    print(f"{name}: numeric tests: {lines[-1] if lines else tests.stderr[-300:]}", *failed, sep="\n  ", flush=True)
    return numeric


def spreads(results):
    """{quantity: largest max - min over the settings of any one of its figures}."""
    quantities = {quantity for figures in results.values() for quantity in figures}
    largest = {}
    for quantity in sorted(quantities):
        columns = zip(*(figures[quantity] for figures in results.values() if quantity in figures))
        largest[quantity] = round(max(max(values) - min(values) for values in columns), 4)
    return largest


def merged(earlier, largest, results):
    """(spread, values) of an earlier full measurement with a subset's merged in. A subset may have run fewer
    settings than the earlier one: it can widen a quantity's spread, never narrow it, and the settings it
    did not run keep their values."""
    spread = dict(earlier["spread"])
    for quantity, value in largest.items():
        spread[quantity] = max(value, spread.get(quantity, 0.0))
    values = {name: dict(figures) for name, figures in earlier["values"].items()}
    for name, figures in results.items():
        values[name] = dict(values.get(name, {}), **figures)
    return spread, values


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", nargs="+", default=["own", "avx2", "default"],
                        choices=["own", "avx512", "avx2", "default"])
    parser.add_argument("--threads", nargs="+", type=int, default=[2, 1], choices=[1, 2])
    parser.add_argument("--keep", action="store_true", help="keep the copies (their artifacts) in /tmp")
    parser.add_argument("--reuse", type=Path, help="a folder of copies kept by an earlier --keep run")
    parser.add_argument("--notebooks", nargs="+", default=NOTEBOOKS, choices=NOTEBOOKS,
                        help="run only these notebooks, merged into cpu_spread.json: a spread can only widen, "
                             "and the other notebooks' figures are kept as they were measured")
    args = parser.parse_args()
    root = args.reuse or Path(tempfile.mkdtemp(prefix="cpu-spread-"))
    settings = [(kernels, threads) for threads in args.threads for kernels in args.kernels]
    results = {}
    for threads in args.threads:  # settings of one thread share the two cores
        batch = [setting for setting in settings if setting[1] == threads]
        with ThreadPoolExecutor(max_workers=2 // threads) as pool:
            for name, figures in pool.map(
                    lambda s: run_setting(*s, root, reuse=bool(args.reuse), notebooks=args.notebooks), batch):
                results[name] = figures
    largest = spreads(results)
    print("\nquantity | " + " | ".join(results) + " | spread")
    for quantity, spread in largest.items():
        columns = [figures.get(quantity, []) for figures in results.values()]
        print(f"{quantity} | " + " | ".join(" ".join(f"{v:.4f}" for v in values) for values in columns)
              + f" | {spread:.4f}")
    out = REPO / "notebooks" / "cpu_spread.json"
    if args.notebooks != NOTEBOOKS:  # merge into the earlier measurement of every notebook
        largest, results = merged(json.loads(out.read_text()), largest, results)
    out.write_text(json.dumps({"command": "python tools/cpu_spread.py", "settings": list(results),
                               "spread": largest, "values": results}, indent=1) + "\n")
    print(f"\nspreads written to {out.relative_to(REPO)} (notebooks/test_lesson_figures.py reads them)")
    if not args.keep and not args.reuse:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

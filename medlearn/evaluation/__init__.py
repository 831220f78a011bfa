"""Evaluation: held-out loss, zero-shot medical benchmarks with baselines, and off-topic behaviour.

The benchmark questions themselves are data (medlearn.data.benchmarks: PubMedQA / MedQA / MedMCQA
loaders to one question schema); their names are re-exported here. Modules: leaderboard (the
"leaderboard" protocol: lm-eval's plain-text prompts and metrics), prompts (the "chat" protocol's
user message and scored replies), scoring (batched option log-probs with prompt reuse, both
protocols), contamination (benchmark questions found in a run's training data), lm_eval_reference
(lm-eval itself on local files, for checks), metrics and baselines, heldout (loss / perplexity),
offtopic (declining non-medical questions), report (JSON and plot), evaluate (one call per notebook step).
"""
from ..data.benchmarks import BENCHMARKS, Benchmark, get_benchmark, load_benchmark, read_pubmedqa_test_ids
from .baselines import BASELINES, baselines_for, majority_baseline, random_baseline
from .evaluate import (EvalModel, evaluate_all, evaluate_baseline, evaluate_benchmark, evaluate_heldout,
                       evaluate_offtopic, load_for_eval)
from .leaderboard import LM_EVAL_TASKS, PROTOCOLS
from .metrics import accuracy, macro_f1, wilson_interval
from .report import format_result, load_results, plot_results, save_result

__all__ = ["BASELINES", "BENCHMARKS", "LM_EVAL_TASKS", "PROTOCOLS", "Benchmark", "EvalModel", "accuracy", "baselines_for",
           "evaluate_all", "evaluate_baseline", "evaluate_benchmark", "evaluate_heldout", "evaluate_offtopic",
           "format_result", "get_benchmark", "load_benchmark", "load_for_eval", "load_results",
           "macro_f1", "majority_baseline", "plot_results", "random_baseline", "read_pubmedqa_test_ids",
           "save_result", "wilson_interval"]

"""lm-evaluation-harness itself, run on local benchmark files: the reference the leaderboard protocol must match.

lm-eval (`pip install lm-eval`, a test dependency of this repo) is what the Open Medical-LLM Leaderboard
runs. Here its own task definitions (the installed package's YAML and prompt functions for `pubmedqa`,
`medqa_4options`, `medmcqa`) are loaded unchanged except for where the rows come from: a local JSON
Lines file in the dataset schema each task reads, so everything works offline. tests/test_eval_lm_eval.py
and benchmarks/bench_eval.py use it; learners can too, to check a number:

    task = load_lm_eval_task("medmcqa", write_lm_eval_file("medmcqa", rows, "medmcqa.jsonl"))
    lm = lm_eval_model("path/to/model", batch_size=8)
    per_question = lm_eval_loglikelihoods(lm, task)   # one list of option log-likelihoods per question
"""
import json
from pathlib import Path

from .leaderboard import LM_EVAL_TASKS

# The split each lm-eval task scores (its YAML's test_split).
LM_EVAL_SPLITS = {"pubmedqa": "test", "medqa": "test", "medmcqa": "validation"}


def require_lm_eval():
    try:
        import lm_eval  # noqa: F401
    except ImportError as error:
        raise ImportError("lm-eval is not installed. It is a test dependency: install it without moving the "
                          "pinned stack with `pip install lm-eval==0.4.13 -c requirements.txt`.") from error


def lm_eval_rows(benchmark, raw_rows):
    """Rows of a benchmark in its published (Hub) schema, rewritten in the schema lm-eval's task reads.

    pubmedqa reads bigbio/pubmed_qa (QUESTION, CONTEXTS, final_decision); medqa_4options reads
    GBaker/MedQA-USMLE-4-options-hf (sent1, ending0..3, label); medmcqa reads the Hub's own schema.
    """
    if benchmark == "pubmedqa":
        return [{"QUESTION": row["question"], "CONTEXTS": list(row["context"]["contexts"]),
                 "final_decision": row["final_decision"], "pubid": row["pubid"]} for row in raw_rows]
    if benchmark == "medqa":
        converted = []
        for row in raw_rows:
            letters = sorted(letter for letter, text in row["options"].items() if text is not None)
            endings = {f"ending{i}": row["options"][letter] for i, letter in enumerate(letters)}
            converted.append(dict(sent1=row["question"], label=letters.index(row["answer_idx"]), **endings))
        return converted
    if benchmark == "medmcqa":
        return [dict(row) for row in raw_rows]
    raise ValueError(f"No lm-eval task for {benchmark!r}; valid: {', '.join(LM_EVAL_TASKS)}.")


def write_lm_eval_file(benchmark, raw_rows, path):
    """Write lm_eval_rows(...) as JSON Lines at `path`; returns the path."""
    rows = lm_eval_rows(benchmark, raw_rows)
    Path(path).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return Path(path)


def load_lm_eval_task(benchmark, data_file, metrics=None):
    """lm-eval's own task for `benchmark`, its rows read from `data_file` (JSON Lines) instead of the Hub.

    metrics: lm-eval metric names to compute instead of the task's list (its pubmedqa lists acc only;
    ["acc", "acc_norm"] asks lm-eval for acc_norm too).
    """
    require_lm_eval()
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml  # lm-eval's loader: resolves its !function prompts

    manager = TaskManager()
    name = LM_EVAL_TASKS[benchmark]
    config = dict(load_yaml(manager.task_index[name].yaml_path, resolve_func=True))
    split = LM_EVAL_SPLITS[benchmark]
    # Only the data source changes; prompts, choices, delimiter and metrics stay lm-eval's.
    config.update(dataset_path="json", dataset_name=None,
                  dataset_kwargs={"data_files": {split: str(data_file)}},
                  training_split=None, validation_split=None, test_split=split)
    if metrics:
        config["metric_list"] = [{"metric": metric, "aggregation": "mean", "higher_is_better": True}
                                 for metric in metrics]
    return manager.load([config])["tasks"][name]


def lm_eval_model(model, tokenizer=None, batch_size=8, dtype="float32", device="cpu"):
    """lm-eval's Hugging Face model class on a model folder (or a loaded model and its tokenizer)."""
    require_lm_eval()
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=model if not isinstance(model, Path) else str(model), tokenizer=tokenizer,
                batch_size=batch_size, dtype=dtype, device=device)


def lm_eval_requests(task):
    """The task's log-likelihood requests (one per question and option), built by lm-eval."""
    task.build_all_requests(limit=None, rank=0, world_size=1)
    return task.instances


def lm_eval_loglikelihoods(lm, task, requests=None):
    """One list of option log-likelihoods per question, in the task's question order."""
    requests = requests if requests is not None else lm_eval_requests(task)
    results = lm.loglikelihood(requests, disable_tqdm=True)
    per_question = {}
    for request, (loglikelihood, _) in zip(requests, results):
        per_question.setdefault(request.doc_id, {})[request.idx] = loglikelihood
    return [[options[i] for i in sorted(options)] for _, options in sorted(per_question.items())]


def lm_eval_metrics(task, loglikelihoods):
    """lm-eval's own acc and acc_norm per question, from its process_results on the given log-likelihoods."""
    docs = list(task.eval_docs)
    return [task.process_results(doc, [(ll, False) for ll in option_lls])
            for doc, option_lls in zip(docs, loglikelihoods)]

"""The run figures the lessons quote are the ones the notebooks just wrote to artifacts/.

pytest collects this file after the notebooks in this folder (`make test`: `pytest --nbval-lax tests
notebooks`), so it reads the artifacts of the notebook run that came before it. Each lesson line below is
rebuilt from an artifact (or from the shipped samples, registry and installed versions the notebook
prints) and must appear in the lesson word for word: rerun a notebook with other knobs
and the lesson that quotes it fails until it is updated. Timings are never quoted (they vary by machine).
"""
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts"


def split_sizes():
    """(training rows, eval rows) of notebooks 04-06's data on the CPU path (the shipped samples)."""
    from medlearn.data import prepare_dataset

    data = prepare_dataset(["wikidoc", "medquad"], sample=True)
    return len(data.train), len(data.eval)


def general_chat_rows():
    """The FineTome rows notebook 04 mixes into its step-by-step run (GENERAL_SHARE = 0.2)."""
    from medlearn.data import mix_in, prepare_dataset

    medical = prepare_dataset(["wikidoc", "medquad"], sample=True).train
    mixed = mix_in(medical, prepare_dataset(["finetome"], sample=True).train, share=0.2)
    return [source for source in mixed["source"] if source == "finetome"]


def newest_run_folder(run):
    """outputs/{run}, or its newest rerun outputs/{run}-N."""
    pattern = re.compile(re.escape(run) + r"(-\d+)?$")
    found = [path for path in (REPO / "outputs").glob(f"{run}*") if pattern.fullmatch(path.name)]
    assert found, f"no outputs/{run}: the notebook that trains it did not run"
    return max(found, key=lambda path: path.stat().st_mtime)


def adapter_parameters(path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as tensors:
        return sum(tensors.get_tensor(name).numel() for name in tensors.keys())


def newest(prefix, run):
    """The newest artifacts/{prefix}{run}.json, or its rerun {prefix}{run}-N.json."""
    pattern = re.compile(re.escape(prefix + run) + r"(-\d+)?\.json$")
    found = [path for path in ARTIFACTS.glob(f"{prefix}{run}*.json") if pattern.fullmatch(path.name)]
    assert found, f"no artifacts/{prefix}{run}.json: the notebook that writes it did not run"
    return json.loads(max(found, key=lambda path: path.stat().st_mtime).read_text())


def stats(run):
    return newest("trainer_stats_", run)


def losses(s, arrow=" → "):
    return f"{s['eval_loss_before']:.3f}{arrow}{s['eval_loss_after']:.3f}"


def compare_row(run):
    s = stats(run)
    drop = s["eval_loss_before"] - s["eval_loss_after"]
    return f"| {run} | {s['final_loss']:.3f} | {losses(s)} | {drop:.3f} |"


def lesson_04():
    import pandas as pd

    s = stats("llama-3_1-8b-instruct")
    train, held_out = split_sizes()
    mix_table = pd.read_csv(ARTIFACTS / "general_chat_mix.csv", index_col=0)  # notebook 04, section 5
    base, medical, mixed = (mix_table.iloc[row, 1] for row in range(3))
    rows_mixed = train + len(general_chat_rows())
    adapter = newest_run_folder("llama-3_1-8b-instruct") / "adapter" / "adapter_model.safetensors"
    return [f"**{losses(s, ' to ')}**", f"the last training loss was {s['final_loss']:.2f}",
            f"{train} training rows, {held_out} eval rows, 12 steps",
            f"{rows_mixed} rows ({train} medical, {rows_mixed - train} FineTome)",
            f"by {base - mixed:.2f}, against {base - medical:.2f} for the medical-only one",
            "The tiny model has {:,} trainable adapter parameters".format(adapter_parameters(adapter)),
            f"its adapter file is {adapter.stat().st_size / 1000:.0f} kB"] + [
        f"| {name} | {row.iloc[0]:.3f} | {row.iloc[1]:.3f} |" for name, row in mix_table.iterrows()]


def run_table(runs, tokens_label="tokens seen"):
    """The rows of a lesson's run table: one column per run, in order."""
    def row(label, cells):
        return f"| {label} | " + " | ".join(cells) + " |"

    return [row("eval loss before → after", [losses(s) for s in runs]),
            row("last training loss", [f"{s['final_loss']:.2f}" for s in runs]),
            row(tokens_label, [f"{s['tokens_seen']:,}" for s in runs])]


def lesson_05():
    train, held_out = split_sizes()
    return run_table([stats("llama-3_1-8b-instruct"), stats("mistral-7b-instruct-v0_3")]) + [
        f"The same {train} training rows and {held_out} eval rows"]


def lesson_06():
    gemma = stats("gemma-2-2b-it")
    train, held_out = split_sizes()
    return run_table([gemma]) + [f"| precision | {gemma['config']['precision_used']} |",
                                 f"{train} training rows and {held_out} eval rows"]


def newest_loss_csv(run):
    """The newest artifacts/{run}_loss.csv, or its rerun {run}-N_loss.csv, as a table."""
    import pandas as pd

    pattern = re.compile(re.escape(run) + r"(-\d+)?_loss\.csv$")
    found = [path for path in ARTIFACTS.glob(f"{run}*_loss.csv") if pattern.fullmatch(path.name)]
    assert found, f"no artifacts/{run}_loss.csv: the notebook that writes it did not run"
    return pd.read_csv(max(found, key=lambda path: path.stat().st_mtime))


def lesson_07():
    from medlearn.plots import SMOOTHING

    runs = ("llama-3_1-8b-instruct", "mistral-7b-instruct-v0_3", "gemma-2-2b-it")
    train, held_out = split_sizes()
    gemma = newest_loss_csv("gemma-2-2b-it").dropna(subset=["loss"])["loss"].head(8)
    smoothed = gemma.ewm(alpha=1 - SMOOTHING).mean()  # as medlearn.plots draws it
    tokens = [stats(run)["tokens_seen"] for run in runs]
    return [compare_row(run) for run in runs] + [
        f"same {train} training and {held_out} eval rows",
        "the raw losses of steps 1-8 were " + ", ".join(f"{loss:.2f}" for loss in gemma),
        "the smoothed values went " + ", ".join(f"{loss:.2f}" for loss in smoothed),
        f"Step 3 went *up* by {gemma.iloc[2] - gemma.iloc[1]:.2f}, the smoothed line by "
        f"{smoothed.iloc[2] - smoothed.iloc[1]:.2f}",
        f"({tokens[0]:,} against {tokens[1]:,} for Mistral and {tokens[2]:,} for Gemma)"]


def lesson_08():
    from medlearn.data import prepare_dataset

    data = prepare_dataset(["medical-dialogue", "chatdoctor"], sample=True)
    dialogue, chatdoctor = (data.reports[name] for name in ("medical-dialogue", "chatdoctor"))
    after = newest("eval_llama-2-7b-chat-finetuned_", "offtopic")
    return run_table([stats("llama-2-7b"), stats("llama-2-7b-chat")], "tokens seen in 8 steps") + [
        f"Cleaning kept {dialogue.rows_kept} of {dialogue.rows_read} rows of the first sample and "
        f"{chatdoctor.rows_kept} of {chatdoctor.rows_read} of the second",
        f"giving {len(data.train)} training rows and {len(data.eval)} eval rows",
        f"declined {after['declined_non_medical']:.0%} of {after['n_non_medical']} non-medical questions and "
        f"answered {after['answered_medical']:.0%} of {after['n_medical']} medical ones"]


def lesson_09():
    import pandas as pd

    from medlearn.data import prepare_dataset

    weights = {"medtuned": 0.75, "finetome": 0.25}  # notebook 09's MIX_WEIGHTS
    data = prepare_dataset(list(weights), sample=True, weights=weights)
    drawn = pd.Series(list(data.train["source"]) + list(data.eval["source"])).value_counts()
    trained = pd.Series(list(data.train["source"])).value_counts()
    s = stats("starling-lm-7b-alpha")
    return [f"`medtuned` kept {data.reports['medtuned'].rows_kept} rows after cleaning",
            f"drew {drawn['medtuned']} of `medtuned` and {drawn['finetome']} of `finetome`",
            f"{len(data.train)} training rows ({trained['medtuned']} medtuned, {trained['finetome']} finetome) and "
            f"{len(data.eval)} eval rows",
            f"| eval loss before → after | {losses(s)} |", f"| last training loss | {s['final_loss']:.3f} |",
            f"| training rows (medtuned / finetome) | {trained['medtuned']} / {trained['finetome']} |",
            f"(down {s['eval_loss_before'] - s['eval_loss_after']:.2f})"]


def lesson_10():
    run = "llama-3_1-8b-instruct"
    base, tuned = (newest(f"eval_{run}-{side}_", "heldout") for side in ("base", "finetuned"))
    lines = [f"| held-out loss (perplexity), {base['n']} conversations | {base['loss']:.2f} ({base['perplexity']:.0f})"
             f" | {tuned['loss']:.2f} ({tuned['perplexity']:.0f}) | | |"]
    for benchmark, title in (("pubmedqa", "PubMedQA"), ("medqa", "MedQA"), ("medmcqa", "MedMCQA")):
        b, t = (newest(f"eval_{run}-{side}_", benchmark) for side in ("base", "finetuned"))
        lines.append(f"| {title}, n = {b['n']} | {b['accuracy']:.3f} | {t['accuracy']:.3f} |")
    return lines


def trained_of_total(template):
    """(answer tokens, all tokens) of notebook 03's sample conversation on the family's tiny tokenizer."""
    from medlearn.templates import SAMPLE_CONVERSATION, describe_tokens, tiny_tokenizer

    tokens = describe_tokens(tiny_tokenizer(template), SAMPLE_CONVERSATION, template)
    return sum(token["trained"] for token in tokens), len(tokens)


def lesson_01():
    from importlib.metadata import version

    from medlearn.registry import registry_rows

    models = {row["name"]: row for row in registry_rows()}
    gemmas = [name for name, row in models.items() if row["family"] == "gemma"]
    fp16 = {name: f"{row['params_b'] * 2:.1f} GB" for name, row in models.items()}  # notebook 01's weights table
    numbers = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 10: "ten", 11: "eleven", 12: "twelve"}
    return [f"gave me {numbers[len(models)]} models", f"{numbers[len(gemmas)]} Gemmas",
            f"Llama-3.1-8B needs {fp16['llama-3.1-8b-instruct']}, Gemma-2-9B {fp16['gemma-2-9b-it']}, "
            f"Mistral-7B {fp16['mistral-7b-instruct-v0.3']}",
            f"{models['llama-3.1-8b-instruct']['params_b'] * 0.5:.1f} GB for Llama-3.1-8B",
            f"torch {version('torch').split('+')[0]} (CPU), unsloth {version('unsloth')}, transformers "
            f"{version('transformers')}, trl {version('trl')} and peft {version('peft')}"]


def lesson_02():
    from medlearn.data import clean, load_source, mix, prepare_dataset

    names = ["wikidoc", "wikidoc-patient", "medquad", "medical-dialogue", "chatdoctor", "ai-medical-chatbot",
             "medtuned", "finetome", "medical-questions", "wiki-medical-terms"]
    read = {name: len(load_source(name, sample=True)) for name in names}
    cleaned = {name: clean(load_source(name, sample=True)) for name in
               ("wikidoc", "medquad", "chatdoctor", "ai-medical-chatbot", "medtuned", "finetome")}
    both = mix({name: cleaned[name][0] for name in ("wikidoc", "medquad")}, weights={"wikidoc": 1, "medquad": 1})
    train, held_out = split_sizes()
    return [", ".join(f"{name} {count}" for name, count in read.items()) + "."] + [
        f"| {name} | {report.rows_read} | {report.rows_kept} |" for name, (_, report) in cleaned.items()] + [
        f"gave {len(both)} rows, {len(both) // 2} of each",
        f"takes everything ({train + held_out} rows) and splits them {train} train / {held_out} eval",
        f"dropped {cleaned['medtuned'][1].dropped['benchmark_question']} row(s)"]


def lesson_03():
    counts = {name: "{} of {}".format(*trained_of_total(name)) for name in ("llama-3", "llama-2", "mistral", "gemma")}
    return [f"**{counts['llama-3']}**; Llama-2 {counts['llama-2']} and Mistral {counts['mistral']}",
            f"Gemma {counts['gemma']}"]


def lesson_11():
    from medlearn.gguf import missing_llama_cpp

    if missing_llama_cpp():
        pytest.skip(missing_llama_cpp())
    folder = REPO / "outputs" / "use_your_model" / "gguf"
    sizes = {method: (folder / f"gguf.{method.upper()}.gguf").stat().st_size / 1e6 for method in ("q4_k_m", "q8_0", "f16")}
    return [", ".join(f"{method} {size:.2f} MB" for method, size in sizes.items()) + "."]


LESSONS = {"01_setup_and_gpu_check.md": lesson_01, "02_medical_datasets.md": lesson_02,
           "03_prompt_templates.md": lesson_03, "04_finetune_llama.md": lesson_04, "05_finetune_mistral.md": lesson_05,
           "06_finetune_gemma.md": lesson_06, "07_compare_runs.md": lesson_07,
           "08_doctor_patient_dialogues.md": lesson_08, "09_biomedical_instructions.md": lesson_09,
           "10_evaluation.md": lesson_10,
           "11_use_your_model.md": lesson_11}


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lesson_quotes_the_figures_its_notebook_wrote(lesson):
    text = " ".join((REPO / "lessons" / lesson).read_text(encoding="utf-8").split())  # lines rejoined
    missing = [line for line in LESSONS[lesson]() if line not in text]
    assert not missing, f"lessons/{lesson} does not say what the notebook run wrote:\n" + "\n".join(missing)

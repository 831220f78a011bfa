"""The run figures the lessons quote are the ones the notebooks just wrote to artifacts/.

pytest collects this file after the notebooks in this folder (`make test`: `pytest --nbval-lax tests
notebooks`), so it reads the artifacts of the notebook run that came before it. Each lesson line below is
rebuilt from an artifact (or from the shipped samples, registry and installed versions the notebook
prints) and must appear in the lesson: rerun a notebook with other knobs and the lesson that quotes it
fails until it is updated. Timings are never quoted (they vary by machine).

Counts (rows, tokens, parameters, bytes) are exact on every machine and must appear word for word. A loss
or an accuracy of a tiny model is not: trained for a few steps at a high learning rate, it moves with the
CPU's floating-point kernels and thread count. Such a figure is a `Near`: the lesson may quote it rounded,
within the tolerance of its quantity, and with no digit finer than the spread the machines showed.
"""
import json
import math
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts"

# How far each run figure moved between machine settings: notebooks 04-10 with a fresh tiny-model cache
# under PyTorch's own kernels (AVX-512 here), ATEN_CPU_CAPABILITY=avx2 and =default, each with 1 and 2
# threads, on one 2-core machine. `python tools/cpu_spread.py` measures it and writes this file: the
# largest max - min per quantity (e.g. "llama-2-7b: eval loss"), with every setting's value beside it.
SPREAD_FILE = Path(__file__).with_name("cpu_spread.json")
SPREAD = json.loads(SPREAD_FILE.read_text())["spread"]
# Tolerance = twice the spread seen: six settings of one machine sample the CPUs a learner may have, they
# do not bound them. A lesson figure further from the run than this (plus half its last digit) fails, and
# one that quotes a digit finer than half the spread (to one significant figure) fails too: on another CPU
# that digit would read differently.
TOLERANCE_FACTOR = 2


def agreed_unit(spread):
    """The finest digit a lesson may quote for a figure that moves by `spread` between machines."""
    if spread <= 0:
        return 0.0
    leading = 10 ** math.floor(math.log10(spread))
    return round(spread / leading) * leading / 2


class Near:
    """A figure of a tiny-model run, which other CPUs write a little differently. `quantity` names what it
    is ("llama-2-7b: eval loss"), the key of its measured spread."""

    def __init__(self, value, quantity, shown="{:.3f}"):
        self.value, self.quantity, self.shown = float(value), quantity, shown

    def __str__(self):
        return "~" + self.shown.format(self.value)

    def spread(self):
        assert self.quantity in SPREAD, (f"no measured spread for {self.quantity!r} in {SPREAD_FILE.name}: "
                                         "run python tools/cpu_spread.py")
        return SPREAD[self.quantity]


NUMBER = r"(-?\d[\d,]*(?:\.\d+)?)"


def shape(line):
    """A regular expression for `line`: its text as it is, a number wherever it has a Near."""
    return "".join(NUMBER if isinstance(part, Near) else re.escape(part) for part in line)


def quoted_problem(near, quoted):
    """Why the lesson's `quoted` text does not stand for `near` ('' when it does)."""
    unit = 10.0 ** -len(quoted.partition(".")[2])  # of the last quoted digit
    value = float(quoted.replace(",", ""))
    spread, tolerance = near.spread(), TOLERANCE_FACTOR * near.spread()
    if unit < agreed_unit(spread):
        finest = 10 ** math.ceil(math.log10(agreed_unit(spread)))
        return (f"{quoted} quotes more digits than machines agree on: {near.quantity} moved by {spread:.4f} "
                f"between CPU settings, so round it to {finest:g}")
    if abs(value - near.value) > tolerance + unit / 2:
        return (f"{quoted} is not what the run wrote: {near.value:.4f} ({near.quantity} may differ by "
                f"{tolerance:.4f} between machines, plus half its last digit)")
    return ""


def line_problem(line, text):
    """'' when `text` says `line` (a string, or a tuple of strings and Nears), else what is wrong."""
    line = (line,) if isinstance(line, str) else line
    nears = [part for part in line if isinstance(part, Near)]
    problems = []
    for match in re.finditer(shape(line), text):
        wrong = [quoted_problem(near, quoted) for near, quoted in zip(nears, match.groups())]
        if not any(wrong):
            return ""
        problems += [w for w in wrong if w]
    said = "".join(map(str, line))
    return f"{said}\n    " + ("\n    ".join(problems) if problems else "(no text of this shape in the lesson)")


def run_figures(lessons):
    """{quantity: [values]}: every Near the named lessons quote (tools/cpu_spread.py reads them)."""
    found = {}
    for lesson in lessons:
        for line in LESSONS[lesson]():
            for part in line if isinstance(line, tuple) else ():
                if isinstance(part, Near):
                    found.setdefault(part.quantity, []).append(part.value)
    return found


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
    return dict(newest("trainer_stats_", run), run=run)


def losses(s, arrow=" → ", shown="{:.3f}"):
    key = s["run"] + ": eval loss"
    return (Near(s["eval_loss_before"], key, shown), arrow, Near(s["eval_loss_after"], key, shown))


def drop(s):
    return Near(s["eval_loss_before"] - s["eval_loss_after"], s["run"] + ": eval loss drop")


def last_loss(s):
    return Near(s["final_loss"], s["run"] + ": last training loss")


def table_row(label, cells):
    """'| label | a | b |', each cell a string or a tuple of strings and Nears."""
    line = ("| " + label + " |",)
    for cell in cells:
        line += (" ",) + (cell if isinstance(cell, tuple) else (cell,)) + (" |",)
    return line


def compare_row(run):
    s = stats(run)
    return table_row(run, [(last_loss(s),), losses(s), (drop(s),)])


def lesson_04():
    import pandas as pd
    from medlearn.demo import REAL_CPU_KNOBS

    s = stats("llama-3_1-8b-instruct")
    train, held_out = split_sizes()
    mix_table = pd.read_csv(ARTIFACTS / "general_chat_mix.csv", index_col=0)  # notebook 04, section 5
    base, medical, mixed = (mix_table.iloc[row, 1] for row in range(3))
    rows_mixed = train + len(general_chat_rows())
    adapter = newest_run_folder("llama-3_1-8b-instruct") / "adapter" / "adapter_model.safetensors"
    return [("**",) + losses(s, " to ") + ("**",),
            ("the last training loss was ", last_loss(s)),
            f"{train} training rows, {held_out} eval rows, 12 steps",
            f"{rows_mixed} rows ({train} medical, {rows_mixed - train} FineTome)",
            ("by ", Near(base - mixed, "general-chat mix: drop"), ", against ", Near(base - medical, "general-chat mix: drop"),
             " for the medical-only one"),
            "The tiny model has {:,} trainable adapter parameters".format(adapter_parameters(adapter)),
            f"its adapter file is {adapter.stat().st_size / 1000:.0f} kB",
            ("SmolLM2's held-out loss went from **",) + losses(stats("smollm2-135m-instruct"), " to ") + ("**",),
            "{} training steps of {} rows".format(REAL_CPU_KNOBS["max_steps"],
                                                  REAL_CPU_KNOBS["per_device_train_batch_size"])] + [
        table_row(name, [(Near(row.iloc[0], "general-chat mix: eval loss"),),
                         (Near(row.iloc[1], "general-chat mix: eval loss"),)])
        for name, row in mix_table.iterrows()]


def run_table(runs, tokens_label="tokens seen"):
    """The rows of a lesson's run table: one column per run, in order."""
    return [table_row("eval loss before → after", [losses(s) for s in runs]),
            table_row("last training loss", [(last_loss(s),) for s in runs]),
            table_row(tokens_label, [f"{s['tokens_seen']:,}" for s in runs])]


def lesson_05():
    train, held_out = split_sizes()
    mistral = stats("mistral-7b-instruct-v0_3")
    return run_table([stats("llama-3_1-8b-instruct"), mistral]) + [
        f"The same {train} training rows and {held_out} eval rows",
        ("The tiny Mistral starts *above* that (about ",) + losses(mistral)[:1] + (")",)]


def lesson_06():
    gemma = stats("gemma-2-2b-it")
    train, held_out = split_sizes()
    return run_table([gemma]) + [f"| precision | {gemma['config']['precision_used']} |",
                                 f"{train} training rows and {held_out} eval rows",
                                 ("The eval loss is the honest signal: it fell by ", drop(gemma), "."),
                                 ("Gemma-3-270M's held-out loss went from **",)
                                 + losses(stats("gemma-3-270m"), " to ") + ("**",)]


def newest_loss_csv(run):
    """The newest artifacts/{run}_loss.csv, or its rerun {run}-N_loss.csv, as a table."""
    import pandas as pd

    pattern = re.compile(re.escape(run) + r"(-\d+)?_loss\.csv$")
    found = [path for path in ARTIFACTS.glob(f"{run}*_loss.csv") if pattern.fullmatch(path.name)]
    assert found, f"no artifacts/{run}_loss.csv: the notebook that writes it did not run"
    return pd.read_csv(max(found, key=lambda path: path.stat().st_mtime))


def listed(values, kind):
    """'a, b, c' with each value a Near."""
    line = ()
    for number, value in enumerate(values):
        line += ((", ",) if number else ()) + (Near(value, kind),)
    return line


def lesson_07():
    from medlearn.plots import SMOOTHING

    runs = ("llama-3_1-8b-instruct", "mistral-7b-instruct-v0_3", "gemma-2-2b-it")
    train, held_out = split_sizes()
    gemma = newest_loss_csv("gemma-2-2b-it").dropna(subset=["loss"])["loss"].head(8)
    smoothed = gemma.ewm(alpha=1 - SMOOTHING).mean()  # as medlearn.plots draws it
    tokens = [stats(run)["tokens_seen"] for run in runs]
    return [compare_row(run) for run in runs] + [
        f"same {train} training and {held_out} eval rows",
        ("the raw losses of steps 1-8 were ",) + listed(gemma, "gemma-2-2b-it: step loss"),
        ("the smoothed values went ",) + listed(smoothed, "gemma-2-2b-it: step loss"),
        ("Step 3 went *up* by ", Near(gemma.iloc[2] - gemma.iloc[1], "gemma-2-2b-it: step change"),
         ", the smoothed line by ", Near(smoothed.iloc[2] - smoothed.iloc[1], "gemma-2-2b-it: step change")),
        f"({tokens[0]:,} against {tokens[1]:,} for Mistral and {tokens[2]:,} for Gemma)"]


def lesson_08():
    from medlearn.data import prepare_dataset

    data = prepare_dataset(["medical-dialogue", "chatdoctor"], sample=True)
    dialogue, chatdoctor = (data.reports[name] for name in ("medical-dialogue", "chatdoctor"))
    after = newest("eval_llama-2-7b-chat-finetuned_", "offtopic")
    runs = [stats("llama-2-7b"), stats("llama-2-7b-chat")]
    return run_table(runs, "tokens seen in 8 steps") + [
        f"Cleaning kept {dialogue.rows_kept} of {dialogue.rows_read} rows of the first sample and "
        f"{chatdoctor.rows_kept} of {chatdoctor.rows_read} of the second",
        f"giving {len(data.train)} training rows and {len(data.eval)} eval rows",
        ("The Alpaca run's eval loss fell by ", drop(runs[0]), " in 8 steps"),
        ("declined ", Near(100 * after["declined_non_medical"], "off-topic: % declined", "{:.0f}"),
         f"% of {after['n_non_medical']} non-medical questions and answered ",
         Near(100 * after["answered_medical"], "off-topic: % answered", "{:.0f}"), f"% of {after['n_medical']} medical ones")
    ] + on_topic_rows()


def on_topic_rows():
    """Notebook 08's real model before and after the stay-on-topic mix, and with the guard in front."""
    base = newest("eval_smollm2-135m-instruct-", "base_offtopic")
    rows = [f"| | declined non-medical (n = {base['n_non_medical']}) | answered medical (n = {base['n_medical']}) |"]
    for side, label in (("base", "SmolLM2 as published"), ("on-topic", "after the stay-on-topic mix"),
                        ("on-topic-guarded", "the same, guard in front")):
        result = newest("eval_smollm2-135m-instruct-", f"{side}_offtopic")
        rows.append(table_row(label, [(Near(100 * result[key], f"smollm2 off-topic: {what}", "{:.0f}"), "%")
                                      for key, what in (("declined_non_medical", "% declined"),
                                                        ("answered_medical", "% answered"))]))
    return rows


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
            table_row("eval loss before → after", [losses(s)]),
            table_row("last training loss", [(last_loss(s),)]),
            f"| training rows (medtuned / finetome) | {trained['medtuned']} / {trained['finetome']} |",
            ("(down ", drop(s), ")")]


def lesson_10():
    run = "llama-3_1-8b-instruct"
    base, tuned = (newest(f"eval_{run}-{side}_", "heldout") for side in ("base", "finetuned"))
    held_out = (Near(base["loss"], "notebook 10: held-out loss"), Near(tuned["loss"], "notebook 10: held-out loss"))
    lines = [table_row(f"held-out loss, {base['n']} conversations", [held_out[:1], held_out[1:]]) + (" |", " |"),
             ("The held-out loss fell from ", held_out[0], " to ", held_out[1])]
    for benchmark, title in (("pubmedqa", "PubMedQA"), ("medqa", "MedQA"), ("medmcqa", "MedMCQA")):
        b, t = (newest(f"eval_{run}-{side}_", benchmark) for side in ("base", "finetuned"))
        key = f"notebook 10: {benchmark} accuracy"
        lines.append(table_row(f"{title}, n = {b['n']}", [(Near(b["accuracy"], key),), (Near(t["accuracy"], key),)]))
    real = {protocol: [newest("eval_smollm2-135m-instruct_", f"{benchmark}_{protocol}")["accuracy"]
                       for benchmark in ("pubmedqa", "medqa", "medmcqa")] for protocol in ("leaderboard", "chat")}
    labels = {"leaderboard": "leaderboard protocol (no template)", "chat": "chat protocol (its ChatML template)"}
    return lines + [table_row(labels[protocol], [(f"{a:.3f}",) for a in accuracies])
                    for protocol, accuracies in real.items()] + [
        f"On PubMedQA it scored {real['leaderboard'][0]:.3f} under the leaderboard protocol and "
        f"{real['chat'][0]:.3f} under chat."]


def trained_of_total(template):
    """(answer tokens, all tokens) of notebook 03's sample conversation on the family's tiny tokenizer."""
    from medlearn.templates import SAMPLE_CONVERSATION, describe_tokens, tiny_tokenizer

    tokens = describe_tokens(tiny_tokenizer(template), SAMPLE_CONVERSATION, template)
    return sum(token["trained"] for token in tokens), len(tokens)


def lesson_01():
    from importlib.metadata import version

    from medlearn.registry import registry_rows

    sys.path.insert(0, str(REPO / "tools"))
    import install
    from colab_runtime import read_freeze

    colab = {install.canonical(name): release for name, release in read_freeze().items()}
    moves = [f"| {name} | {colab[name]} |" for name in install.JUSTIFIED_COLAB_MOVES]  # the install's table

    models = {row["name"]: row for row in registry_rows()}
    gemmas = [name for name, row in models.items() if row["family"] == "gemma"]
    fp16 = {name: f"{row['params_b'] * 2:.1f} GB" for name, row in models.items()}  # notebook 01's weights table
    numbers = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 10: "ten", 11: "eleven", 12: "twelve"}
    return [f"gave me {numbers[len(models)]} models", f"{numbers[len(gemmas)]} Gemmas",
            f"Llama-3.1-8B needs {fp16['llama-3.1-8b-instruct']}, Gemma-2-9B {fp16['gemma-2-9b-it']}, "
            f"Mistral-7B {fp16['mistral-7b-instruct-v0.3']}",
            f"{models['llama-3.1-8b-instruct']['params_b'] * 0.5:.1f} GB for Llama-3.1-8B",
            f"torch {version('torch').split('+')[0]} (CPU), unsloth {version('unsloth')}, transformers "
            f"{version('transformers')}, trl {version('trl')} and peft {version('peft')}"] + moves


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
    real = folder.parent / "smollm2_gguf"  # the real model's files, same notebook
    real_sizes = {method: (real / f"smollm2_gguf.{method.upper()}.gguf").stat().st_size / 1e6 for method in ("q8_0", "q4_k_m")}
    return [", ".join(f"{method} {size:.2f} MB" for method, size in sizes.items()) + ".",
            ", ".join(f"{method} {size:.2f} MB" for method, size in real_sizes.items()) + ","]


LESSONS = {"01_setup_and_gpu_check.md": lesson_01, "02_medical_datasets.md": lesson_02,
           "03_prompt_templates.md": lesson_03, "04_finetune_llama.md": lesson_04, "05_finetune_mistral.md": lesson_05,
           "06_finetune_gemma.md": lesson_06, "07_compare_runs.md": lesson_07,
           "08_doctor_patient_dialogues.md": lesson_08, "09_biomedical_instructions.md": lesson_09,
           "10_evaluation.md": lesson_10,
           "11_use_your_model.md": lesson_11}


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lesson_quotes_the_figures_its_notebook_wrote(lesson):
    text = " ".join((REPO / "lessons" / lesson).read_text(encoding="utf-8").split())  # lines rejoined
    problems = [problem for problem in (line_problem(line, text) for line in LESSONS[lesson]()) if problem]
    assert not problems, f"lessons/{lesson} does not say what the notebook run wrote:\n" + "\n".join(problems)

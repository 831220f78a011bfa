"""Benchmark: load + clean + split + render a 20k-row file in the MedQuAD or ai-medical-chatbot schema.

    python benchmarks/bench_data.py [--rows 20000] [--template llama-3] [--source ai-medical-chatbot]

Writes a synthetic CSV with the source's quirks (MedQuAD: doubled '? ?', exact and normalized
duplicates, blank answers; ai-medical-chatbot adds the scraped 'Q. ' prefix, a trailing '-->', HTML
tags, referral-only, short and cut answers, so every chat rule runs), then times each stage of the
data pipeline (the benchmark leak check included) and prints rows per second. Rendering uses medlearn.templates (prepare_tokenizer + add_text_column) with the
tiny offline tokenizer of the template's family, so no download is needed.
"""
import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

CONDITIONS = ["asthma", "gout", "anemia", "glaucoma", "psoriasis", "migraine", "shingles", "rosacea",
              "tinnitus", "sciatica", "eczema", "lupus", "scabies", "vertigo", "cataract", "angina"]
QTYPES = {"information": "What is (are) {} ?", "symptoms": "What are the symptoms of {} ?",
          "treatment": "What are the treatments for {} ?", "causes": "What causes {} ?"}
WORDS = ("the condition often improves with rest fluids and follow up care while a doctor checks "
         "blood pressure medicines and any warning signs that need urgent attention").split()


def write_rows(path, rows, seed=0):
    """Synthetic MedQuAD-shaped rows; about 5% carry a quirk that cleaning must count."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["qtype", "Question", "Answer"])
        written, i = 0, 0
        while written < rows:
            i += 1
            qtype = rng.choice(list(QTYPES))
            question = QTYPES[qtype].format(f"{rng.choice(CONDITIONS)} type {i // 3}")
            answer = " ".join(rng.choices(WORDS, k=rng.randint(20, 80))).capitalize() + "."
            roll = rng.random()
            if roll < 0.02:
                question += " ?"            # the doubled question mark
            elif roll < 0.03:
                answer = ""                 # a blank answer
            batch = [[qtype, question, answer]]
            if 0.03 <= roll < 0.05:
                batch.append([qtype, question.upper(), answer])  # a normalized duplicate
            if roll > 0.98:
                batch.append([qtype, question, answer])  # an exact duplicate
            batch = batch[:rows - written]
            writer.writerows(batch)
            written += len(batch)


CHAT_ENDINGS = ["", " -->", "", "<br>Take care.", ""]
CHAT_JUNK = ["Hi. For more doubts consult a specialist online.", "Hi. It is nothing serious.",
             "Hi. The most likely cause of this is the"]


def write_chat_rows(path, rows, seed=0):
    """Synthetic ai-medical-chatbot rows (Description, Patient, Doctor); about 6% are junk answers."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Description", "Patient", "Doctor"])
        for i in range(rows):
            condition = f"{rng.choice(CONDITIONS)} type {i // 3}"
            patient = f"Hi doctor, I think I have {condition}. " + " ".join(rng.choices(WORDS, k=30))
            answer = "Hi. " + " ".join(rng.choices(WORDS, k=rng.randint(25, 80))).capitalize() + "."
            roll = rng.random()
            answer = rng.choice(CHAT_JUNK) if roll < 0.06 else answer + rng.choice(CHAT_ENDINGS)
            writer.writerow([f"Q. What should I do about {condition}?", patient, answer])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--template", default="llama-3")
    parser.add_argument("--source", default="medquad", choices=["medquad", "ai-medical-chatbot"])
    args = parser.parse_args()

    import datasets

    from medlearn.data import clean, load_source, split_train_eval
    from medlearn.templates import add_text_column, tiny_tokenizer

    datasets.disable_progress_bars()
    tokenizer = tiny_tokenizer(args.template)  # prepare_tokenizer on the tiny family tokenizer
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{args.source}_synthetic.csv"
        (write_rows if args.source == "medquad" else write_chat_rows)(path, args.rows)
        timings, start = {}, time.perf_counter()
        rows = load_source(args.source, path=path)
        timings["load"] = time.perf_counter() - start
        cleaned, report = clean(rows)  # with the shipped benchmark samples as the leak check
        timings["clean"] = time.perf_counter() - start - sum(timings.values())
        parts = split_train_eval(cleaned)
        timings["split"] = time.perf_counter() - start - sum(timings.values())
        rendered = add_text_column(parts["train"], tokenizer, args.template)
        timings["render"] = time.perf_counter() - start - sum(timings.values())
    total = sum(timings.values())
    print(report)
    print(f"train {len(parts['train'])} rows, eval {len(parts['eval'])} rows, "
          f"rendered {len(rendered)} rows for {args.template}")
    for stage, seconds in timings.items():
        print(f"{stage:>7}: {seconds:6.2f} s")
    print(f"  total: {total:6.2f} s  ->  {len(rows) / total:,.0f} rows/s (load+clean+split+render)")


if __name__ == "__main__":
    main()

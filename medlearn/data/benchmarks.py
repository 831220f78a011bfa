"""Medical multiple-choice benchmarks, read in their published schemas and turned into one question schema.

Every loader returns a `Benchmark` whose `questions` is a datasets.Dataset with columns
  id (str), question (str), context (str, "" when there is none), options (list of str), answer (int index)
whatever the source looked like, so scoring and baselines never need to know which benchmark it was.
The Hub, a learner's own file (`path=`) and the shipped samples (`sample=True`) all go through
`datasets.load_dataset` and the same converter, so the samples test the code path learners use.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SAMPLES_DIR = DATA_DIR / "benchmarks"
PUBMEDQA_TEST_IDS = DATA_DIR / "pubmedqa_test_pmids.txt"
LETTERS = "ABCDEFGHIJ"
PUBMEDQA_OPTIONS = ["yes", "no", "maybe"]


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    title: str
    hub_id: str
    config: str  # Hub config name, or None
    split: str  # the split the literature reports on
    required: tuple  # fields every row must have, in the Hub's schema
    lettered: bool  # options shown as A., B., ... and answered with the letter
    note: str


BENCHMARKS = {spec.name: spec for spec in [
    BenchmarkSpec("pubmedqa", "PubMedQA", "qiaojin/PubMedQA", "pqa_labeled", "train",
                  ("pubid", "question", "context", "final_decision"), False,
                  "1,000 expert-labelled rows in one 'train' split; scored on the official 500-id test subset."),
    BenchmarkSpec("medqa", "MedQA (USMLE, 4 options)", "GBaker/MedQA-USMLE-4-options", None, "test",
                  ("question", "options", "answer_idx"), True, "US medical licensing exam questions; test has 1,273."),
    BenchmarkSpec("medmcqa", "MedMCQA", "openlifescienceai/medmcqa", None, "validation",
                  ("question", "opa", "opb", "opc", "opd", "cop"), True,
                  "Indian medical entrance exam questions; test answers are withheld, so validation (4,183) is used. "
                  "The Hub numbers answers (cop) 0-3; the GitHub release (dev.json) 1-4, detected and converted."),
]}


@dataclass
class Benchmark:
    name: str
    questions: object  # datasets.Dataset in the question schema above
    source: str  # Hub id, file path or sample file
    split: str
    rows_read: int
    excluded: dict = field(default_factory=dict)  # reason -> number of rows left out

    def describe(self):
        left_out = "".join(f"; {n} left out: {reason}" for reason, n in self.excluded.items())
        return (f"{BENCHMARKS[self.name].title}: {self.rows_read} rows read from {self.source} "
                f"({self.split}){left_out}; {len(self.questions)} questions to score.")


def get_benchmark(name):
    """The BenchmarkSpec for `name`, or a ValueError listing the valid names."""
    if name not in BENCHMARKS:
        raise ValueError(f"Unknown benchmark {name!r}. Valid benchmarks: {', '.join(BENCHMARKS)}.")
    return BENCHMARKS[name]


def sample_path(name):
    return SAMPLES_DIR / f"{get_benchmark(name).name}_sample.jsonl"


def load_benchmark(name, sample=False, path=None, split=None, limit=None, test_subset=True, cop_base=None,
                   skip_bad_rows=False):
    """Load a benchmark from the Hub, a file (`path`) or the shipped sample, in the question schema.

    PubMedQA keeps only the official test ids unless test_subset=False; `limit` keeps the first N.
    cop_base (MedMCQA only): 0 for the Hub release (cop 0-3), 1 for the GitHub release (cop 1-4);
    None detects it from the answers and says so, or asks when the answers cannot tell.
    """
    spec = get_benchmark(name)
    check_limit(limit)
    rows, source, split = read_rows(spec, sample, path, split, skip_bad_rows)
    check_fields(rows, spec, source)
    offset = medmcqa_cop_base(rows["cop"] if hasattr(rows, "column_names") else [r["cop"] for r in rows],
                              source, cop_base) if spec.name == "medmcqa" else 0
    questions = [convert_row(spec, row, index, offset) for index, row in enumerate(rows)]
    excluded = {}
    if spec.name == "pubmedqa" and test_subset:
        questions, excluded = keep_pubmedqa_test_ids(questions, source)
    if limit is not None and limit < len(questions):
        excluded[f"beyond --limit {limit}"] = len(questions) - limit
        questions = questions[:limit]
    from datasets import Dataset

    return Benchmark(spec.name, Dataset.from_list(questions), source, split, len(rows), excluded)


def check_limit(limit):
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive number of questions, got {limit!r}. "
                         "Leave it out to score every question.")


def read_rows(spec, sample, path, split, skip_bad_rows=False):
    """The raw rows (a Dataset or list of dicts), where they came from, and the split name."""
    from datasets import load_dataset

    if path is not None:
        return read_file(spec, Path(path), skip_bad_rows), str(path), split or "file"
    if sample:
        # Named relative to the repository, so printed reports read the same on every machine.
        shown = sample_path(spec.name).relative_to(DATA_DIR.parent)
        return load_dataset("json", data_files=str(sample_path(spec.name)), split="train"), \
            str(shown), "sample"
    split = split or spec.split
    return load_dataset(spec.hub_id, spec.config, split=split), spec.hub_id, split


def read_file(spec, path, skip_bad_rows=False):
    """A Parquet, JSON Lines, JSON or CSV file in the Hub schema, or PubMedQA's ori_pqal.json,
    checked line by line (medlearn.files) before it is parsed."""
    from ..files import check_file, read_table

    if not path.exists():
        raise FileNotFoundError(f"Benchmark file {path} does not exist.")
    if path.suffix.lower() == ".json" and spec.name == "pubmedqa":
        check_file(path)
        if is_keyed_by_pmid(path):
            return read_ori_pqal(path)
    return read_table(path, skip_bad_rows)


def is_keyed_by_pmid(path):
    """True for ori_pqal.json: one JSON object whose keys are PubMed ids (the Hub export is a list/lines)."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError:
        return False  # JSON Lines, which load_dataset reads
    return isinstance(data, dict) and bool(data) and all(str(key).isdigit() for key in data)


# PubMedQA's original release spells its fields in capitals; these are the Hub's names for them.
ORI_PQAL_FIELDS = {"QUESTION": "question", "CONTEXTS": "contexts", "LABELS": "labels",
                   "MESHES": "meshes", "LONG_ANSWER": "long_answer", "final_decision": "final_decision"}


def read_ori_pqal(path):
    """Rows in the Hub's pqa_labeled schema from the original {PMID: {QUESTION, CONTEXTS, ...}} file."""
    rows = []
    for pmid, entry in json.loads(Path(path).read_text()).items():
        missing = [key for key in ("QUESTION", "CONTEXTS", "final_decision") if key not in entry]
        if missing:
            raise ValueError(f"{path}: PMID {pmid} has no {', '.join(missing)} field; an ori_pqal.json "
                             f"entry needs {', '.join(ORI_PQAL_FIELDS)}.")
        rows.append({"pubid": int(pmid), "question": entry["QUESTION"],
                     "context": {"contexts": entry["CONTEXTS"], "labels": entry.get("LABELS", []),
                                 "meshes": entry.get("MESHES", [])},
                     "long_answer": entry.get("LONG_ANSWER", ""), "final_decision": entry["final_decision"]})
    return rows


def check_fields(rows, spec, source):
    """Fail early, naming the missing field, when a file is not in the benchmark's schema."""
    columns = rows.column_names if hasattr(rows, "column_names") else list(rows[0]) if rows else []
    if not columns:
        raise ValueError(f"{source} holds no rows for {spec.title}.")
    missing = [name for name in spec.required if name not in columns]
    if missing:
        raise ValueError(f"{source} is not in the {spec.title} schema ({spec.hub_id}): missing field "
                         f"{', '.join(repr(m) for m in missing)}. Expected fields {', '.join(spec.required)}; "
                         f"found {', '.join(columns)}.")


def medmcqa_cop_base(cops, source, cop_base=None):
    """0 or 1: how a MedMCQA file numbers its answers (`cop`), checked against every row.

    The Hub release (openlifescienceai/medmcqa) numbers opa..opd 0-3; the GitHub release
    (medmcqa/medmcqa, train.json / dev.json) numbers them 1-4. A 4 with no 0 is the GitHub release and
    is converted, with a message. Answers all within 1-3 fit both: we ask instead of guessing, since a
    wrong guess would shift every answer by one option.
    """
    if cop_base is not None:
        if cop_base not in (0, 1):
            raise ValueError(f"cop_base must be 0 (Hub release, cop 0-3) or 1 (GitHub release, cop 1-4), "
                             f"got {cop_base!r}.")
        return cop_base
    values = set(cops)
    if 0 in values and 4 in values:
        raise ValueError(f"{source}: MedMCQA answers (cop) include both 0 and 4, so they are neither the Hub's "
                         "0-3 nor GitHub's 1-4 numbering. Check the file.")
    if 4 in values:
        print(f"{source}: MedMCQA answers (cop) run 1-4, the GitHub release's numbering; converted to the "
              "Hub's 0-3 (cop 1 = opa). Pass cop_base=1 (--cop-base 1) to say so and silence this.")
        return 1
    if 0 in values:
        return 0
    raise ValueError(f"{source}: every MedMCQA answer (cop) is between 1 and 3, which fits both the Hub's 0-3 "
                     "and GitHub's 1-4 numbering. Say which: cop_base=0 (--cop-base 0) for the Hugging Face "
                     "release, cop_base=1 (--cop-base 1) for the GitHub release (train.json/dev.json).")


def convert_row(spec, row, index, cop_offset=0):
    """One raw row as {id, question, context, options, answer}; errors name the row."""
    if spec.name == "medmcqa":
        item = convert_medmcqa(row, index, cop_offset)
    else:
        item = {"pubmedqa": convert_pubmedqa, "medqa": convert_medqa}[spec.name](row, index)
    if not str(item["question"] or "").strip():
        raise ValueError(f"{spec.title} row {index} (id {item['id']}): the question is empty.")
    return item


def convert_pubmedqa(row, index):
    context = row["context"] or {}
    if "contexts" not in context:
        raise ValueError(f"PubMedQA row {index} (pubid {row['pubid']}): field 'context' has no 'contexts' "
                         "list; expected context = {contexts, labels, meshes}.")
    answer = check_answer(row["final_decision"], PUBMEDQA_OPTIONS, "PubMedQA", index, row["pubid"],
                          "final_decision")
    return {"id": str(row["pubid"]), "question": row["question"], "context": "\n".join(context["contexts"]),
            "options": list(PUBMEDQA_OPTIONS), "answer": answer}


def convert_medqa(row, index):
    options = row["options"]
    if not isinstance(options, dict) or not options:
        raise ValueError(f"MedQA row {index}: 'options' must be a mapping like {{'A': ..., 'B': ...}}, "
                         f"got {options!r}.")
    # Parquet/JSON give every row the union of keys: options another row had are None here.
    letters = [letter for letter in sorted(options) if options[letter] is not None]
    answer = check_answer(row["answer_idx"], letters, "MedQA", index, f"row-{index}", "answer_idx")
    return {"id": f"row-{index}", "question": row["question"], "context": "",
            "options": [str(options[letter]) for letter in letters], "answer": answer}


def convert_medmcqa(row, index, cop_offset=0):
    row_id = row.get("id") or f"row-{index}"
    options = [row[key] for key in ("opa", "opb", "opc", "opd")]
    empty = [key for key, text in zip(("opa", "opb", "opc", "opd"), options) if not str(text or "").strip()]
    if empty:
        raise ValueError(f"MedMCQA row {index} (id {row_id}): option {', '.join(empty)} is empty.")
    numbering = "0=opa .. 3=opd" if cop_offset == 0 else "GitHub release: 1=opa .. 4=opd"
    valid = [value + cop_offset for value in range(4)]
    answer = check_answer(row["cop"], valid, "MedMCQA", index, row_id, f"cop ({numbering})")
    return {"id": str(row_id), "question": row["question"], "context": "",
            "options": [str(text) for text in options], "answer": answer}


def check_answer(label, valid, title, index, row_id, field_name):
    """The index of `label` among `valid`, or an error naming the row and the valid labels."""
    if label not in valid:
        raise ValueError(f"{title} row {index} (id {row_id}): answer {label!r} in field {field_name} is not "
                         f"one of the options {', '.join(str(v) for v in valid)}.")
    return valid.index(label)


def read_pubmedqa_test_ids(path=PUBMEDQA_TEST_IDS):
    """The 500 PubMed ids of the official PubMedQA test set, as strings."""
    ids = {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}
    if not ids:
        raise ValueError(f"{path} lists no PubMed ids.")
    return ids


def keep_pubmedqa_test_ids(questions, source):
    """Only the questions whose pubid is in the official test list; the rest are counted, not lost."""
    test_ids = read_pubmedqa_test_ids()
    kept = [item for item in questions if item["id"] in test_ids]
    if not kept:
        raise ValueError(f"None of the {len(questions)} PubMedQA rows in {source} is in the official "
                         f"500-id test subset ({PUBMEDQA_TEST_IDS.name}). Pass test_subset=False "
                         "(--all-rows) to score every row.")
    return kept, {"not in the official PubMedQA test subset": len(questions) - len(kept)}

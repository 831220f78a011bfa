"""Answer with a (fine-tuned) model: the family template, streamed, stopping at its stop tokens.

    model, tokenizer, choice = load_chat_model("outputs/tiny-llama-3/adapter")
    chat = Chat(model, tokenizer, choice.template, max_context=512)
    for piece in chat.stream("What are the symptoms of asthma?"):
        print(piece, end="")

A Chat keeps the conversation inside the context budget (the oldest turns go first) and ends every
answer with DISCLAIMER; there is no option to leave it out.
"""
from dataclasses import dataclass

from .templates import SYSTEM_PROMPT

# Shown under every answer. Not a parameter anywhere: a course model is not a doctor.
DISCLAIMER = ("Not medical advice: this answer comes from a course model that can be wrong. "
              "Ask a doctor or pharmacist about your own health; in an emergency call your local "
              "emergency number.")
DISCLAIMER_BLOCK = "\n\n---\n" + DISCLAIMER
EMPTY_REPLY = "Please type a question: your message was empty."


class MessageTooLongError(ValueError):
    """One message (with the system prompt) does not fit the model's context, even with no history."""


def generate_reply(model, tokenizer, template, messages, max_new_tokens=64):
    """The assistant's next reply to `messages` (a list of role/content dicts), as text."""
    return "".join(stream_reply(model, tokenizer, template, messages, max_new_tokens)).strip()


@dataclass
class ReplyInfo:
    """What the last generation did: tokens in and out, and why it ended."""
    prompt_tokens: int = 0
    new_tokens: int = 0
    stop_reason: str = ""  # "stop token" (the turn ended) or "length" (max_new_tokens reached)


def before_and_after(result, messages, max_new_tokens=60):
    """(reply before, reply after) fine-tuning, greedy: the same model with its LoRA adapter switched off,
    then on. `result` is what train() returned."""
    model, tokenizer, template = result.model, result.tokenizer, result.choice.template
    with model.disable_adapter():  # the base model, as it answered before the LoRA update
        before = generate_reply(model, tokenizer, template, messages, max_new_tokens)
    return before, generate_reply(model, tokenizer, template, messages, max_new_tokens)


def stream_reply(model, tokenizer, template, messages, max_new_tokens=256, info=None):
    """Yield the reply's text piece by piece as the model writes it; greedy, stops at stop tokens."""
    import threading

    import torch
    from transformers import TextIteratorStreamer

    from .templates import encode_prompt, stop_token_ids

    ids = torch.tensor([encode_prompt(tokenizer, messages, template)], device=model.device)
    stops = stop_token_ids(tokenizer, template)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    result = {}

    def generate():
        with torch.inference_mode():
            result["output"] = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                do_sample=False, eos_token_id=stops, pad_token_id=tokenizer.pad_token_id,
                streamer=streamer)

    prepare_for_inference(model)
    worker = threading.Thread(target=generate, daemon=True)
    worker.start()
    yield from (piece for piece in streamer if piece)
    worker.join()
    if "output" not in result:
        raise RuntimeError("Generation stopped with an error; see the message printed above it.")
    _record(info, result["output"][0, ids.shape[1]:].tolist(), ids.shape[1], stops)


def prepare_for_inference(model):
    """Unsloth's fast inference path on a GPU (KV cache, eval mode); plain eval mode elsewhere.

    Needed after training: a model left in training mode with gradient checkpointing generates
    without its KV cache and writes garbage after the first token.
    """
    if getattr(model, "_medlearn_inference", False):
        return
    try:
        from unsloth import FastLanguageModel

        FastLanguageModel.for_inference(model)
    except (ImportError, AttributeError, NotImplementedError):
        model.eval()
    model._medlearn_inference = True


def _record(info, new_ids, prompt_tokens, stops):
    if info is None:
        return
    info.prompt_tokens = prompt_tokens
    info.new_tokens = len(new_ids)
    info.stop_reason = "stop token" if new_ids and new_ids[-1] in stops else "length"


def fit_history(encode, messages, max_context, max_new_tokens):
    """Drop the oldest user/assistant pairs until prompt + reply fit `max_context` tokens.

    encode(messages) gives the prompt's token ids. Returns (kept messages, number of turns dropped).
    A system prompt and the newest user message always stay; if they alone do not fit,
    MessageTooLongError says by how much.
    """
    system = messages[:1] if messages and messages[0]["role"] == "system" else []
    turns = messages[len(system):]
    budget = max_context - max_new_tokens
    if budget < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a question in a context of "
                         f"{max_context} tokens; lower max_new_tokens.")
    dropped = 0
    while True:
        kept = system + turns[2 * dropped:]
        length = len(encode(kept))
        if length <= budget:
            return kept, dropped
        if len(kept) == len(system) + 1:  # only the newest user message is left
            raise MessageTooLongError(
                f"Your message is too long for this model: with the system prompt it takes {length} tokens, "
                f"and the context holds {max_context} tokens including {max_new_tokens} for the answer. "
                f"Shorten it by about {length - budget} tokens.")
        dropped += 1


def context_length(model, default=2048):
    """The context the model was loaded with (Unsloth's max_seq_length), else its position limit."""
    for owner in (model, getattr(model, "base_model", None), getattr(model, "config", None)):
        value = getattr(owner, "max_seq_length", None)
        if isinstance(value, int) and value > 0:
            return value
    return getattr(getattr(model, "config", None), "max_position_embeddings", None) or default


class Chat:
    """A multi-turn conversation with one model; answers stream and always end with DISCLAIMER.

    guard: an object with allows(text) -> bool (medlearn.guard.TopicGuard); when it declines a
    question, the course's refusal is the answer and the model is not called.
    """

    def __init__(self, model, tokenizer, template, system_prompt=SYSTEM_PROMPT, max_context=None,
                 max_new_tokens=256, guard=None):
        self.model, self.tokenizer, self.template = model, tokenizer, template
        self.system_prompt = system_prompt
        self.max_context = max_context or context_length(model)
        self.max_new_tokens = max_new_tokens
        self.guard = guard
        self.history = []  # user/assistant messages, answers without the disclaimer
        self.last = ReplyInfo()
        self.trimmed_turns = 0  # turns left out of the last prompt to fit the context
        self.last_messages = []  # what the model was last given (after trimming)

    def reset(self):
        self.history = []

    def messages_for(self, text):
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + self.history + [{"role": "user", "content": text}]

    def stream(self, text):
        """Yield the answer to `text` in pieces; the last piece is the disclaimer block."""
        answer = yield from self._answer(text)
        if answer is not None:
            self.history += [{"role": "user", "content": text.strip()},
                             {"role": "assistant", "content": answer}]
        yield DISCLAIMER_BLOCK

    def ask(self, text):
        """The whole answer to `text`, disclaimer included."""
        return "".join(self.stream(text))

    def _answer(self, text):
        # Yields the answer's pieces and returns its text, or None when it must not enter the history.
        from .refusal import REFUSAL_REPLY

        self.last = ReplyInfo()
        if not isinstance(text, str) or not text.strip():
            yield EMPTY_REPLY
            return None
        if self.guard is not None and not self.guard.allows(text):
            self.last.stop_reason = "guard"
            yield REFUSAL_REPLY
            return REFUSAL_REPLY
        try:
            messages, self.trimmed_turns = fit_history(self.encode, self.messages_for(text.strip()),
                                                       self.max_context, self.max_new_tokens)
        except MessageTooLongError as error:
            yield str(error)
            return None
        self.last_messages = messages
        pieces = []
        for piece in self.generate(messages):
            pieces.append(piece)
            yield piece
        return "".join(pieces).strip()

    def encode(self, messages):
        """The generation prompt's token ids for `messages`."""
        from .templates import encode_prompt

        return encode_prompt(self.tokenizer, messages, self.template)

    def generate(self, messages):
        """Yield the reply's pieces (and record them in self.last)."""
        return stream_reply(self.model, self.tokenizer, self.template, messages, self.max_new_tokens, self.last)


class GgufChat(Chat):
    """A Chat with a GGUF file through llama.cpp: the file's own chat template, tokenizer and stop tokens."""

    def __init__(self, llm, system_prompt=SYSTEM_PROMPT, max_context=None, max_new_tokens=256, guard=None):
        super().__init__(llm, None, None, system_prompt, max_context or llm.n_ctx(), max_new_tokens, guard)

    def encode(self, messages):
        from .gguf import prompt_ids

        return prompt_ids(self.model, messages)

    def generate(self, messages):
        from .gguf import stream_gguf_reply

        return stream_gguf_reply(self.model, messages, self.max_new_tokens, self.last)


def strip_disclaimer(answer):
    """An answer as shown, without the disclaimer block (to feed a shown answer back as history)."""
    return answer[:-len(DISCLAIMER_BLOCK)] if answer.endswith(DISCLAIMER_BLOCK) else answer


DTYPES = ("auto", "float32", "float16", "bfloat16")


def resolve_dtype(dtype=None):
    """A torch dtype from None/"auto"/a name/a torch dtype.

    auto: float32 on a CPU (16-bit matmuls there are slow and round differently from lm-eval's
    float32), bfloat16 on a GPU that has it, float16 on one that does not (a T4).
    """
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "auto"):
        if not torch.cuda.is_available():
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    aliases = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
    name = aliases.get(dtype, dtype)
    if name not in DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}. Valid dtypes: {', '.join(DTYPES)} (or fp32, fp16, bf16).")
    return getattr(torch, name)


def load_chat_model(name_or_adapter, max_seq_length=2048, load_in_4bit=True, dtype=None, family=None,
                    any_family=False):
    """(model, tokenizer with its family template, ModelChoice) for a model name, adapter folder,
    plain Hugging Face model folder or Hub id.

    The one loader for using a model: chat, the web page and evaluation all come through here.
    dtype: a torch dtype or a name (see resolve_dtype); None keeps Unsloth's choice. A plain folder or
    Hub id is loaded as it is (no tiny stand-in); its family comes from its tokenizer unless given.
    any_family: a plain model of none of the course families is accepted (template None: evaluation
    scores it in plain text or its own chat template); chat and the web page need a course family.
    """
    from .adapters import load_adapter, looks_like_adapter
    from .models import choose_model_or_adapter, load_model
    from .templates import prepare_tokenizer

    dtype = None if dtype is None else resolve_dtype(dtype)
    if looks_like_adapter(name_or_adapter):
        return load_adapter(name_or_adapter, max_seq_length=max_seq_length, load_in_4bit=load_in_4bit,
                            dtype=dtype)
    if is_plain_model(name_or_adapter):
        return load_plain_model(str(name_or_adapter), max_seq_length, load_in_4bit, dtype, family, any_family)
    choice = choose_model_or_adapter(name_or_adapter)
    model, tokenizer = load_model(choice, max_seq_length, load_in_4bit, dtype)
    return model, prepare_tokenizer(tokenizer, choice.template), choice


def is_plain_model(name):
    """A Hugging Face model folder (config.json, no medlearn run info) or a Hub id (owner/name)."""
    from pathlib import Path

    from .record import RUN_INFO_FILE
    from .registry import MODELS, TINY_PREFIX

    name = str(name)
    if Path(name).is_dir():
        return Path(name, "config.json").is_file() and not Path(name, RUN_INFO_FILE).is_file()
    if name in MODELS or name.startswith(TINY_PREFIX):
        return False
    return name.count("/") == 1 and not name.startswith((".", "/"))


# A family is recognised by a token only its tokenizers have (checked in this order).
FAMILY_MARKERS = (("<|eot_id|>", "llama-3"), ("<start_of_turn>", "gemma"), ("<|end_of_turn|>", "openchat"),
                  ("[INST]", "mistral"))


def guess_family(tokenizer, config=None):
    """The course family of a plain model from its tokenizer's special tokens (and config), or None."""
    vocab = tokenizer.get_vocab()
    for marker, family in FAMILY_MARKERS:
        if marker in vocab:
            return family
    model_type = getattr(config, "model_type", "") or ""
    if model_type.startswith("mistral"):
        return "mistral"
    if model_type == "llama" and "<s>" in vocab:
        return "llama-2"
    return None


def load_plain_model(source, max_seq_length, load_in_4bit, dtype, family=None, any_family=False):
    """Load a model folder or Hub id through Unsloth; the chat template is its family's, or its own
    (template None) for a model of no course family."""
    from .models import ModelChoice, check_4bit_supported
    from .registry import FAMILIES, check_family, default_model
    from .templates import prepare_tokenizer

    if load_in_4bit:
        check_4bit_supported()
    from unsloth import FastLanguageModel  # imported late: it patches transformers on import

    from . import memory

    # Straight through Unsloth: medlearn.models.load_model resolves registry names and adapters,
    # which a model from outside the course is not. The ledger books it at its measured size.
    booking = memory.reserve(ModelChoice(source, source, "", "", tiny=False), load_in_4bit)
    model, tokenizer = FastLanguageModel.from_pretrained(source, max_seq_length=max_seq_length,
                                                         load_in_4bit=load_in_4bit, dtype=dtype)
    memory.book(model, booking)
    family = check_family(family) if family else guess_family(tokenizer, getattr(model, "config", None))
    if family is None and not any_family:
        raise ValueError(f"Cannot tell which course family {source} belongs to from its tokenizer; pass "
                         f"family= (--family) as one of {', '.join(FAMILIES)}. (medlearn eval scores any "
                         "causal LM without one.)")
    if family is None:  # any causal LM: scored as lm-eval scores it, or asked in its own chat template
        print(f"{source} belongs to none of the course families ({', '.join(FAMILIES)}): evaluated as it is, "
              "in plain text (--protocol leaderboard) or its tokenizer's own chat template (--protocol chat).")
        return model, tokenizer, ModelChoice(source, source, None, None, tiny=False)
    template = default_model(family).template
    choice = ModelChoice(source, source, family, template, tiny=False)
    return model, prepare_tokenizer(tokenizer, template), choice

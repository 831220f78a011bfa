"""The leaderboard protocol: lm-evaluation-harness's zero-shot prompts, scored exactly as lm-eval scores them.

The Open Medical-LLM Leaderboard runs lm-eval's tasks `pubmedqa`, `medqa_4options` and `medmcqa`. To put a
number beside theirs, the question must reach the model as those tasks write it:
  - plain text, no chat template (the tokenizer's default special tokens only, i.e. BOS for Llama);
  - PubMedQA  "Abstract: <contexts joined by newlines>\\nQuestion: <question>\\nAnswer:"
    MedQA     "Question: <question>\\nA. <option>\\n...D. <option>\\nAnswer:"
    MedMCQA   "Question: <question>\\nChoices:\\nA. <option>\\n...D. <option>\\nAnswer:"
  - each option is the continuation TARGET_DELIMITER + choice (" A", " yes"), zero-shot;
  - the context and the whole text are tokenized separately and the continuation is what the whole
    text has beyond the context's tokens (lm-eval's rule; whitespace ending a context moves to the
    continuation first);
  - acc = argmax of summed log-likelihoods; acc_norm = argmax of log-likelihood divided by the
    choice's length in characters (the delimiter not counted), as lm-eval's multiple-choice metric.
The formats are kept here as data (string.Template), the way lm-eval keeps them in its task files;
tests/test_eval_lm_eval.py runs lm-eval's own task definitions and holds these to them.
"""
from string import Template

from ..data.benchmarks import LETTERS

PROTOCOLS = ("leaderboard", "chat")
TARGET_DELIMITER = " "
# The lm-eval task each benchmark is compared with (the Open Medical-LLM Leaderboard's names).
LM_EVAL_TASKS = {"pubmedqa": "pubmedqa", "medqa": "medqa_4options", "medmcqa": "medmcqa"}

OPTION_LINE = Template("$letter. $text\n")
PROMPTS = {
    "pubmedqa": Template("Abstract: $context\nQuestion: $question\nAnswer:"),
    "medqa": Template("Question: $question\n${options}Answer:"),
    "medmcqa": Template("Question: $question\nChoices:\n${options}Answer:"),
}


def check_protocol(protocol):
    if protocol not in PROTOCOLS:
        raise ValueError(f"Unknown protocol {protocol!r}. Valid protocols: {', '.join(PROTOCOLS)} "
                         "(leaderboard: lm-eval's plain-text prompts; chat: the family chat template).")
    return protocol


def leaderboard_prompt(item, benchmark):
    """The text lm-eval's task for `benchmark` gives the model for one question (question schema item)."""
    options = "".join(OPTION_LINE.substitute(letter=letter, text=text)
                      for letter, text in zip(LETTERS, item["options"]))
    return PROMPTS[benchmark].substitute(question=item["question"], context=item["context"], options=options)


def leaderboard_choices(item, benchmark):
    """The choice strings lm-eval scores: letters for MedQA/MedMCQA, the words for PubMedQA."""
    if benchmark == "pubmedqa":
        return list(item["options"])
    return list(LETTERS[: len(item["options"])])


def encode_leaderboard_question(tokenizer, context, choices):
    """(context ids, one continuation id list per choice), tokenized the way lm-eval's HF model does.

    The continuation is TARGET_DELIMITER + choice; whitespace ending the context moves to the front
    of every continuation (so " A" stays one piece). The tokenizer's defaults decide the special
    tokens (BOS for Llama), as lm-eval leaves them. Each option's ids are what context + continuation
    has beyond the context's own ids.
    """
    stripped = context.rstrip()
    moved = context[len(stripped):]
    context_ids = tokenizer(stripped).input_ids
    continuations = [moved + TARGET_DELIMITER + choice for choice in choices]
    wholes = tokenizer([stripped + continuation for continuation in continuations]).input_ids
    replies = [whole[len(context_ids):] for whole in wholes]
    empty = [choice for choice, reply in zip(choices, replies) if not reply]
    if empty:
        raise ValueError(f"The option(s) {empty} encode to no tokens after the prompt {context[-40:]!r}.")
    return context_ids, replies

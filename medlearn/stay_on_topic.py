"""A stay-on-topic mix for a real model: decline what is not medical, answer the rest as it did before.

Refusal rows beside long medical conversations (medlearn.guard.add_refusal_examples) teach a small real
model the wrong rule: a short question gets the refusal. SmolLM2 trained that way declined most held-out
*medical* questions too (lessons/08). So here the topic is the only difference between the two kinds of
rows: every training question of the labelled set becomes one conversation, a non-medical question
answered with the course refusal, a medical one with the model's own greedy answer from before training.
Training on its own answers leaves the model's medical behaviour where it was (self-distillation), and
costs no answers we would have to write.

The questions are the train side of medlearn.data.split_labelled_questions, so the off-topic evaluation
(its eval side) never sees one of them.
"""
import re
from pathlib import Path

# 439 questions the course wrote (219 medical, 220 not), in the medical-questions schema (text, label).
COURSE_QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "stay-on-topic" / "questions.csv"
OWN_ANSWER_SOURCE = "own answer"
OWN_ANSWER_TOKENS = 40  # long enough for a first sentence or two; each answer costs a generation


def whole_sentences(text):
    """`text` up to its last complete sentence: a reply cut by the token limit, without its cut tail.

    A row that ends mid-sentence would teach the model to stop mid-sentence; a reply with no complete
    sentence at all is kept whole (dropping it would drop the question).
    """
    text = text.strip()
    if text.endswith((".", "!", "?")):
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text)]
    return text[:ends[-1]] if ends else text


def own_answers(evaluated, questions, max_new_tokens=OWN_ANSWER_TOKENS, batch_size=16):
    """The model's greedy answers to `questions` (user turns alone), cut to whole sentences."""
    from .evaluation.offtopic import generate_replies

    replies = generate_replies(evaluated.model, evaluated.tokenizer, evaluated.choice.template, list(questions),
                               max_new_tokens, batch_size)
    return [whole_sentences(reply) for reply in replies]


def stay_on_topic_mix(model_name, path=COURSE_QUESTIONS, max_new_tokens=OWN_ANSWER_TOKENS, seed=3407):
    """Dataset(messages, source) for `model_name`: refusals for the non-medical training questions of
    `path`, the model's own answers for the medical ones, shuffled; prints what it holds."""
    import gc

    from datasets import Dataset, concatenate_datasets

    from .data import split_labelled_questions
    from .evaluation import load_for_eval
    from .guard import refusal_rows
    from .models.choice import cuda_available

    train = split_labelled_questions(path=path)["train"]
    medical = [text for text, label in zip(train["text"], train["label"]) if label == 1]
    other = [text for text, label in zip(train["text"], train["label"]) if label == 0]
    if not medical or not other:
        raise ValueError(f"{path}: the train side needs medical (1) and non-medical (0) questions; it has "
                         f"{len(medical)} and {len(other)}.")
    evaluated = load_for_eval(model_name, load_in_4bit=cuda_available(), dtype="auto")
    answers = own_answers(evaluated, medical, max_new_tokens)
    del evaluated
    gc.collect()
    answered = Dataset.from_list([
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
         "source": OWN_ANSWER_SOURCE} for q, a in zip(medical, answers)])
    mixed = concatenate_datasets([answered, refusal_rows(other)]).shuffle(seed=seed)
    print(f"Stay-on-topic mix: {len(medical)} medical questions with {model_name}'s own answers "
          f"(at most {max_new_tokens} tokens, cut to whole sentences) + {len(other)} non-medical questions "
          f"with the refusal = {len(mixed)} rows.")
    return mixed

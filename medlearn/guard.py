"""Stay on topic: teach the model to decline non-medical questions, and a guard that declines for it.

Two tools, measured separately (benchmarks/bench_refusal.py):

1. A training mix. `add_refusal_examples` adds rows whose user turn is a non-medical question from
   the labelled medical-questions source and whose answer is medlearn.refusal.REFUSAL_REPLY. The
   questions come from the train side of medlearn.data.split_labelled_questions, whose other side
   the off-topic evaluation scores, so it never sees a question the model trained on.

2. A guard at inference. `train_guard` fits a logistic regression in torch on bag-of-words features
   of the same train side: lower-cased words, word pairs and 4-character pieces of words (so "ache"
   in "headache" counts), hashed, and summed with nn.EmbeddingBag; classes weighted equally. It needs no
   model and no network and trains in about a second. `guard.report` holds its accuracy on the
   held-out questions; with the 30-odd shipped sample questions that number rests on a handful of
   questions, so treat it as a smoke test. With the full source (23k questions) it means much more.
"""
import re
import zlib
from dataclasses import dataclass, field

HASH_BUCKETS = 2 ** 20  # hashed feature ids; only those seen in training get a weight
REFUSAL_SOURCE = "refusal"


def refusal_rows(questions):
    """Conversations teaching the refusal: each question answered with REFUSAL_REPLY."""
    from datasets import Dataset

    from .refusal import REFUSAL_REPLY

    return Dataset.from_list([
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": REFUSAL_REPLY}],
         "source": REFUSAL_SOURCE} for q in questions])


def refusal_count(train_rows, share):
    """How many refusal rows make them `share` of the mix: n / (train + n) = share."""
    if not 0 < share < 1:
        raise ValueError(f"share is the fraction of refusal rows in the mix, between 0 and 1 "
                         f"(e.g. 0.1); got {share!r}.")
    from .data.mix import rows_for_share

    return rows_for_share(train_rows, share)


def add_refusal_examples(train_dataset, share=0.1, sample=False, path=None, seed=3407, return_report=False):
    """`train_dataset` plus refusal rows making up `share` of the result, shuffled (columns messages, source).

    If fewer non-medical training questions exist than the share asks for, all of them are used and
    the achieved share is printed (and returned with return_report=True); no question is repeated.
    """
    from .data import mix

    if train_dataset is None or len(train_dataset) == 0:
        raise ValueError("add_refusal_examples needs a non-empty training set to add refusals to.")
    from .data import split_labelled_questions

    split = split_labelled_questions(sample=sample, path=path)["train"]
    non_medical = [text for text, label in zip(split["text"], split["label"]) if label == 0]
    wanted = refusal_count(len(train_dataset), share)
    refusals = refusal_rows(non_medical)
    count = min(wanted, len(refusals))
    mixed = mix({"train": train_dataset, REFUSAL_SOURCE: refusals},
                counts={"train": len(train_dataset), REFUSAL_SOURCE: count}, seed=seed)
    report = {"train_rows": len(train_dataset), "refusal_rows": count, "asked_for": wanted,
              "available_non_medical": len(refusals), "share": round(count / len(mixed), 4)}
    note = "" if count == wanted else f" (asked for {wanted}; only {len(refusals)} non-medical questions)"
    print(f"Added {count} refusal rows{note}: {report['share']:.1%} of {len(mixed)} training rows.")
    return (mixed, report) if return_report else mixed


# ---------------------------------------------------------------- the inference guard

def features(text):
    """Hashed bag-of-words ids: words, word pairs and 4-character pieces of each word."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    grams = ["w:" + w for w in words] + ["b:" + a + "_" + b for a, b in zip(words, words[1:])]
    for word in words:
        padded = "<" + word + ">"
        grams += ["c:" + padded[i:i + 4] for i in range(max(1, len(padded) - 3))]
    return [zlib.crc32(g.encode()) % HASH_BUCKETS for g in grams] or [0]


def _bags(texts, index):
    """EmbeddingBag inputs: known feature ids per text (unknown ones map to the last, zero row)."""
    import torch

    unknown = len(index)
    ids = [[index.get(i, unknown) for i in features(t)] for t in texts]
    offsets = torch.tensor([0] + [len(i) for i in ids[:-1]]).cumsum(0)
    return torch.tensor([x for i in ids for x in i]), offsets


@dataclass
class TopicGuard:
    """Declines a question when its probability of being medical is below `threshold`."""
    index: dict  # hashed feature id -> row of `weights` (features seen in training only)
    weights: object  # torch.nn.EmbeddingBag(len(index) + 1, 1); the last row (unseen features) is 0
    bias: float
    threshold: float = 0.5
    report: dict = field(default_factory=dict)

    def medical_probability(self, texts):
        import torch

        single = isinstance(texts, str)
        flat, offsets = _bags([texts] if single else list(texts), self.index)
        with torch.no_grad():
            p = torch.sigmoid(self.weights(flat, offsets).squeeze(-1) + self.bias).tolist()
        return p[0] if single else p

    def allows(self, text):
        """True for a question to answer (medical), False for one to decline."""
        return self.medical_probability(text) >= self.threshold


def fit_logistic(texts, labels, epochs=100, l2=1e-3, seed=3407):
    """(feature index, EmbeddingBag weights, bias): a logistic regression, full-batch Adam.

    Classes are weighted to count equally, so a set with more medical than other questions does
    not teach the guard to let everything through.
    """
    import torch

    torch.manual_seed(seed)
    index = {i: n for n, i in enumerate(sorted({i for t in texts for i in features(t)}))}
    bag = torch.nn.EmbeddingBag(len(index) + 1, 1, mode="sum", padding_idx=len(index))
    torch.nn.init.zeros_(bag.weight)
    bias = torch.zeros(1, requires_grad=True)
    flat, offsets = _bags(texts, index)
    target = torch.tensor(labels, dtype=torch.float32)
    positives = float(target.sum())
    pos_weight = torch.tensor((len(labels) - positives) / max(positives, 1.0))
    optimizer = torch.optim.Adam(list(bag.parameters()) + [bias], lr=0.1)
    for _ in range(epochs):
        optimizer.zero_grad()
        logits = bag(flat, offsets).squeeze(-1) + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)
        (loss + l2 * bag.weight.pow(2).sum()).backward()
        optimizer.step()
    return index, bag, float(bias.detach())


def train_guard(sample=False, path=None, extra_medical=None, threshold=0.5, epochs=100, seed=3407):
    """A TopicGuard fitted on the train side of the labelled questions; report = held-out accuracy.

    extra_medical: a Dataset with `messages` (e.g. your medical training set): its user questions
    are added as medical examples, which the labelled source alone has few of in the sample.
    """
    from .data import split_labelled_questions

    split = split_labelled_questions(sample=sample, path=path)
    texts, labels = list(split["train"]["text"]), list(split["train"]["label"])
    extra = medical_questions(extra_medical)
    index, weights, bias = fit_logistic(texts + extra, labels + [1] * len(extra), epochs, seed=seed)
    guard = TopicGuard(index, weights, bias, threshold)
    guard.report = score_guard(guard, split["eval"]["text"], split["eval"]["label"])
    guard.report.update(method="logistic regression on hashed words, word pairs and 4-char pieces",
                        train_questions=len(texts) + len(extra), extra_medical_questions=len(extra),
                        threshold=threshold)
    return guard


def medical_questions(dataset):
    """The first user message of every conversation in `dataset` (None: no questions)."""
    if dataset is None:
        return []
    return [next(m["content"] for m in messages if m["role"] == "user") for messages in dataset["messages"]]


def score_guard(guard, texts, labels):
    """Held-out accuracy, and the shares of non-medical declined and medical let through."""
    allowed = [p >= guard.threshold for p in guard.medical_probability(list(texts))]
    medical = [a for a, label in zip(allowed, labels) if label == 1]
    other = [not a for a, label in zip(allowed, labels) if label == 0]
    correct = sum(a == bool(label) for a, label in zip(allowed, labels))
    return {"heldout_questions": len(labels), "accuracy": round(correct / max(len(labels), 1), 4),
            "declined_non_medical": round(sum(other) / len(other), 4) if other else None,
            "answered_medical": round(sum(medical) / len(medical), 4) if medical else None}


def describe_guard(guard):
    r = guard.report
    return (f"On-topic guard ({r.get('method')}), trained on {r.get('train_questions')} questions: held-out "
            f"accuracy {r.get('accuracy', 0):.0%} on {r.get('heldout_questions')} questions (declined "
            f"{r.get('declined_non_medical', 0) or 0:.0%} of non-medical, answered "
            f"{r.get('answered_medical', 0) or 0:.0%} of medical).")


def offtopic_with_guard(result, guard):
    """Off-topic rates when `guard` answers first: a declined question gets the refusal, others the
    model's reply. `result` is what medlearn.evaluation.evaluate_offtopic returned (its examples)."""
    guarded = guarded_result(result, guard)
    return {key: guarded[key] for key in ("declined_non_medical", "answered_medical", "n_non_medical", "n_medical")}


def guarded_result(result, guard):
    """`result` (from evaluate_offtopic) as it reads with `guard` answering first: rates, and each example
    with the reply the user would see and whether it was declined, so a saved file agrees with its rates."""
    from .evaluation.offtopic import offtopic_rates
    from .refusal import REFUSAL_REPLY

    examples = [e if guard.allows(e["question"]) else dict(e, reply=REFUSAL_REPLY, declined=True)
                for e in result["examples"]]
    rates = offtopic_rates([e["label"] for e in examples], [e["reply"] for e in examples])
    method = f"on-topic guard, then {result.get('method', 'the model')}"
    return dict(result, **rates, examples=examples, method=method)


def default_guard(sample=True):
    """The guard `medlearn chat/serve --guard` use: labelled questions (the shipped sample, or the Hub
    source with sample=False) plus the medical questions of the shipped medquad and wikidoc samples,
    which the benchmark showed keep it from declining medical questions it has no words for."""
    from .data import prepare_dataset

    medical = prepare_dataset(["medquad", "wikidoc"], sample=True, eval_fraction=0.1).train
    return train_guard(sample=sample, extra_medical=medical)

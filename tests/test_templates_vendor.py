"""Every prompt format token for token against its vendor's own encoder, on the real vocabularies.

The oracles are the vendors' code and files, installed from the package index (never copied here):
Meta's ChatFormat and Llama 3 tokenizer (llama-models), Mistral's v1/v3 encoders and tokenizers
(mistral-common), and llama.cpp's Llama-2 vocabulary and publishers' templates (the llama-cpp-python
source distribution, fetched by tools/fetch_vendor_files.py).
"""
import copy

import pytest

from medlearn.templates import (SAMPLE_CONVERSATION, encode_prompt, prepare_tokenizer, render,
                                tokenize_conversation, trained_spans)
from medlearn.registry import MODELS
from medlearn.templates.conformance import CASES, WITH_REFERENCE, check_format, tokenizers_and_references
from medlearn.templates.reference import mistral_reference
from medlearn.vendor.files import llama_cpp_vocab_cases, quoted_chat_template
from medlearn.vendor.tokenizers import (llama2_sentencepiece_model, llama3_tokenizer,
                                                  meta_llama3_tokenizer, sentencepiece_tokenizer)

S = SAMPLE_CONVERSATION


def test_every_course_format_but_alpaca_has_a_vendor_reference():
    from medlearn.templates import TEMPLATES

    assert set(TEMPLATES) - set(WITH_REFERENCE) == {"alpaca"}


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_prompts_rows_and_trained_spans_equal_the_vendor_encoder(name):
    results = check_format(name)
    legacy_settings = 2 if name in ("llama-2", "mistral", "mistral-v0.2") else 1
    assert len(results) == len(CASES) * legacy_settings
    failures = [result.line() for result in results if not result.passed]
    assert not failures, "\n".join(failures)


# Formats whose reference runs on the vendor's real vocabulary, so a model version can be told by it.
ON_REAL_VOCABULARIES = ("llama-3", "llama-2", "mistral", "mistral-v0.2")


@pytest.mark.parametrize("name", sorted(n for n, spec in MODELS.items() if spec.template in ON_REAL_VOCABULARIES))
def test_each_registry_model_is_held_to_the_encoder_of_its_own_version(name):
    """By model, not only by template: the encoder a model's format is checked against (above) runs on the
    vocabulary of that model version, whose size is the model's own (config.json, medlearn.footprint).
    Mistral v0.2 has v0.1's 32,000 pieces; v0.3's encoder (32,768) would check another model's format."""
    from medlearn.footprint import SHAPES

    spec = MODELS[name]
    for vocabulary, tokenizer, _ in tokenizers_and_references(spec.template):
        assert len(tokenizer) == SHAPES[name].vocab, (
            f"{name} ({SHAPES[name].vocab:,} tokens) is given the {spec.template} format, which is checked "
            f"against {vocabulary} ({len(tokenizer):,} tokens): the format of another model version")


# --- the oracles themselves: the rebuilt vocabularies are the real ones ---

def test_llama2_vocabulary_rebuilt_from_llama_cpp_tokenizes_as_llama_cpp_expects():
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(llama2_sentencepiece_model()))
    cases = llama_cpp_vocab_cases()
    assert len(cases) > 40 and processor.vocab_size() == 32000
    assert [processor.encode(text) for text, _ in cases] == [ids for _, ids in cases]
    # transformers' tokenizer built from it agrees too, under both legacy settings, except where the text
    # starts with whitespace (transformers then adds no second "▁"; medlearn's templates never do that).
    for legacy in (True, False):
        tokenizer = sentencepiece_tokenizer("llama-2", legacy)
        for text, ids in cases:
            if text and not text[0].isspace():
                assert tokenizer(text, add_special_tokens=False).input_ids == ids, (legacy, text)


def test_llama3_transformers_tokenizer_equals_metas_tiktoken_tokenizer():
    ours, meta = llama3_tokenizer(), meta_llama3_tokenizer()
    texts = [render(prepare_tokenizer(copy.deepcopy(ours), "llama-3"), S, "llama-3"),
             "Fever: 38.5 °C, 3 days\n\n  and a stiff neck?", "naïve café — 100%"]
    for text in texts:
        assert ours(text, add_special_tokens=False).input_ids == meta.encode(
            text, bos=False, eos=False, allowed_special="all")
    assert ours("x").input_ids[0] == meta.bos_id


def test_llama3_rendering_equals_the_hub_template_with_its_dated_header():
    from medlearn.templates.reference import llama31_hub_template

    tokenizer = prepare_tokenizer(copy.deepcopy(llama3_tokenizer()), "llama-3")
    for _, messages in CASES:
        generation = messages[-1]["role"] == "user"
        hub = tokenizer.apply_chat_template(messages, chat_template=llama31_hub_template(), tokenize=False,
                                            add_generation_prompt=generation, date_string="26 Jul 2024")
        assert render(tokenizer, messages, "llama-3", add_generation_prompt=generation) == hub


# --- the three disagreements of issue 12, each on the real tokenizer ---

def test_mistral_v3_puts_the_system_prompt_before_the_last_question_as_mistral_does():
    tokenizer = prepare_tokenizer(copy.deepcopy(sentencepiece_tokenizer("mistral-v3", False)), "mistral")
    for messages in (S, S[:4]):  # a two-turn training row and a two-turn generation prompt
        ids = (encode_prompt(tokenizer, messages, "mistral") if messages[-1]["role"] == "user"
               else tokenize_conversation(tokenizer, messages, "mistral")["input_ids"])
        assert ids == mistral_reference(messages, messages[-1]["role"] == "user", "v3")[0]
        text = render(tokenizer, messages, "mistral", add_generation_prompt=messages[-1]["role"] == "user")
        last_question = text.rindex("[INST]")
        assert text.index(S[0]["content"]) > last_question  # not in the first [INST]


def test_mistral_v3_hub_style_template_keeps_the_system_prompt_of_a_training_row_through_medlearn():
    # The 'v3' template llama.cpp's test quotes writes the system prompt only when the LAST message is
    # the user's, so applied directly to a training row (ending with the answer) it loses it. medlearn
    # folds the system prompt into the last question before any template runs, so the row keeps it and
    # equals Mistral's encoder with that template too.
    hub_v3 = quoted_chat_template(
        "Mistral-Large-Instruct-2407 (mistralai 'v3' template; modified to have system prompt at start)")
    tokenizer = copy.deepcopy(sentencepiece_tokenizer("mistral-v3", False))
    tokenizer.chat_template = hub_v3
    assert S[0]["content"] not in tokenizer.apply_chat_template(S, tokenize=False)  # the loss, shown
    prepared = prepare_tokenizer(tokenizer, "mistral")
    assert prepared.chat_template == hub_v3  # it agrees with Mistral's encoder once the system is folded
    assert S[0]["content"] in render(prepared, S, "mistral")
    row = tokenize_conversation(prepared, S, "mistral")
    reference_ids, reference_spans = mistral_reference(S, False, "v3")
    assert row["input_ids"] == reference_ids and trained_spans(row["labels"]) == reference_spans


@pytest.mark.parametrize("name, vocab", [("llama-2", "llama-2"), ("mistral-v0.2", "mistral-v1")])
def test_training_and_inference_agree_whatever_the_legacy_flag(name, vocab):
    rows, prompts = {}, {}
    for legacy in (True, False):
        tokenizer = prepare_tokenizer(copy.deepcopy(sentencepiece_tokenizer(vocab, legacy)), name)
        rows[legacy] = tokenize_conversation(tokenizer, S, name)
        prompts[legacy] = encode_prompt(tokenizer, S[:4], name)
        # The prompt a model answers is the start of the row it was trained on, and the answer follows.
        row = rows[legacy]
        assert row["input_ids"][:len(prompts[legacy])] == prompts[legacy]
        assert trained_spans(row["labels"])[-1][0] == len(prompts[legacy])
        # Every "[INST]" written as text is read as "▁[" ... as Meta's and Mistral's encoders read it.
        tokens = tokenizer.convert_ids_to_tokens(row["input_ids"])
        assert tokens.count("▁[") == 2 * 2 and "[" not in tokens  # [INST] and [/INST], two turns
    assert rows[True] == rows[False] and prompts[True] == prompts[False]


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_answers_start_with_their_space_and_nothing_extra_precedes_inst_close(version):
    name, vocab = ("mistral-v0.2", "mistral-v1") if version == "v1" else ("mistral", "mistral-v3")
    tokenizer = prepare_tokenizer(copy.deepcopy(sentencepiece_tokenizer(vocab, True)), name)
    row = tokenize_conversation(tokenizer, S[1:3], name)
    start, end = trained_spans(row["labels"])[0]
    first_answer_token = tokenizer.convert_ids_to_tokens(row["input_ids"][start])
    assert first_answer_token == "▁A"  # not "A": the answer keeps its leading "▁", as Mistral encodes it
    if version == "v3":
        close = row["input_ids"].index(tokenizer.convert_tokens_to_ids("[/INST]"))
        assert tokenizer.convert_ids_to_tokens(row["input_ids"][close - 1]) != "▁"


# Templates Mistral's Hub repos carried, as llama.cpp's chat-template test quotes them.
OLD_V02 = "mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)"
V1_WITH_SYSTEM = "mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)"
V3 = "Mistral-Large-Instruct-2407 (mistralai 'v3' template; modified to have system prompt at start)"


@pytest.mark.parametrize("name, vocab, version, hub", [
    ("mistral-v0.2", "mistral-v1", "v1", OLD_V02), ("mistral-v0.2", "mistral-v1", "v1", V1_WITH_SYSTEM),
    ("mistral", "mistral-v3", "v3", V3), ("mistral", "mistral-v3", "v3", OLD_V02)])
def test_whatever_template_a_mistral_tokenizer_carries_medlearn_gives_mistrals_ids(name, vocab, version, hub):
    for legacy in (True, False):
        tokenizer = copy.deepcopy(sentencepiece_tokenizer(vocab, legacy))
        tokenizer.chat_template = quoted_chat_template(hub)
        prepared = prepare_tokenizer(tokenizer, name)
        for messages in (S, S[:4], S[1:3]):
            generation = messages[-1]["role"] == "user"
            ids = (encode_prompt(prepared, messages, name) if generation
                   else tokenize_conversation(prepared, messages, name)["input_ids"])
            assert ids == mistral_reference(messages, generation, version)[0], (hub, legacy, len(messages))


def test_a_replaced_hub_template_is_announced_once(capsys, monkeypatch):
    import importlib

    # The module, not the function of the same name that medlearn.templates exports.
    monkeypatch.setattr(importlib.import_module("medlearn.templates.render"), "_ANNOUNCED", set())  # as in a fresh session
    for _ in range(2):
        tokenizer = copy.deepcopy(sentencepiece_tokenizer("mistral-v1", False))
        tokenizer.chat_template = quoted_chat_template(OLD_V02)
        assert prepare_tokenizer(tokenizer, "mistral-v0.2").chat_template != quoted_chat_template(OLD_V02)
    said = capsys.readouterr().out
    assert said.count("using medlearn's vendor-exact mistral-v0.2 template") == 1
    assert "other token ids than mistral-common's v1 encoder" in said


def test_a_hub_template_that_agrees_with_the_vendor_is_kept():
    tokenizer = copy.deepcopy(sentencepiece_tokenizer("mistral-v3", False))
    from medlearn.templates.formats import MISTRAL_V3

    # Same ids, different text (a template that writes the same thing its own way): kept as it is.
    tokenizer.chat_template = MISTRAL_V3.replace("{{- bos_token -}}", "{{ bos_token }}")
    assert prepare_tokenizer(tokenizer, "mistral").chat_template == tokenizer.chat_template


@pytest.mark.parametrize("name, vocab, legacy", [
    ("llama-2", "llama-2", False), ("llama-2", "llama-2", True), ("mistral", "mistral-v3", False),
    ("mistral", "mistral-v3", True), ("mistral-v0.2", "mistral-v1", False)])
def test_trl_batches_on_the_real_vocabulary_equal_the_vendor_encoding(name, vocab, legacy, tmp_path):
    # TRL tokenizes the "text" column itself; what reaches the model must still be the vendor's ids, with
    # loss on exactly the vendor's answer tokens. The model is a random 1-layer stand-in of that vocabulary.
    import unsloth  # noqa: F401  (before trl and transformers, as in training)
    from datasets import Dataset
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTConfig, SFTTrainer

    from medlearn.templates import add_text_column, apply_response_only
    from medlearn.templates.conformance import tokenizers_and_references

    rows = [m for _, m in CASES if m[-1]["role"] == "assistant"]
    tokenizer = prepare_tokenizer(copy.deepcopy(sentencepiece_tokenizer(vocab, legacy)), name)
    encode = tokenizers_and_references(name)[0][2]
    dataset = add_text_column(Dataset.from_list([{"messages": m} for m in rows]), tokenizer, name)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=len(rows), max_length=512,
                     max_steps=1, report_to="none", dataset_num_proc=None)
    trainer = apply_response_only(SFTTrainer(model=model, args=args, train_dataset=dataset,
                                             processing_class=tokenizer), name)
    batch = next(iter(trainer.get_train_dataloader()))
    expected = {tuple(ids): spans for ids, spans in (encode(m, False) for m in rows)}
    seen = set()
    for ids, labels, mask in zip(batch["input_ids"].tolist(), batch["labels"].tolist(),
                                 batch["attention_mask"].tolist()):
        kept = [position for position, keep in enumerate(mask) if keep]  # these tokenizers pad on the left
        ids, labels = [ids[p] for p in kept], [labels[p] for p in kept]
        assert tuple(ids) in expected  # TRL's ids are the vendor's, exactly
        assert trained_spans(labels) == expected[tuple(ids)]
        seen.add(tuple(ids))
    assert len(seen) == len(rows)


# --- the tiny models carry the real vocabularies where the package index ships them ---

@pytest.mark.parametrize("family, vocab", [("mistral", "mistral-v3"), ("llama-2", "llama-2")])
def test_tiny_models_tokenize_exactly_as_the_real_vocabulary(family, vocab):
    from transformers import AutoTokenizer

    from medlearn.models.tiny import tiny_model_path

    tiny = AutoTokenizer.from_pretrained(str(tiny_model_path(family)))
    real = sentencepiece_tokenizer(vocab, False)
    assert len(tiny) == len(real) and tiny.get_vocab() == real.get_vocab()
    texts = [m["content"] for m in S] + ["Fever: 38.5 °C for 3 days\n\nand a stiff neck?"]
    for text in texts:
        assert tiny(text).input_ids == real(text).input_ids
    if family == "mistral":  # and as Mistral's own tokenizer encodes plain text
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        from medlearn.vendor.files import package_file
        from medlearn.vendor.tokenizers import MISTRAL_MODELS

        mistral = MistralTokenizer.from_file(str(package_file("mistral_common", "data", MISTRAL_MODELS["v3"])))
        for text in texts:
            assert tiny(text).input_ids == mistral.instruct_tokenizer.tokenizer.encode(text, bos=True, eos=False)

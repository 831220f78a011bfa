"""Prompt formats: byte-exact text, one BOS, real special tokens, and loss on the answers only.

Each test guards against one classic fine-tuning mistake; docs/prompt_mistakes.md says which.
"""
import pytest

from medlearn.templates import (SAMPLE_CONVERSATION, TEMPLATES, encode_text, get_template, prepare_tokenizer, render,
                                stop_token_ids, tiny_tokenizer, tokenize_conversation, trained_spans,
                                validate_conversation)

CONVERSATION = [
    {"role": "system", "content": "You are a careful medical assistant."},
    {"role": "user", "content": "What is a normal resting heart rate?"},
    {"role": "assistant", "content": "For adults, 60 to 100 beats per minute."},
    {"role": "user", "content": "Is 55 too low?"},
]

# (rendered without the generation prompt, rendered with it), written out in full. Adjacent literals
# are joined by Python at compile time; each line is one turn.
GOLDEN = {
    "llama-3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        "You are a careful medical assistant.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is a normal resting heart rate?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nFor adults, 60 to 100 beats per minute.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nIs 55 too low?<|eot_id|>",
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        "You are a careful medical assistant.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is a normal resting heart rate?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nFor adults, 60 to 100 beats per minute.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nIs 55 too low?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    # Llama-2 has no separate generation prompt: the prompt already ends with [/INST]. The space after
    # each <s> makes every tokenizer read "▁[" there, as Meta's encoder does (test_templates_vendor.py).
    "llama-2": (
        "<s> [INST] <<SYS>>\nYou are a careful medical assistant.\n<</SYS>>\n\n"
        "What is a normal resting heart rate? [/INST] For adults, 60 to 100 beats per minute. </s>"
        "<s> [INST] Is 55 too low? [/INST]",
        "<s> [INST] <<SYS>>\nYou are a careful medical assistant.\n<</SYS>>\n\n"
        "What is a normal resting heart rate? [/INST] For adults, 60 to 100 beats per minute. </s>"
        "<s> [INST] Is 55 too low? [/INST]",
    ),
    # Mistral v0.3: the system prompt joins the LAST question, as Mistral's encoder places it.
    "mistral": (
        "<s>[INST] What is a normal resting heart rate?[/INST] For adults, 60 to 100 beats per minute.</s>"
        "[INST] You are a careful medical assistant.\n\nIs 55 too low?[/INST]",
        "<s>[INST] What is a normal resting heart rate?[/INST] For adults, 60 to 100 beats per minute.</s>"
        "[INST] You are a careful medical assistant.\n\nIs 55 too low?[/INST]",
    ),
    # Mistral v0.1/v0.2: [INST] is plain text, with a space on each side; the system prompt joins the first.
    "mistral-v0.2": (
        "<s> [INST] You are a careful medical assistant.\n\nWhat is a normal resting heart rate? [/INST]"
        " For adults, 60 to 100 beats per minute.</s>"
        " [INST] Is 55 too low? [/INST]",
        "<s> [INST] You are a careful medical assistant.\n\nWhat is a normal resting heart rate? [/INST]"
        " For adults, 60 to 100 beats per minute.</s>"
        " [INST] Is 55 too low? [/INST]",
    ),
    "gemma": (
        "<bos><start_of_turn>user\nYou are a careful medical assistant.\n\n"
        "What is a normal resting heart rate?<end_of_turn>\n"
        "<start_of_turn>model\nFor adults, 60 to 100 beats per minute.<end_of_turn>\n"
        "<start_of_turn>user\nIs 55 too low?<end_of_turn>\n",
        "<bos><start_of_turn>user\nYou are a careful medical assistant.\n\n"
        "What is a normal resting heart rate?<end_of_turn>\n"
        "<start_of_turn>model\nFor adults, 60 to 100 beats per minute.<end_of_turn>\n"
        "<start_of_turn>user\nIs 55 too low?<end_of_turn>\n"
        "<start_of_turn>model\n",
    ),
    "alpaca": (
        "<s>You are a careful medical assistant.\n\n"
        "### Instruction:\nWhat is a normal resting heart rate?\n\n"
        "### Response:\nFor adults, 60 to 100 beats per minute.</s>\n\n"
        "### Instruction:\nIs 55 too low?\n\n",
        "<s>You are a careful medical assistant.\n\n"
        "### Instruction:\nWhat is a normal resting heart rate?\n\n"
        "### Response:\nFor adults, 60 to 100 beats per minute.</s>\n\n"
        "### Instruction:\nIs 55 too low?\n\n"
        "### Response:\n",
    ),
    "chatml": (
        "<bos><|im_start|>system\nYou are a careful medical assistant.<|im_end|>\n"
        "<|im_start|>user\nWhat is a normal resting heart rate?<|im_end|>\n"
        "<|im_start|>assistant\nFor adults, 60 to 100 beats per minute.<|im_end|>\n"
        "<|im_start|>user\nIs 55 too low?<|im_end|>\n",
        "<bos><|im_start|>system\nYou are a careful medical assistant.<|im_end|>\n"
        "<|im_start|>user\nWhat is a normal resting heart rate?<|im_end|>\n"
        "<|im_start|>assistant\nFor adults, 60 to 100 beats per minute.<|im_end|>\n"
        "<|im_start|>user\nIs 55 too low?<|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    "openchat": (
        "<s>GPT4 Correct User: You are a careful medical assistant.\n\n"
        "What is a normal resting heart rate?<|end_of_turn|>"
        "GPT4 Correct Assistant: For adults, 60 to 100 beats per minute.<|end_of_turn|>"
        "GPT4 Correct User: Is 55 too low?<|end_of_turn|>",
        "<s>GPT4 Correct User: You are a careful medical assistant.\n\n"
        "What is a normal resting heart rate?<|end_of_turn|>"
        "GPT4 Correct Assistant: For adults, 60 to 100 beats per minute.<|end_of_turn|>"
        "GPT4 Correct User: Is 55 too low?<|end_of_turn|>"
        "GPT4 Correct Assistant:",
    ),
}


@pytest.fixture(scope="module")
def tokenizers():
    return {name: tiny_tokenizer(name) for name in TEMPLATES}


def test_every_template_has_a_golden_string():
    assert set(GOLDEN) == set(TEMPLATES)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_render_matches_golden_text(tokenizers, name):
    without_prompt, with_prompt = GOLDEN[name]
    assert render(tokenizers[name], CONVERSATION, name) == without_prompt
    assert render(tokenizers[name], CONVERSATION, name, add_generation_prompt=True) == with_prompt


def special_tokens(tokenizer):
    return {entry.content: token_id for token_id, entry in tokenizer.added_tokens_decoder.items()
            if entry.special}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_special_tokens_are_single_ids_with_exactly_one_bos(tokenizers, name):
    tokenizer, spec = tokenizers[name], get_template(name)
    rows = [(render(tokenizer, SAMPLE_CONVERSATION, name),
             tokenize_conversation(tokenizer, SAMPLE_CONVERSATION, name)["input_ids"]),
            (render(tokenizer, SAMPLE_CONVERSATION[:-1], name, add_generation_prompt=True),
             tokenize_conversation(tokenizer, SAMPLE_CONVERSATION[:-1], name,
                                   add_generation_prompt=True)["input_ids"])]
    user_turns = sum(m["role"] == "user" for m in SAMPLE_CONVERSATION)
    for text, ids in rows:
        assert "\\n" not in text  # a two-character backslash-n, never a newline
        for token, token_id in special_tokens(tokenizer).items():
            # Every spelled-out special token became its single id: no "<s>" left as characters.
            assert text.count(token) == ids.count(token_id), token
        bos = tokenizer.bos_token_id
        assert ids[0] == bos and ids[1] != bos
        assert ids.count(bos) == (user_turns if spec.bos_every_turn else 1)
    full_text, full_ids = rows[0]
    # What trains is the template's text, tokenized as a prompt is (encode_text: the tokenizer's own BOS,
    # so SentencePiece splits the text after it as it does at inference), trailing whitespace aside.
    assert full_ids == encode_text(tokenizer, full_text.rstrip())


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_training_text_continues_the_generation_prompt(tokenizers, name):
    tokenizer = tokenizers[name]
    for reply in (2, 4):  # each assistant turn of the sample
        history, answer = SAMPLE_CONVERSATION[:reply], SAMPLE_CONVERSATION[reply]["content"]
        prompt = render(tokenizer, history, name, add_generation_prompt=True)
        full = render(tokenizer, SAMPLE_CONVERSATION[:reply + 1], name)
        assert full.startswith(prompt)
        assert full[len(prompt):].lstrip().startswith(answer)
        # Same at the token level: training sees the very ids inference feeds, and the first trained
        # token is the first token the model generates.
        prompt_ids = tokenize_conversation(tokenizer, history, name, add_generation_prompt=True)
        row = tokenize_conversation(tokenizer, SAMPLE_CONVERSATION[:reply + 1], name)
        n = len(prompt_ids["input_ids"])
        assert row["input_ids"][:n] == prompt_ids["input_ids"]
        assert trained_spans(row["labels"])[-1][0] == n


def assert_trains_exactly_the_replies(tokenizer, name, input_ids, labels, messages):
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    spans = trained_spans(labels)
    assert len(spans) == len(replies)
    end_of_turn = tokenizer.convert_tokens_to_ids(get_template(name).end_of_turn)
    for (start, end), reply in zip(spans, replies):
        assert labels[start:end] == input_ids[start:end]
        assert input_ids[end - 1] == end_of_turn  # the model learns to stop
        assert tokenizer.decode(input_ids[start:end - 1]).strip() == reply


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_only_assistant_replies_and_their_end_of_turn_are_trained(tokenizers, name):
    tokenizer = tokenizers[name]
    row = tokenize_conversation(tokenizer, SAMPLE_CONVERSATION, name)
    assert len(row["input_ids"]) == len(row["labels"]) == len(row["attention_mask"])
    assert_trains_exactly_the_replies(tokenizer, name, row["input_ids"], row["labels"], SAMPLE_CONVERSATION)


def test_generation_prompt_trains_nothing_and_max_length_truncates(tokenizers):
    tokenizer = tokenizers["gemma"]
    prompt = tokenize_conversation(tokenizer, CONVERSATION, "gemma", add_generation_prompt=True)
    assert set(prompt["labels"]) == {-100}
    short = tokenize_conversation(tokenizer, SAMPLE_CONVERSATION, "gemma", max_length=20)
    assert len(short["input_ids"]) == len(short["labels"]) == 20


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_eos_is_the_end_of_turn_token_and_stops_generation(tokenizers, name):
    tokenizer, spec = tokenizers[name], get_template(name)
    assert tokenizer.eos_token == spec.end_of_turn
    ids = stop_token_ids(tokenizer, name)
    assert ids[0] == tokenizer.eos_token_id
    assert all(tokenizer.convert_ids_to_tokens(i) in spec.stop_tokens for i in ids)


def test_prepare_tokenizer_is_idempotent_and_keeps_a_publishers_template():
    from transformers import AutoTokenizer

    from medlearn.models.tiny import tiny_model_path

    tokenizer = tiny_tokenizer("gemma")
    template = tokenizer.chat_template
    assert prepare_tokenizer(tokenizer, "gemma").chat_template == template
    own = AutoTokenizer.from_pretrained(tiny_model_path("gemma"))
    own.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"  # as if the publisher's
    kept = prepare_tokenizer(own, "gemma")
    assert kept.chat_template == own.chat_template and kept.eos_token == "<end_of_turn>"
    assert prepare_tokenizer(own, "gemma", force=True).chat_template == template


def test_tokenizer_prepared_for_one_template_is_refused_for_another(tokenizers):
    with pytest.raises(ValueError, match="prepared for the 'llama-2' template"):
        render(tokenizers["llama-2"], CONVERSATION, "alpaca")
    again = prepare_tokenizer(tiny_tokenizer("llama-2"), "alpaca")
    assert render(again, CONVERSATION, "alpaca") == GOLDEN["alpaca"][0]
    with pytest.raises(ValueError, match="'<\\|eot_id\\|>'.*llama-3 family"):
        prepare_tokenizer(tiny_tokenizer("gemma"), "llama-3", force=True)


USER, ASSISTANT, SYSTEM = CONVERSATION[1], CONVERSATION[2], CONVERSATION[0]


@pytest.mark.parametrize("messages, rule", [
    ([USER, USER], "message 1: expected role 'assistant' but got 'user'"),
    ([ASSISTANT, USER], "message 0: expected role 'user' but got 'assistant'"),
    ([USER, {"role": "assistant", "content": "  "}], r"message 1 \(assistant\): empty content"),
    ([USER, {"role": "doctor", "content": "Rest."}], "message 1: unknown role 'doctor'. Valid roles"),
    ([USER, ASSISTANT, SYSTEM], "message 2: a system prompt is allowed only as message 0"),
    ([USER, {"role": "assistant"}], "message 1: needs the keys 'role' and 'content'"),
    ([SYSTEM], "message 0: a system prompt alone"),
    ([], "non-empty list"),
])
def test_bad_conversations_name_the_message_and_the_rule(messages, rule):
    with pytest.raises(ValueError, match=rule):
        validate_conversation(messages, "llama-3")


def test_system_prompt_where_the_mode_forbids_it():
    validate_conversation(CONVERSATION, "gemma")  # merged by default
    validate_conversation(CONVERSATION, "llama-3", merge_system=False)  # llama-3 has a system role
    with pytest.raises(ValueError, match="message 0: the gemma template has no system role"):
        validate_conversation(CONVERSATION, "gemma", merge_system=False)


def test_conversation_must_end_where_its_use_requires(tokenizers):
    with pytest.raises(ValueError, match="message 3: .* must end with a message from the assistant"):
        tokenize_conversation(tokenizers["gemma"], CONVERSATION, "gemma")
    with pytest.raises(ValueError, match="message 4: the conversation must end with a message from the user"):
        render(tokenizers["gemma"], SAMPLE_CONVERSATION, "gemma", add_generation_prompt=True)


def test_unknown_template_lists_the_valid_ones(tokenizers):
    with pytest.raises(ValueError, match="Unknown template 'llama3'. Valid templates: llama-3, llama-2"):
        render(tokenizers["llama-3"], CONVERSATION, "llama3")

"""The templates inside a real TRL SFTTrainer, the prompt-mistake finder, and `medlearn prompts`."""
import pytest

from medlearn.templates import (SAMPLE_CONVERSATION, TEMPLATES, add_text_column, apply_response_only,
                                find_prompt_mistakes, get_template, render, tiny_tokenizer,
                                tokenize_conversation, trained_spans)

S = SAMPLE_CONVERSATION
ROWS = [{"messages": S, "source": "sample"},
        {"messages": S[1:3], "source": "sample"},  # one turn, no system prompt
        {"messages": [S[0], S[3], S[4]], "source": "sample"}]


def build_trainer(name, tmp_path):
    import unsloth  # noqa: F401  (before trl and transformers, as in training)
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from medlearn.models.tiny import tiny_model_path

    tokenizer = tiny_tokenizer(name)
    dataset = add_text_column(Dataset.from_list(ROWS), tokenizer, name)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path(get_template(name).family))
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=len(ROWS), max_length=512,
                     max_steps=1, report_to="none", dataset_num_proc=None)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    return apply_response_only(trainer, name), tokenizer


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_sft_trainer_batch_has_one_bos_and_trains_only_the_replies(name, tmp_path):
    trainer, tokenizer = build_trainer(name, tmp_path)
    batch = next(iter(trainer.get_train_dataloader()))
    expected = {tuple(tokenize_conversation(tokenizer, r["messages"], name)["input_ids"]): r["messages"]
                for r in ROWS}
    seen = set()
    for ids, labels, mask in zip(batch["input_ids"].tolist(), batch["labels"].tolist(),
                                 batch["attention_mask"].tolist()):
        length = sum(mask)  # right padding
        ids, labels = ids[:length], labels[:length]
        messages = expected[tuple(ids)]  # TRL tokenized exactly what tokenize_conversation does
        seen.add(tuple(ids))
        user_turns = sum(m["role"] == "user" for m in messages)
        bos_count = user_turns if get_template(name).bos_every_turn else 1
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == bos_count
        # Ends with EOS, and TRL did not append a second one.
        assert ids[-1] == tokenizer.eos_token_id and ids[-2] != tokenizer.eos_token_id
        replies = [m["content"] for m in messages if m["role"] == "assistant"]
        spans = trained_spans(labels)
        assert [tokenizer.decode(ids[a:b - 1]).strip() for a, b in spans] == replies
        assert all(ids[b - 1] == tokenizer.eos_token_id for a, b in spans)
        assert labels == tokenize_conversation(tokenizer, messages, name)["labels"]
    assert len(seen) == len(ROWS)


def test_add_text_column_keeps_other_columns_and_names_a_bad_row():
    from datasets import Dataset

    tokenizer = tiny_tokenizer("llama-3")
    dataset = add_text_column(Dataset.from_list(ROWS), tokenizer, "llama-3")
    assert dataset.column_names == ["source", "text"]
    assert not dataset[0]["text"].startswith(tokenizer.bos_token)  # the tokenizer adds it
    assert dataset[0]["text"] == render(tokenizer, S, "llama-3")[len(tokenizer.bos_token):]
    bad = Dataset.from_list(ROWS[:1] + [{"messages": S[1:3] + [S[1]], "source": "sample"}])
    with pytest.raises(ValueError, match="row 1: message 2: the conversation must end"):
        add_text_column(bad, tokenizer, "llama-3")


@pytest.fixture(scope="module")
def gemma():
    return tiny_tokenizer("gemma")


def test_a_correct_prompt_has_no_mistakes(gemma):
    for messages in (S, S[:-1]):
        text = render(gemma, messages, "gemma", add_generation_prompt=messages[-1]["role"] == "user")
        assert find_prompt_mistakes(gemma, text, "gemma", messages=messages) == []


@pytest.mark.parametrize("break_it, complaint", [
    (lambda t: t.replace("\n", "\\n"), "literal backslash-n"),
    (lambda t: t.replace("<bos>", "[s]"), "not the BOS token '<bos>'"),
    (lambda t: t.replace("<bos>", "<bos><bos>"), "BOS twice"),
    (lambda t: t.rstrip().removesuffix("<end_of_turn>"), "does not end with the end-of-turn token"),
    (lambda t: t.replace("<end_of_turn>\n<start_of_turn>user", "<end_of_turn>model\n<start_of_turn>user"),
     "After '<end_of_turn>' comes 'model"),
    (lambda t: t.replace("Answer plainly", "Answer  plainly"), "differs from the gemma template's rendering"),
])
def test_classic_mistakes_are_named(gemma, break_it, complaint):
    text = break_it(render(gemma, S, "gemma"))
    problems = find_prompt_mistakes(gemma, text, "gemma", messages=S)
    assert any(complaint in problem for problem in problems), problems


def test_prompts_command_shows_a_template_and_its_trained_tokens(capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["prompts", "--family", "gemma", "--tokens"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    tokenizer = tiny_tokenizer("gemma")
    assert render(tokenizer, S, "gemma") in out
    assert render(tokenizer, S[:-1], "gemma", add_generation_prompt=True) in out
    trained = sum(label != -100 for label in tokenize_conversation(tokenizer, S, "gemma")["labels"])
    token_rows = [row for row in map(str.split, out.splitlines()) if len(row) >= 4 and row[1].isdigit()]
    assert sum(row[2] == "yes" for row in token_rows) == trained
    assert f"{trained} of {len(token_rows)} tokens trained" in out


def test_prompts_command_all_and_bad_arguments(capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["prompts", "--all"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in TEMPLATES:
        assert f"=== {name} template" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["prompts"])
    assert exit_info.value.code == 2 and "--family TEMPLATE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["prompts", "--family", "llama3"])
    assert exit_info.value.code == 2 and "invalid choice: 'llama3'" in capsys.readouterr().err


def test_prompts_check_prints_the_vendor_comparison_per_case(capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["prompts", "--family", "mistral", "--check"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "mistral-common's v3 encoder" in out
    passes = [line for line in out.splitlines() if line.startswith("PASS  ")]
    assert len(passes) == 16 and "16 of 16 cases agree token for token" in out  # 8 cases x 2 legacy flags


def test_prompts_check_fails_with_the_old_mistral_template(monkeypatch, capsys):
    # The template Mistral's v0.2 Hub repo used to ship ("[/INST]" glued to the answer), as llama.cpp's
    # chat-template test quotes it: --check must show the difference and exit with 1.
    from dataclasses import replace

    from medlearn.cli import main
    from medlearn.vendor.files import quoted_chat_template

    old = quoted_chat_template("mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)")
    monkeypatch.setitem(TEMPLATES, "mistral-v0.2", replace(TEMPLATES["mistral-v0.2"], chat_template=old))
    with pytest.raises(SystemExit) as exit_info:
        main(["prompts", "--family", "mistral-v0.2", "--check"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 1
    assert "FAIL  training row, 1 turn" in out and "ids differ at position" in out

"""Evaluation with the tiny llama-3 model: option scoring, prompt reuse, held-out loss, off-topic, CLI."""
import json

import pytest
import torch

from medlearn.evaluation import evaluate_benchmark, evaluate_heldout, evaluate_offtopic, load_benchmark, load_for_eval
from medlearn.evaluation.scoring import (encode_questions, pad_token_id, score_encoded,
                                         score_question_without_cache)


@pytest.fixture(scope="module")
def tiny():
    # float32 so batched and unbatched scores can be compared tightly
    return load_for_eval("tiny-llama-3", max_seq_length=1024, load_in_4bit=False, dtype=torch.float32)


def plant_preference(model, token_ids, strength=30.0):
    """Make the model prefer `token_ids` at every position (a bias on the output layer's logits)."""
    bias = torch.zeros(model.get_output_embeddings().out_features)
    bias[token_ids] = strength
    return model.get_output_embeddings().register_forward_hook(lambda module, inputs, out: out + bias)


def test_scoring_picks_the_option_a_planted_model_prefers(tiny):
    questions = load_benchmark("medqa", sample=True).questions
    reply_c = encode_questions(tiny.tokenizer, questions.select([0]), "llama-3")[0].replies[2]
    assert len(reply_c) == 1  # "C" is one token
    hook = plant_preference(tiny.model, reply_c[0])
    try:
        result = evaluate_benchmark(tiny, "medqa", sample=True, progress=False)
    finally:
        hook.remove()
    assert {row["pred"] for row in result["predictions"]} == {2}
    golds = questions["answer"]
    assert result["accuracy"] == golds.count(2) / len(golds)
    assert result["n"] == len(golds) and result["baselines"]["random"]["accuracy"] == 0.25


def test_planted_preference_for_a_word_reply_wins(tiny):
    # PubMedQA replies are the words yes / no / maybe, possibly several tokens each.
    questions = load_benchmark("pubmedqa", sample=True).questions
    yes, no, maybe = encode_questions(tiny.tokenizer, questions.select([0]), "llama-3", lettered=False)[0].replies
    assert not set(yes) <= set(maybe) and not set(no) <= set(maybe)
    hook = plant_preference(tiny.model, maybe)
    try:
        result = evaluate_benchmark(tiny, "pubmedqa", sample=True, progress=False)
    finally:
        hook.remove()
    assert {row["pred"] for row in result["predictions"]} == {2}


def test_batched_scores_equal_one_at_a_time_and_the_uncached_reference(tiny):
    questions = load_benchmark("medqa", sample=True, limit=8).questions
    encoded = encode_questions(tiny.tokenizer, questions, "llama-3", style="text")  # multi-token replies
    assert max(len(r) for q in encoded for r in q.replies) > 3
    pad = pad_token_id(tiny.tokenizer)
    batched = score_encoded(tiny.model, encoded, pad, batch_size=8)
    single = score_encoded(tiny.model, encoded, pad, batch_size=1)
    reference = [score_question_without_cache(tiny.model, q) for q in encoded]
    for got_b, got_s, want in zip(batched, single, reference):
        assert got_b == pytest.approx(want, abs=1e-3)
        assert got_s == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize("protocol,name", [("chat", "medqa"), ("leaderboard", "medmcqa"), ("leaderboard", "pubmedqa")])
def test_one_pass_scores_with_a_shared_prefix_equal_the_uncached_reference(tiny, protocol, name):
    from medlearn.evaluation.scoring import encode_for_protocol, shared_prefix_length

    questions = load_benchmark(name, sample=True).questions
    encoded = encode_for_protocol(tiny.tokenizer, questions, protocol, name, "llama-3", name != "pubmedqa")
    assert all(len(reply) == 1 for q in encoded for reply in q.replies)  # the one-pass path
    if protocol == "chat":  # the chat template's system block is shared, and reused through the cache
        assert shared_prefix_length([q.prompt for q in encoded]) >= 8
    pad = pad_token_id(tiny.tokenizer)
    reference = [score_question_without_cache(tiny.model, q) for q in encoded]
    for batch_size in (1, 5, 8):
        for got, want in zip(score_encoded(tiny.model, encoded, pad, batch_size=batch_size), reference):
            assert got == pytest.approx(want, abs=1e-4)


def test_heldout_loss_matches_the_models_own_loss(tiny):
    from datasets import Dataset

    from medlearn.templates import tokenize_conversation

    conversations = [
        [{"role": "user", "content": "What is anemia?"},
         {"role": "assistant", "content": "Anemia means too few red blood cells or too little hemoglobin."}],
        [{"role": "user", "content": "What lowers a fever?"},
         {"role": "assistant", "content": "Paracetamol or ibuprofen, fluids and rest."}],
    ]
    result = evaluate_heldout(tiny, Dataset.from_dict({"messages": conversations}))
    losses, counts = [], []
    for messages in conversations:
        row = tokenize_conversation(tiny.tokenizer, messages, "llama-3")
        with torch.no_grad():
            out = tiny.model(input_ids=torch.tensor([row["input_ids"]]), labels=torch.tensor([row["labels"]]))
        counts.append(sum(label != -100 for label in row["labels"][1:]))
        losses.append(out.loss.item() * counts[-1])
    assert result["tokens"] == sum(counts)
    assert result["loss"] == pytest.approx(sum(losses) / sum(counts), rel=1e-4)
    assert result["perplexity"] == pytest.approx(torch.tensor(result["loss"]).exp().item(), rel=1e-6)
    with pytest.raises(ValueError, match="Eval row 0: no assistant tokens left.*max_length=8"):
        evaluate_heldout(tiny, Dataset.from_dict({"messages": conversations}), max_length=8)
    with pytest.raises(ValueError, match="Eval row 0: message 0: the conversation must end with"):
        evaluate_heldout(tiny, Dataset.from_dict({"messages": [[{"role": "user", "content": "Hi"}]]}))


def test_offtopic_behaviour_on_held_out_labelled_questions(tiny):
    result = evaluate_offtopic(tiny, sample=True, batch_size=4)
    assert result["n_medical"] > 0 and result["n_non_medical"] > 0
    assert result["n_medical"] + result["n_non_medical"] == result["n"] == len(result["examples"])
    assert 0 <= result["declined_non_medical"] <= 1 and 0 <= result["answered_medical"] <= 1
    declined = [e["declined"] for e in result["examples"] if e["label"] == 0]
    assert result["declined_non_medical"] == sum(declined) / len(declined)


def test_cli_scores_a_model_and_writes_json_and_plot(tmp_path, capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--model", "llama-3.1-8b-instruct", "--benchmark", "medmcqa", "--sample", "--limit", "6",
              "--run", "base", "--artifacts-dir", str(tmp_path), "--json"])
    assert exit_info.value.code == 0
    printed = json.loads(capsys.readouterr().out)  # --json: stdout is only the JSON
    saved = json.loads((tmp_path / "eval_base.json").read_text())
    assert printed == saved
    assert saved["n"] == 6 and saved["tiny"] and saved["family"] == "llama-3"
    assert set(saved["baselines"]) == {"majority", "random"}
    assert (tmp_path / "eval_comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_an_adapter_folder_is_evaluated_as_the_fine_tuned_model(tiny, tmp_path):
    from datasets import Dataset
    from unsloth import FastLanguageModel

    from medlearn.models import choose_model, load_model, write_run_info

    choice = choose_model("tiny-llama-3")
    model, tokenizer = load_model(choice, 256, load_in_4bit=False, dtype=torch.float32)
    model = FastLanguageModel.get_peft_model(model, r=4, lora_alpha=4, target_modules=["q_proj", "v_proj"])
    model.save_pretrained(tmp_path / "adapter")
    tokenizer.save_pretrained(tmp_path / "adapter")
    write_run_info(tmp_path / "adapter", choice, {"datasets": ["medquad"]})
    tuned = load_for_eval(str(tmp_path / "adapter"), 256, load_in_4bit=False, dtype=torch.float32)
    assert tuned.label == tmp_path.name + " (fine-tuned)" and tuned.choice.template == "llama-3"
    split = Dataset.from_dict({"messages": [[{"role": "user", "content": "What is a fever?"},
                                             {"role": "assistant", "content": "A body temperature above 38 C."}]]})
    # A fresh LoRA adapter starts as a no-op (B = 0), so base and "fine-tuned" must agree exactly.
    assert evaluate_heldout(tuned, split)["loss"] == pytest.approx(evaluate_heldout(tiny, split)["loss"], rel=1e-5)

    # Before a fine-tuned model is scored, its training data is searched for the benchmark's questions.
    result = evaluate_benchmark(tuned, "medqa", sample=True, limit=4, progress=False, protocol="leaderboard")
    assert result["contamination"]["checked"] and result["contamination"]["training_data"] == "medquad (shipped samples)"
    assert result["contamination"]["questions_seen_in_training"] == 0 and result["protocol"] == "leaderboard"


def test_cli_leaderboard_protocol_on_a_plain_model_folder(tmp_path, capsys):
    from medlearn.cli import main
    from medlearn.models.tiny import tiny_model_path

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--model", str(tiny_model_path("llama-3")), "--benchmark", "pubmedqa", "--sample",
              "--protocol", "leaderboard", "--dtype", "float32", "--artifacts-dir", str(tmp_path), "--json"])
    assert exit_info.value.code == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["protocol"] == "leaderboard" and saved["lm_eval_task"] == "pubmedqa"
    assert saved["dtype"] == "float32" and saved["template"] is None and saved["n"] == 14
    assert "contamination" not in saved  # a plain model folder was not trained here
    assert (tmp_path / f"eval_{saved['run']}.json").name.endswith("_pubmedqa_leaderboard.json")


# ChatML as SmolLM2-style models ship it: a format of none of the course families.
OWN_CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
              "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def outside_model(tmp_path_factory):
    """A plain Llama-architecture folder with a ChatML tokenizer: none of the five course families."""
    from medlearn.models.tiny import TinyRecipe, build_model, trained_tokenizer

    recipe = TinyRecipe("Llama", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|im_start|>", "<|im_end|>",
                        pad="<|endoftext|>", unk="<|endoftext|>")
    tokenizer = trained_tokenizer(recipe)
    tokenizer.chat_template = OWN_CHATML
    folder = tmp_path_factory.mktemp("chatml-model")
    build_model("chatml", recipe, tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_leaderboard_protocol_scores_a_model_of_no_course_family(outside_model, tmp_path, capsys):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--model", str(outside_model), "--benchmark", "medqa", "--sample", "--protocol", "leaderboard",
              "--dtype", "float32", "--artifacts-dir", str(tmp_path), "--json"])
    assert exit_info.value.code == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["protocol"] == "leaderboard" and saved["family"] is None and saved["n"] == 24
    assert len(saved["predictions"]) == 24 and all(len(row["scores"]) == 4 for row in saved["predictions"])


def test_chat_needs_a_course_family_and_says_that_eval_does_not(outside_model):
    from medlearn.inference import load_chat_model

    with pytest.raises(ValueError, match="Cannot tell which course family.*medlearn eval scores any causal LM"):
        load_chat_model(str(outside_model), 512, load_in_4bit=False)


def test_chat_protocol_asks_a_model_of_no_course_family_in_its_own_template(outside_model):
    from medlearn.evaluation.prompts import build_question_message

    evaluated = load_for_eval(str(outside_model), load_in_4bit=False, dtype="float32")
    assert evaluated.choice.family is None and evaluated.choice.template is None
    result = evaluate_benchmark(evaluated, "medqa", sample=True, limit=4, progress=False, protocol="chat")
    assert result["template"] == "the tokenizer's own" and result["n"] == 4
    tokenizer = evaluated.tokenizer
    item = load_benchmark("medqa", sample=True, limit=1).questions[0]
    messages = build_question_message(item)
    own = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    encoded = encode_questions(tokenizer, [item], None)[0]
    assert encoded.prompt == tokenizer(own, add_special_tokens=False).input_ids  # exactly its own format
    assert [tokenizer.decode(reply).strip() for reply in encoded.replies] == ["A", "B", "C", "D"]

    tokenizer.chat_template = None
    with pytest.raises(ValueError, match="has no chat template.*--protocol leaderboard"):
        encode_questions(tokenizer, [item], None)

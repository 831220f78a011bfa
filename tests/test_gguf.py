"""GGUF export through llama.cpp's own converter and quantizer, read back and run by llama.cpp.

Per family, a tiny model trained a few steps is exported to f16 and q8_0; llama.cpp must then give the
prompt medlearn gives, continue it as the merged Hugging Face model does, and name its format.
"""
import pytest
from conftest import measured, train_tiny_adapter

from medlearn import adapters, gguf

pytestmark = pytest.mark.skipif(bool(gguf.missing_llama_cpp()), reason=gguf.missing_llama_cpp())

FAMILIES = ["llama-3", "mistral", "gemma", "llama-2", "openchat"]
CONVERSATIONS = {
    "1 turn": [{"role": "user", "content": "What is anaemia?"}],
    "1 turn + system": [{"role": "system", "content": "Answer briefly."},
                        {"role": "user", "content": "What is anaemia?"}],
    "2 turns + system": [{"role": "system", "content": "Answer briefly."},
                         {"role": "user", "content": "What is anaemia?"},
                         {"role": "assistant", "content": "Too few red blood cells."},
                         {"role": "user", "content": "What causes it?"}],
}
# f16 weights hold the merged bf16 weights exactly; llama.cpp's sums round differently from torch's float32
# ones (and on the CPU it rounds activations to f16 before an f16 matrix product). The largest logit
# difference seen over tools/cpu_spread.py's six settings (AVX-512, AVX2 and plain kernels, 1 and 2
# threads, tiny models rebuilt under each): Gemma 0.075, and 0.141 on another AVX-512 machine (issue 22);
# llama-2 0.0056, mistral 0.0051, openchat 0.0055, llama-3 0.0041. Tolerance: twice the largest seen.
F16_LOGIT_TOLERANCE = {"gemma": 0.3}
F16_LOGIT_TOLERANCE_OTHERS = 0.012
# q8_0 keeps 8 bits per weight in blocks of 32 with one scale each: the first token's log-probabilities
# moved by up to 0.098 from the 16-bit model's over the six settings (tiny Llama-2; Gemma 0.089).
# Tolerance: twice that.
Q8_LOGPROB_TOLERANCE = 0.2


class Loaded:
    def __init__(self, model, tokenizer, choice):
        self.model, self.tokenizer, self.choice = model, tokenizer, choice


@pytest.fixture(scope="module", params=FAMILIES)
def exported(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"gguf-{request.param}")
    trained = train_tiny_adapter(root, "g", max_steps=3, model=f"tiny-{request.param}")
    # As `medlearn export` does on a CPU: 4-bit weights cannot be merged there, so load in 16-bit.
    run = Loaded(*adapters.load_adapter(trained.adapter_dir, load_in_4bit=False))
    result = adapters.export_gguf(run.model, run.tokenizer, root / "gguf", run.choice, ["f16", "q8_0"],
                                  merged=root / "merged")
    files = dict(zip(["f16", "q8_0"], result["gguf"]))
    llms = {method: gguf.open_gguf(path, n_ctx=512, logits_all=True) for method, path in files.items()}
    yield run, root / "merged", files, llms, result["modelfile"]
    for llm in llms.values():
        llm.close()


def hf_model(folder):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


def test_the_file_names_its_architecture_template_and_special_tokens(exported):
    run, merged, files, _, _ = exported
    info = gguf.describe(files["q8_0"])
    assert info["architecture"] == {"gemma": "gemma2"}.get(run.choice.family, "llama")
    assert info["file_type"] == "7" and gguf.describe(files["f16"])["file_type"] == "1"
    assert info["chat_template"] == run.tokenizer.chat_template
    assert info["special_tokens"]["bos_token_id"] == run.tokenizer.bos_token
    assert info["special_tokens"]["eos_token_id"] == run.tokenizer.eos_token


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_llama_cpp_builds_the_prompt_medlearn_builds(exported, name):
    from medlearn.templates import encode_prompt

    run, _, _, llms, _ = exported
    messages = CONVERSATIONS[name]
    assert gguf.prompt_ids(llms["f16"], messages) == encode_prompt(run.tokenizer, messages, run.choice.template)


def test_f16_greedy_continuation_matches_the_merged_model(exported):
    """The merged model's 16 greedy tokens, fed to llama.cpp: its logits stay within the family's
    F16_LOGIT_TOLERANCE everywhere, so it picks the same next token wherever the top two are further apart
    than twice that (a closer pair is a tie that either rounding may break)."""
    import numpy as np
    import torch

    from medlearn.templates import encode_prompt

    run, merged, _, llms, _ = exported
    ids = encode_prompt(run.tokenizer, CONVERSATIONS["1 turn"], run.choice.template)
    model = hf_model(merged)
    with torch.no_grad():
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=16, min_new_tokens=16,
                                do_sample=False)[0].tolist()
        expected = model(torch.tensor([greedy])).logits[0, len(ids) - 1:-1].numpy()
    llm = llms["f16"]
    llm.reset()
    llm.eval(greedy)
    got = np.asarray(llm.scores[len(ids) - 1:len(greedy) - 1])
    family = run.choice.family
    tolerance = F16_LOGIT_TOLERANCE.get(family, F16_LOGIT_TOLERANCE_OTHERS)
    assert measured(f"gguf {family}: f16 max logit error", np.abs(got - expected).max()) < tolerance
    top2 = np.sort(expected, axis=-1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * tolerance
    # most steps are decided, so the comparison below means something (fewest seen: Gemma 9 of 16, the others 14)
    assert measured(f"gguf {family}: f16 decided steps of 16", clear.sum()) >= 8
    assert (got.argmax(-1)[clear] == np.asarray(greedy[len(ids):])[clear]).all()


def test_q8_0_first_token_log_probabilities_agree(exported):
    import numpy as np
    import torch

    from medlearn.templates import encode_prompt

    run, merged, _, llms, _ = exported
    ids = encode_prompt(run.tokenizer, CONVERSATIONS["1 turn"], run.choice.template)
    with torch.no_grad():
        expected = torch.log_softmax(hf_model(merged)(torch.tensor([ids])).logits[0, -1], -1).numpy()
    llm = llms["q8_0"]
    llm.reset()
    llm.eval(ids)
    logits = np.asarray(llm.scores[len(ids) - 1], dtype=np.float64)
    got = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
    top = np.argsort(expected)[-10:]  # where the probability is; the far tail is all below e^-10
    error = measured(f"gguf {run.choice.family}: q8_0 max log-prob error", np.abs(got[top] - expected[top]).max())
    assert error < Q8_LOGPROB_TOLERANCE
    first, second = np.sort(expected)[-2:][::-1]
    if first - second > 2 * Q8_LOGPROB_TOLERANCE:  # not a near tie (the tiny Gemma's is: 0.07)
        assert got.argmax() == expected.argmax()


def test_modelfile_points_at_the_file_and_stops_where_llama_cpp_stops(exported):
    run, _, files, llms, modelfile = exported
    from medlearn.templates import stop_token_ids

    lines = modelfile.read_text().splitlines()
    assert lines[0] == "FROM ./gguf.F16.gguf" and (modelfile.parent / "gguf.F16.gguf").exists()
    stops = {line.split(" ", 2)[2].strip('"') for line in lines if line.startswith("PARAMETER stop ")}
    end_of_turn = run.tokenizer.convert_ids_to_tokens(stop_token_ids(run.tokenizer, run.choice.template)[0])
    assert end_of_turn in stops
    eos = llms["f16"].detokenize([llms["f16"].token_eos()], special=True).decode()
    assert eos in stops  # llama.cpp's own end of generation is one of Ollama's stops

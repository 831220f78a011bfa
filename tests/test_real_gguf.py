"""A real model through GGUF: SmolLM2-135M-Instruct fine-tuned on the CPU, exported by llama.cpp's own
converter and quantizer to q8_0 and q4_k_m, then run by llama.cpp as `medlearn chat --gguf` runs it."""
import subprocess
import sys

import pytest
from conftest import measured

from medlearn import adapters, gguf

pytestmark = pytest.mark.skipif(bool(gguf.missing_llama_cpp()), reason=gguf.missing_llama_cpp())

REAL_STEPS = 20
# Largest log-probability error over the top 10 tokens at 16 steps, measured on this machine: f16 0.014
# (its weights hold the merged bf16 ones exactly; the sums round differently), q8_0 0.556 (8-bit weights).
# The fine-tune is the same on every CPU setting (tools/cpu_spread.py: SmolLM2's spread is 0 in float32),
# and llama.cpp's kernels differ between CPUs by rounding far below these. f16: twice the largest seen;
# q8_0: 0.8, so that the steps it must decide (top two more than 1.6 apart) are 7 of the 16.
LOGPROB_TOLERANCE = {"f16": 0.03, "q8_0": 0.8}
QUESTION = [{"role": "user", "content": "What are the symptoms of asthma?"}]  # not in the MedQuAD sample


@pytest.fixture(scope="module")
def exported(smollm2_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("real-gguf")
    model, tokenizer, choice = adapters.load_adapter(smollm2_run.adapter_dir, load_in_4bit=False)
    methods = ["f16", "q8_0", "q4_k_m"]
    files = adapters.export_gguf(model, tokenizer, root / "gguf", choice, methods, merged=root / "merged")["gguf"]
    return smollm2_run, tokenizer, choice, root / "merged", dict(zip(methods, files))


def merged_greedy(folder, ids, n):
    """The merged Hugging Face model's n greedy tokens after `ids`, and its log-probabilities at each."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, min_new_tokens=n, do_sample=False)[0]
        logprobs = torch.log_softmax(model(out[None]).logits[0, len(ids) - 1:-1], -1).numpy()
    return out[len(ids):].tolist(), logprobs


def llama_cpp_logprobs(path, tokens, start):
    """llama.cpp's log-probabilities at each position from `start` on, fed `tokens` (teacher forcing)."""
    import numpy as np

    llm = gguf.open_gguf(path, n_ctx=512, logits_all=True)
    llm.eval(tokens)
    logits = np.asarray(llm.scores[start - 1:len(tokens) - 1], dtype=np.float64)
    llm.close()
    logits -= logits.max(-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def test_the_fine_tune_is_exported_in_every_quantization_asked(exported):
    result, _, _, _, files = exported
    assert result.stats["steps"] == REAL_STEPS
    kinds = {method: gguf.describe(path)["file_type"] for method, path in files.items()}
    assert kinds == {method: str(gguf.QUANTIZE_FTYPES[method]) for method in files}


@pytest.mark.parametrize("method", ["f16", "q8_0"])
def test_the_file_continues_the_merged_models_greedy_reply(exported, method):
    """The merged model's 16 greedy tokens, fed to llama.cpp: its log-probabilities stay within the
    method's tolerance at every step, so it picks the same token wherever the merged model's top two are
    further apart than twice that. q8_0 does not reproduce all 16 tokens: 8-bit weights in a model with a
    576-wide hidden layer move log-probabilities by up to 0.56 (measured here), and the 4th token of
    this reply is a near tie (0.04 apart) that q8_0 breaks the other way."""
    import numpy as np

    from medlearn.templates import encode_prompt

    _, tokenizer, choice, merged, files = exported
    ids = encode_prompt(tokenizer, QUESTION, choice.template)
    llm = gguf.open_gguf(files[method], n_ctx=512)
    assert gguf.prompt_ids(llm, QUESTION) == ids  # llama.cpp builds the prompt medlearn builds
    llm.close()
    greedy, expected = merged_greedy(merged, ids, 16)
    got = llama_cpp_logprobs(files[method], ids + greedy, len(ids))
    top = np.argsort(expected, -1)[:, -10:]  # where the probability is
    error = np.abs(np.take_along_axis(got, top, -1) - np.take_along_axis(expected, top, -1)).max()
    tolerance = LOGPROB_TOLERANCE[method]
    assert measured(f"real gguf {method}: max log-prob error", error) < tolerance
    top2 = np.sort(expected, -1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 2 * tolerance
    assert measured(f"real gguf {method}: decided steps of 16", decided.sum()) >= 6
    assert (got.argmax(-1)[decided] == np.asarray(greedy)[decided]).all()
    print(f"{method}: {tokenizer.decode(greedy)!r}; llama.cpp picks the same token at "
          f"{(got.argmax(-1) == np.asarray(greedy)).sum()} of 16 steps")


@pytest.mark.parametrize("method", ["q8_0", "q4_k_m"])
def test_medlearn_chat_gguf_answers_the_held_out_question(exported, method):
    _, _, _, _, files = exported
    done = subprocess.run([sys.executable, "-m", "medlearn", "chat", "--gguf", files[method], "--question",
                           QUESTION[0]["content"], "--max-new-tokens", "40"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answer = done.stdout.lower()
    print(f"{method}: {done.stdout.strip()}")
    assert any(word in answer for word in ("wheez", "cough", "breath", "chest")), done.stdout

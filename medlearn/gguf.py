"""GGUF files for llama.cpp and Ollama, made and read with llama.cpp's own tools, offline.

    files = to_gguf("merged", "gguf/model", ["f16", "q8_0"], "llama-3")  # converter, then quantizer
    llm = open_gguf(files[0])                                  # the llama-cpp-python binding
    ids = prompt_ids(llm, messages)                            # the GGUF's own chat template, tokenized

The converter (`convert_hf_to_gguf.py` with its `conversion` and `gguf-py` packages) comes from the
llama-cpp-python source distribution, fetched from the package index (medlearn.vendor.files);
the quantizer and the reader are that same llama.cpp, built once per machine when pip installs
`llama-cpp-python` (`tools/install.py --for cpu`). Nothing here downloads from GitHub.

Why not Unsloth's `save_pretrained_gguf`: it wants a llama.cpp checkout with a `llama-quantize` program
and fetches the converter from Unsloth's llama.cpp fork on GitHub, which a machine with only the package
index cannot reach; the binding's `llama_model_quantize` is the same quantizer without a second build.
"""
import subprocess
import sys
from pathlib import Path

# Ours -> llama.cpp's file types (llama.h: enum llama_ftype). The converter writes f16 or bf16 itself;
# the other one of the two, when both are asked for, is re-typed by the quantizer.
QUANTIZE_FTYPES = {"q8_0": 7, "q4_k_m": 15, "q5_k_m": 17, "f16": 1, "bf16": 32}
CONVERTER_OUTTYPES = ("f16", "bf16")
RUNNER = Path(__file__).with_name("gguf_convert.py")


def missing_llama_cpp():
    """What GGUF export and chat need and do not find, as one readable sentence ('' when all is there)."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return ("llama.cpp's Python binding is not installed: `pip install llama-cpp-python==0.3.36` builds "
                "it from source (it needs a C/C++ compiler and CMake: `apt-get install build-essential "
                "cmake` on Debian/Ubuntu; about 5 minutes on 2 cores, once per machine). "
                "`python tools/install.py --for cpu` or medlearn.gguf.install_binding() does it.")
    return ""


# llama.cpp's library only: no programs, tests or multimodal part (the binding needs none of them).
CMAKE_ARGS = ("-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF "
              "-DLLAMA_BUILD_SERVER=OFF")


def install_binding(requirement=None):
    """Build llama.cpp's binding from source with pip (which reuses a wheel it built before) and say how
    long it took; returns True when it is installed. Without a compiler the build fails and says what
    to install; nothing else depends on it (GGUF tests then skip)."""
    import os
    import time

    from .vendor.files import LLAMA_CPP_PYTHON

    requirement = requirement or f"llama-cpp-python=={LLAMA_CPP_PYTHON}"
    started = time.monotonic()
    env = dict(os.environ, CMAKE_ARGS=CMAKE_ARGS, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", requirement, "diskcache"]
    print("+", " ".join(command), flush=True)
    done = subprocess.run(command, env=env)
    took = time.monotonic() - started
    if done.returncode != 0:
        print(f"{requirement} did not build ({took:.0f} s). " + missing_llama_cpp(), flush=True)
        return False
    import importlib

    importlib.invalidate_caches()  # so this process finds the package it just installed
    print(f"{requirement} ready in {took:.0f} s (built from source the first time, then pip's cache)", flush=True)
    return True


def require_llama_cpp():
    problem = missing_llama_cpp()
    if problem:
        raise RuntimeError(problem)


def to_gguf(merged_folder, stem, methods, template, pre_tokenizer=None):
    """GGUF files `stem`.METHOD.gguf for each method; returns their paths, in the order asked.

    merged_folder: a 16-bit Hugging Face model (save_merged); template: medlearn's format name, stored
    in the file. pre_tokenizer: llama.cpp's name for the BPE pre-tokenizer when the converter cannot
    recognise the tokenizer itself (medlearn's tiny models).
    """
    require_llama_cpp()
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    outtype = "bf16" if "bf16" in methods and "f16" not in methods else "f16"
    unquantized = Path(f"{stem}.{outtype.upper()}.gguf")
    convert(merged_folder, unquantized, template, outtype, pre_tokenizer)
    files = {outtype: unquantized}
    for method in methods:
        if method not in files:
            files[method] = quantize(unquantized, Path(f"{stem}.{method.upper()}.gguf"), method)
    if outtype not in methods:
        unquantized.unlink()
    return [str(files[method]) for method in methods]


def convert(merged_folder, outfile, template, outtype="f16", pre_tokenizer=None):
    """Run llama.cpp's convert_hf_to_gguf.py on a merged model; returns the GGUF path."""
    from .vendor.files import llama_cpp_converter

    if outtype not in CONVERTER_OUTTYPES:
        raise ValueError(f"outtype must be one of {CONVERTER_OUTTYPES}, not {outtype!r}.")
    command = [sys.executable, str(RUNNER), str(llama_cpp_converter()), pre_tokenizer or "-", template,
               str(merged_folder), "--outtype", outtype, "--outfile", str(outfile)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not Path(outfile).exists():
        last = [line for line in done.stderr.splitlines() if line.strip()][-3:]
        raise RuntimeError(f"llama.cpp's converter failed on {merged_folder}: " + " | ".join(last))
    return Path(outfile)


def quantize(source, target, method):
    """Quantize a 16-bit GGUF with llama.cpp's own quantizer (llama_model_quantize); returns target."""
    import llama_cpp
    from llama_cpp._logger import set_verbose

    if method not in QUANTIZE_FTYPES:
        raise ValueError(f"llama.cpp quantization {method!r} is not one of {', '.join(QUANTIZE_FTYPES)}.")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANTIZE_FTYPES[method]
    params.nthread = 0  # llama.cpp picks the number of cores
    set_verbose(False)  # llama.cpp logs every tensor; errors still print
    status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params)
    if status != 0 or not Path(target).exists():
        raise RuntimeError(f"llama.cpp could not quantize {source} to {method} (status {status}).")
    return Path(target)


def open_gguf(path, n_ctx=2048, logits_all=False):
    """The GGUF loaded by llama.cpp (llama_cpp.Llama), quietly. logits_all=True keeps the logits of every
    position (n_ctx x vocabulary floats: for comparisons on small models, not for chat)."""
    require_llama_cpp()
    from llama_cpp import Llama

    if not Path(path).is_file():
        raise FileNotFoundError(f"No GGUF file at {path}. `medlearn export --model ADAPTER --gguf q8_0` "
                                "writes one next to the adapter (gguf/).")
    return Llama(str(path), n_ctx=n_ctx, verbose=False, logits_all=logits_all)


def chat_template(llm):
    """The chat template the GGUF carries (tokenizer.chat_template), or a clear error."""
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError("This GGUF file carries no chat template (tokenizer.chat_template); export it with "
                         "`medlearn export`, which writes the family's template into the file.")
    return template


def prompt_ids(llm, messages):
    """Token ids of the generation prompt for `messages`, as a llama.cpp user gets them: the GGUF's own
    template rendered by the binding's Jinja formatter (as llama-server does), tokenized by llama.cpp.

    A system prompt is folded into a user turn first where the file's format has no system role
    (`medlearn.template`, written by medlearn export), exactly as medlearn's own prompts do.
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from .templates import fold_system, get_template

    options = {}
    if llm.metadata.get("medlearn.template"):
        spec = get_template(llm.metadata["medlearn.template"])
        messages, options = fold_system(messages, spec.name), dict(spec.chat_template_kwargs)
    token = lambda key: llm.detokenize([int(llm.metadata[key])], special=True).decode()  # noqa: E731
    formatter = Jinja2ChatFormatter(chat_template(llm), eos_token=token("tokenizer.ggml.eos_token_id"),
                                    bos_token=token("tokenizer.ggml.bos_token_id"))
    text = formatter(messages=messages, **options).prompt
    return llm.tokenize(text.encode(), add_bos=not text.startswith(formatter.bos_token), special=True)


def stream_gguf_reply(llm, messages, max_new_tokens=256, info=None):
    """Yield the reply's text piece by piece; greedy, ends at the file's end-of-generation tokens."""
    ids = prompt_ids(llm, messages)
    new = 0
    for chunk in llm.create_completion(ids, max_tokens=max_new_tokens, temperature=0.0, top_k=1,
                                       stream=True):
        new += 1
        piece = chunk["choices"][0]["text"]
        if piece:
            yield piece
        if chunk["choices"][0].get("finish_reason") and info is not None:
            info.stop_reason = "stop token" if chunk["choices"][0]["finish_reason"] == "stop" else "length"
    if info is not None:
        info.prompt_tokens, info.new_tokens = len(ids), new


def describe(path):
    """The metadata a learner checks in an exported file: architecture, template, special tokens."""
    llm = open_gguf(path, n_ctx=64)
    try:
        meta = llm.metadata
        special = {key.split(".")[-1]: llm.detokenize([int(value)], special=True).decode()
                   for key, value in meta.items() if key.startswith("tokenizer.ggml.") and key.endswith("_id")}
        return {"architecture": meta.get("general.architecture"), "file_type": meta.get("general.file_type"),
                "tokenizer": meta.get("tokenizer.ggml.model"), "pre_tokenizer": meta.get("tokenizer.ggml.pre"),
                "chat_template": meta.get("tokenizer.chat_template"), "special_tokens": special,
                "bytes": Path(path).stat().st_size}
    finally:
        llm.close()

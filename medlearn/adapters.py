"""Keep what you trained: the LoRA adapter (a few MB), a merged 16-bit model, GGUF for llama.cpp/Ollama.

    save_adapter(model, tokenizer, "drive/my_adapter", choice)      # adapter + tokenizer + medlearn_run.json
    model, tokenizer, choice = load_adapter("drive/my_adapter")     # back onto its base model
    print(size_report("drive/my_adapter"))                          # adapter vs. base model on disk
    merged = save_merged(model, tokenizer, "merged", choice)         # base + adapter in one 16-bit model
    export_gguf(model, tokenizer, "gguf", choice, ["q8_0"])         # llama.cpp's converter; + a Modelfile
"""
import os
from dataclasses import replace
from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")
GGUF_METHODS = ("q4_k_m", "q5_k_m", "q8_0", "f16", "bf16")


def looks_like_adapter(path):
    return Path(str(path)).is_dir() and Path(str(path), ADAPTER_CONFIG).is_file()


def save_adapter(model, tokenizer, folder, choice, config=None):
    """Save only the LoRA weights, the tokenizer and what they were trained from; returns the folder."""
    from .record import write_run_info

    if not hasattr(model, "peft_config"):
        raise ValueError("This model has no LoRA adapter to save (it is a plain or merged model). Save "
                         "the model returned by medlearn.train, or use save_merged for a full model.")
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_run_info(folder, choice, config)
    return folder


def check_adapter_folder(folder):
    """The adapter's run info, after checking the folder: an adapter config, readable weights, and an
    adapter config that names the same base model as medlearn_run.json. Clear errors otherwise."""
    from .record import read_run_info

    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"No adapter folder at {folder}. Give the folder that medlearn train printed "
                                "as 'adapter:' (e.g. outputs/RUN/adapter), or a model name.")
    if not (folder / ADAPTER_CONFIG).is_file():
        raise FileNotFoundError(f"{folder} has no {ADAPTER_CONFIG}, so it holds no LoRA adapter. Give the "
                                "folder saved by medlearn train / save_adapter.")
    check_adapter_weights(folder)
    info = read_run_info(folder)
    check_same_base(folder, info)
    return info


def check_adapter_weights(folder):
    """The LoRA weights file is there and whole (a copy cut short by a full Drive is refused)."""
    from .train.runs import safetensors_problem

    weights = folder / "adapter_model.safetensors"
    if weights.exists():
        problem = safetensors_problem(weights)
        if problem:
            raise ValueError(f"The adapter in {folder} cannot be loaded: {problem}. Copy the folder again "
                             "from where it was saved, or retrain.")
    elif not (folder / "adapter_model.bin").exists():
        raise FileNotFoundError(f"{folder} has {ADAPTER_CONFIG} but no weights (adapter_model.safetensors): "
                                "the copy is incomplete. Copy the whole adapter folder again.")


def check_same_base(folder, info):
    """adapter_config.json and medlearn_run.json must name one base model (one was edited or mixed up)."""
    import json

    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder / ADAPTER_CONFIG} is unreadable ({error}). Copy the adapter folder "
                         "again.") from None
    peft_base = config.get("base_model_name_or_path") or ""
    run_base = info.get("choice", {}).get("source", "")
    if peft_base and run_base and not same_model(peft_base, run_base):
        raise ValueError(
            f"The adapter in {folder} disagrees about its base model: {ADAPTER_CONFIG} says {peft_base!r}, "
            f"medlearn_run.json says {run_base!r}. Loaded onto the wrong base it would answer garbage. Fix "
            "the file that is wrong, or put it on the model it was trained on with load_adapter(folder, base=NAME).")


def same_model(a, b):
    """One model named two ways: a path and its resolved path, or Hub ids differing in case or in
    Unsloth's '-bnb-4bit' suffix (Unsloth records the id it loaded, sometimes lowercased)."""
    def name(text):
        return str(text).rstrip("/").lower().removesuffix("-bnb-4bit").removesuffix("-unsloth")

    if name(a) == name(b):
        return True
    return Path(a).exists() and Path(b).exists() and Path(a).resolve() == Path(b).resolve()


def adapter_base(folder):
    """The ModelChoice of the base model an adapter was trained on (from medlearn_run.json)."""
    from .models import ModelChoice

    return ModelChoice(**check_adapter_folder(folder)["choice"])


def load_adapter(folder, base=None, max_seq_length=2048, load_in_4bit=True, dtype=None):
    """(model with the adapter, tokenizer, ModelChoice) from an adapter folder.

    base: another model name to put the adapter on (same family and size only); by default the
    adapter goes back onto the base it was trained on, through Unsloth's loader.
    """
    from .models import ModelChoice, choose_model, load_model
    from .templates import prepare_tokenizer

    trained_on = adapter_base(folder)
    choice = ModelChoice(str(folder), str(folder), trained_on.family, trained_on.template, trained_on.tiny)
    if base is None:
        _check_base_exists(trained_on, folder)
        model, tokenizer = load_model(choice, max_seq_length, load_in_4bit, dtype)
        return keep_saved_dtype(model, folder), prepare_tokenizer(tokenizer, choice.template), choice
    target = choose_model(base)
    if target.family != trained_on.family:
        raise ValueError(f"The adapter in {folder} was trained on {trained_on.requested} ({trained_on.family} "
                         f"family), so it cannot go on {base} ({target.family} family): the layers differ. "
                         f"Load it onto a {trained_on.family} model, or leave base out.")
    model, tokenizer = load_model(target, max_seq_length, load_in_4bit, dtype)
    model = keep_saved_dtype(_attach(model, folder, base), folder)
    return model, prepare_tokenizer(tokenizer, choice.template), choice


def keep_saved_dtype(model, folder):
    """Give the LoRA weights the dtype they were saved in.

    PEFT upcasts 16-bit adapters to float32 when loading; the values are the same, but the sums then
    round differently from the model that was trained, so logits would drift in the last digits.
    """
    from safetensors import safe_open

    path = Path(folder, "adapter_model.safetensors")
    if not path.exists():
        return model
    with safe_open(str(path), framework="pt") as saved:
        dtypes = {saved.get_slice(key).get_dtype() for key in saved.keys()}
    if len(dtypes) != 1:
        return model
    import torch

    dtype = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}.get(dtypes.pop())
    for name, parameter in model.named_parameters():
        if "lora_" in name and dtype is not None and parameter.dtype != dtype:
            parameter.data = parameter.data.to(dtype)
    return model


def _check_base_exists(trained_on, folder):
    if trained_on.tiny and not Path(trained_on.source).exists():
        raise FileNotFoundError(f"The adapter in {folder} was trained on the tiny model at {trained_on.source}, "
                                f"which is gone. Pass base='{trained_on.requested}' to load it onto the tiny "
                                "model built here, or retrain.")


def _attach(model, folder, base):
    import unsloth  # noqa: F401  (patches PEFT first)
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, str(folder))
    except RuntimeError as error:  # size mismatch: trained on a model of another size
        raise ValueError(f"The adapter in {folder} does not fit {base}: its weight shapes differ (trained on "
                         f"another size of model). {str(error).splitlines()[0]}") from None


# ---------------------------------------------------------------- sizes

def weights_bytes(folder):
    """Bytes of weight files (safetensors / bin / gguf) in a folder, recursively."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.suffix in WEIGHT_SUFFIXES)


def size_report(adapter_folder):
    """Adapter size vs. the base model's, both in MB; the base is measured if local, else estimated."""
    from .registry import MODELS

    trained_on = adapter_base(adapter_folder)
    adapter_mb = weights_bytes(adapter_folder) / 1e6
    if Path(trained_on.source).is_dir():
        base_mb, how = weights_bytes(trained_on.source) / 1e6, "measured on disk"
    else:
        spec = MODELS.get(trained_on.requested)
        base_mb = spec.params_b * 1e9 * 2 / 1e6 if spec else None
        how = "estimated: parameters x 2 bytes (16-bit)" if spec else "unknown"
    name = trained_on.requested + (" (its tiny stand-in)" if trained_on.tiny else "")
    return {"adapter": str(adapter_folder), "adapter_mb": round(adapter_mb, 3), "base_model": name,
            "base_mb": round(base_mb, 3) if base_mb else None,
            "base_size": how,
            "adapter_share": round(adapter_mb / base_mb, 4) if base_mb else None}


# ---------------------------------------------------------------- merge

def save_merged(model, tokenizer, folder, choice):
    """Merge the adapter into the base weights and save one 16-bit model (loads without PEFT).

    On a GPU Unsloth dequantizes a 4-bit base to merge; on a CPU load the model with
    load_in_4bit=False first. medlearn_run.json is written too, so chat/serve/eval accept the folder.
    """
    from .record import write_run_info

    if not hasattr(model, "save_pretrained_merged"):
        raise ValueError("This model was not loaded through Unsloth (no save_pretrained_merged); load it "
                         "with medlearn.adapters.load_adapter or medlearn.inference.load_chat_model.")
    try:
        model.save_pretrained_merged(str(folder), tokenizer, save_method="merged_16bit")
    except NotImplementedError as error:
        raise RuntimeError(f"Merging failed: {error} With medlearn: load_adapter(folder, load_in_4bit=False), "
                           "or `medlearn export --no-4bit`.") from None
    write_run_info(folder, replace(choice, requested=str(folder), source=str(folder)),
                   {"merged_from": choice.requested})
    return Path(folder)


# ---------------------------------------------------------------- GGUF and Ollama

def check_gguf_methods(methods):
    methods = [methods] if isinstance(methods, str) else list(methods)
    bad = [m for m in methods if m not in GGUF_METHODS]
    if bad or not methods:
        raise ValueError(f"Unknown GGUF quantization(s) {bad or methods}; choose from {', '.join(GGUF_METHODS)} "
                         "(q4_k_m: small and good; q8_0: near-lossless; f16: unquantized).")
    return methods


def export_gguf(model, tokenizer, folder, choice, methods=("q4_k_m",), system_prompt=None, merged=None):
    """GGUF file(s) made by llama.cpp's own converter and quantizer, and an Ollama Modelfile beside them;
    returns {"gguf": [paths], "modelfile": path}.

    The adapter is merged into a 16-bit model first (into `merged` when given and not saved yet, else a
    folder removed afterwards). Without llama.cpp's binding a RuntimeError says what to install; the
    Modelfile is written first either way, so it can be checked before any conversion.
    """
    from . import gguf
    from .models.tiny import llama_cpp_pre_tokenizer

    methods = check_gguf_methods(methods)
    folder = Path(folder)
    stem = folder.name or "model"
    modelfile = write_modelfile(folder, choice.template, tokenizer, f"./{stem}.{methods[0].upper()}.gguf",
                                system_prompt)
    problem = gguf.missing_llama_cpp()
    if problem:
        raise RuntimeError(f"GGUF export needs llama.cpp: {problem} The Modelfile is ready: {modelfile}.")
    keep = merged is not None
    merged = Path(merged) if keep else folder / "merged-for-gguf"
    if not (merged / "config.json").exists():
        save_merged(model, tokenizer, merged, choice)
    base = adapter_base(choice.source).source if looks_like_adapter(choice.source) else choice.source
    copy_sentencepiece_model(base, merged)
    pre_tokenizer = llama_cpp_pre_tokenizer(choice.family) if choice.tiny else None
    try:
        files = gguf.to_gguf(merged, folder / stem, methods, choice.template, pre_tokenizer)
    finally:
        if not keep:
            import shutil

            shutil.rmtree(merged, ignore_errors=True)
    return {"gguf": files, "modelfile": modelfile}


def copy_sentencepiece_model(source, merged):
    """Put the base model's tokenizer.model beside a merged model that lacks it.

    transformers 5 saves only tokenizer.json, and from that llama.cpp's converter guesses SentencePiece
    scores that split some words differently; with tokenizer.model it reads the real ones.
    """
    import shutil

    target = Path(merged, "tokenizer.model")
    if target.exists():
        return
    if Path(str(source)).is_dir():
        if Path(source, "tokenizer.model").is_file():
            shutil.copyfile(Path(source, "tokenizer.model"), target)
        return
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        shutil.copyfile(hf_hub_download(str(source), "tokenizer.model"), target)
    except EntryNotFoundError:  # a BPE model (Llama 3, Gemma 2 ships both): nothing to copy
        return


def build_modelfile(template, tokenizer, gguf_path, system_prompt=None):
    """An Ollama Modelfile: Unsloth's Ollama template for the format, every stop token, our system prompt."""
    import unsloth  # noqa: F401
    from unsloth.ollama_template_mappers import OLLAMA_TEMPLATES

    from .templates import SYSTEM_PROMPT, get_template

    spec = get_template(template)
    text = OLLAMA_TEMPLATES[spec.unsloth_name]
    # Unsloth's placeholders; every other brace belongs to Ollama's Go template and stays.
    text = text.replace("{__FILE_LOCATION__}", str(gguf_path)).replace("{__EOS_TOKEN__}", spec.end_of_turn)
    lines = [line for line in text.strip().splitlines()
             if not line.startswith(("SYSTEM ", "PARAMETER temperature", "PARAMETER min_p"))]
    present = {line.split(" ", 2)[2].strip('"') for line in lines if line.startswith("PARAMETER stop ")}
    vocab = tokenizer.get_vocab()
    lines += [f'PARAMETER stop "{token}"' for token in spec.stop_tokens
              if token not in present and token in vocab]
    # Greedy-ish decoding for medical answers (Unsloth's 1.5 suits creative chat, not this).
    lines += ["PARAMETER temperature 0.2", system_line(system_prompt or SYSTEM_PROMPT)]
    return "\n".join(lines) + "\n"


def system_line(system_prompt):
    # Triple quotes would end Ollama's block early; a system prompt containing them is refused.
    if '"""' in system_prompt:
        raise ValueError('The system prompt cannot contain """ (it ends Ollama\'s SYSTEM block).')
    return 'SYSTEM """' + system_prompt + '"""'


def write_modelfile(folder, template, tokenizer, gguf_path, system_prompt=None):
    path = Path(folder, "Modelfile")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_modelfile(template, tokenizer, gguf_path, system_prompt))
    return path


def describe_sizes(report):
    """One readable line from size_report."""
    base = f"{report['base_mb']:,.1f} MB ({report['base_size']})" if report["base_mb"] else "unknown"
    share = f", {report['adapter_share']:.1%} of the base" if report["adapter_share"] else ""
    return f"adapter {report['adapter_mb']:,.3f} MB vs base model {report['base_model']} {base}{share}"


__all__ = ["save_adapter", "load_adapter", "adapter_base", "size_report", "describe_sizes", "save_merged",
           "export_gguf", "build_modelfile", "write_modelfile", "looks_like_adapter"]

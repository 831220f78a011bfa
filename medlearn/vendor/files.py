"""Where the vendors' own prompt-format references live on this machine, fetched from the package index.

Nothing here is copied into the repository. Three sources are read where they are installed:
- Meta's `llama-models` wheel: the Llama 3 tokenizer (a tiktoken file) and its reference ChatFormat;
- Mistral's `mistral-common` wheel: the v1 (Mistral 7B v0.1/v0.2) and v3 (v0.3) SentencePiece models;
- the `llama-cpp-python` SOURCE distribution: llama.cpp's Llama-2 vocabulary
  (`ggml-vocab-llama-spm.gguf`, with llama.cpp's own expected tokenizations of test strings), the
  publishers' chat templates (`models/templates/*.jinja`) and the templates quoted in its chat-template
  test (`tests/test-chat-template.cpp`), and llama.cpp's converter (`convert_hf_to_gguf.py`, `conversion/`,
  `gguf-py/`) for GGUF export. The sdist is fetched once with pip and the few files we read
  are unpacked under `<cache>/vendor/` (`python tools/fetch_vendor_files.py` does it at install time).
"""
import ast
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from ..cache import cache_root

LLAMA_CPP_PYTHON = "0.3.36"  # the sdist whose vendored llama.cpp files the checks read
_PREFIX = f"llama_cpp_python-{LLAMA_CPP_PYTHON}/vendor/llama.cpp/"
# The members of the sdist we read; everything else in it (C++ sources, binaries) stays packed.
LLAMA_CPP_FILES = (
    "models/ggml-vocab-llama-spm.gguf",
    "models/ggml-vocab-llama-spm.gguf.inp",
    "models/ggml-vocab-llama-spm.gguf.out",
    "models/templates/google-gemma-2-2b-it.jinja",
    "models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja",
    "tests/test-chat-template.cpp",
    "convert_hf_to_gguf.py",
)
# Folders unpacked whole: the converter's model classes and its own gguf-py (GGUF export, medlearn.gguf).
LLAMA_CPP_TREES = ("conversion/", "gguf-py/gguf/")
# Written last into a finished unpack; an older or interrupted one lacks it and is unpacked again.
COMPLETE = ".medlearn-complete-2"


def vendor_root():
    """<cache>/vendor, the cache being $MEDLEARN_CACHE or ~/.cache/medlearn (as for tiny models)."""
    return cache_root() / "vendor"


def llama_cpp_dir():
    return vendor_root() / f"llama.cpp-{LLAMA_CPP_PYTHON}"


def llama_cpp_converter():
    """The folder holding llama.cpp's convert_hf_to_gguf.py, conversion/ and gguf-py/ (fetched if need be)."""
    llama_cpp_file("convert_hf_to_gguf.py")
    return llama_cpp_dir()


def llama_cpp_file(relative):
    """Path of one llama.cpp file from the sdist, fetching the sdist first if it is not unpacked yet."""
    path = llama_cpp_dir() / relative
    if not (llama_cpp_dir() / COMPLETE).exists():
        fetch_llama_cpp_files()
    return path


def fetch_llama_cpp_files(quiet=True):
    """Download the llama-cpp-python sdist with pip and unpack LLAMA_CPP_FILES and LLAMA_CPP_TREES."""
    target = llama_cpp_dir()
    if (target / COMPLETE).exists():
        return target
    downloads = vendor_root() / "sdist"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz"
    if not archive.exists():
        # the source distribution of this one package; its build tools may come as wheels (building
        # them from source too fails on Python 3.13, where setuptools' own sources need a newer build)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
                   f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", str(downloads)]
        done = subprocess.run(command, capture_output=quiet, text=True)
        if done.returncode != 0 or not archive.exists():
            raise RuntimeError(
                f"Could not fetch the llama-cpp-python {LLAMA_CPP_PYTHON} source distribution from the "
                f"package index ({' '.join(command)} failed: {(done.stderr or '')[-300:]}). The prompt "
                "format checks read llama.cpp's Llama-2 vocabulary and chat templates from it; run "
                "`python tools/fetch_vendor_files.py` where the package index can be reached.")
    _unpack(archive, target)
    archive.unlink()  # 76 MB we no longer need: the files we read are unpacked
    return target


def _unpack(archive, target):
    # Unpack beside the target and rename, so an interrupted unpack never looks complete.
    import shutil

    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name[len(_PREFIX):] if member.name.startswith(_PREFIX) else None
            if member.isfile() and name and (name in LLAMA_CPP_FILES or name.startswith(LLAMA_CPP_TREES)):
                destination = partial / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(tar.extractfile(member).read())
    (partial / COMPLETE).write_text("")
    if target.exists() and not (target / COMPLETE).exists():
        shutil.rmtree(target, ignore_errors=True)  # an older unpack with fewer files
    try:
        partial.rename(target)
    except OSError:  # another process unpacked the same files first
        shutil.rmtree(partial, ignore_errors=True)


# The references notebook 03 checks the formats against, as pinned in requirements.txt's test section.
# Colab has every package they need (pydantic, jsonschema, tiktoken, rich, ...), so they install with
# --no-deps and move nothing of Colab's (tests/test_colab_install.py holds that to Colab's package list).
VENDOR_PACKAGES = ("llama-models", "mistral-common", "gguf", "pycountry", "pydantic-extra-types")


def vendor_pins(requirements=None):
    """The requirements.txt lines of VENDOR_PACKAGES ("name==version")."""
    path = requirements or Path(__file__).resolve().parents[2] / "requirements.txt"
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line.split("==")[0].lower() in VENDOR_PACKAGES]


def install_vendor_references():
    """On Colab (which lacks them): pip-install the vendors' encoders and fetch llama.cpp's files."""
    import importlib.util

    modules = {"llama-models": "llama_models", "mistral-common": "mistral_common", "gguf": "gguf",
               "pycountry": "pycountry", "pydantic-extra-types": "pydantic_extra_types"}
    missing = [pin for pin in vendor_pins() if importlib.util.find_spec(modules[pin.split("==")[0]]) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *missing], check=True)
        import importlib

        importlib.invalidate_caches()
    return fetch_llama_cpp_files()


def llama_cpp_vocab_cases():
    """llama.cpp's own test strings for the Llama-2 vocabulary with the ids it expects for each."""
    inputs = llama_cpp_file("models/ggml-vocab-llama-spm.gguf.inp").read_text(encoding="utf-8")
    outputs = llama_cpp_file("models/ggml-vocab-llama-spm.gguf.out").read_text(encoding="utf-8")
    texts = inputs.split("\n__ggml_vocab_test__\n")
    expected = [[int(i) for i in line.split()] for line in outputs.split("\n")[:len(texts)]]
    return list(zip(texts, expected))


def quoted_chat_template(model_name):
    """The chat template that llama.cpp's test-chat-template.cpp quotes for `model_name`, as a string.

    The test file lists one case per model: a name, then the template as a C++ string literal.
    """
    source = llama_cpp_file("tests/test-chat-template.cpp").read_text(encoding="utf-8")
    match = re.search(r'/\* \.name= \*/ "' + re.escape(model_name) + r'",\s*(?://[^\n]*\n\s*)*'
                      r'/\* \.template_str= \*/ ("(?:[^"\\]|\\.)*")', source)
    if match is None:
        raise ValueError(f"llama.cpp's test-chat-template.cpp quotes no template named {model_name!r}.")
    # C++ and Python agree on the escapes these literals use (\n, \", \\).
    return ast.literal_eval(match.group(1))


def package_file(package, *parts):
    """A data file inside an installed package (llama_models, mistral_common), or a clear error."""
    import importlib

    try:
        module = importlib.import_module(package)
    except ImportError:
        raise RuntimeError(f"The prompt format checks need the {package!r} package. It is in the test "
                           "section of requirements.txt, which `python tools/install.py --for cpu` installs "
                           "(on Colab, pip-install the pinned llama-models, mistral-common and gguf lines "
                           "from there).") from None
    return Path(module.__file__).parent.joinpath(*parts)

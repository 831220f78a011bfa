"""Hugging Face tokenizers carrying the REAL vocabularies, built offline from what the vendors ship.

- Llama 3: Meta's tiktoken file from `llama-models`, converted by transformers' TikTokenConverter.
- Mistral v1 (7B v0.1/v0.2) and v3 (v0.3): Mistral's SentencePiece models from `mistral-common`.
- Llama-2: llama.cpp's GGUF copy of the vocabulary, turned back into a SentencePiece model (pieces,
  scores and piece types are stored in the GGUF; the normalizer settings are Llama-2's). llama.cpp's
  own expected tokenizations prove the reconstruction exact (`tests/test_vendor_tokenizers.py`).

SentencePiece tokenizers are built with either `legacy` setting: transformers 5 reads a missing flag
as False, which changes how text right after a special token is split.
"""
import json
import shutil
from functools import lru_cache

from .files import llama_cpp_file, package_file, vendor_root

# Mistral's file names inside mistral_common/data, by tokenizer version.
MISTRAL_MODELS = {"v1": "tokenizer.model.v1", "v3": "mistral_instruct_tokenizer_240323.model.v3"}
# The ids of Llama 3's special tokens follow its 128,000 ordinary ones; Meta's tokenizer lists them.
LLAMA3_FIRST_SPECIAL = 128000


@lru_cache(maxsize=None)
def sentencepiece_tokenizer(vocab, legacy):
    """A transformers LlamaTokenizer for 'llama-2', 'mistral-v1' or 'mistral-v3' with that legacy flag."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(sentencepiece_folder(vocab, legacy)))


def sentencepiece_folder(vocab, legacy):
    """A tokenizer folder (tokenizer.model + tokenizer_config.json) for the vocabulary, built once."""
    if vocab == "llama-2":
        model_file = llama2_sentencepiece_model()
    elif vocab.startswith("mistral-"):
        model_file = package_file("mistral_common", "data", MISTRAL_MODELS[vocab.split("-", 1)[1]])
    else:
        raise ValueError(f"Unknown SentencePiece vocabulary {vocab!r}: llama-2, mistral-v1, mistral-v3.")
    folder = vendor_root() / "tokenizers" / f"{vocab}-legacy-{str(legacy).lower()}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, folder / "tokenizer.model")
    # The same settings as the publishers' tokenizer_config.json: BOS added, EOS not.
    config = {"tokenizer_class": "LlamaTokenizer", "legacy": legacy, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
              "model_max_length": 32768}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def llama2_sentencepiece_model():
    """Path of a SentencePiece model rebuilt from llama.cpp's Llama-2 GGUF vocabulary (cached)."""
    target = vendor_root() / "llama-2-from-gguf.model"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(_llama2_model_proto().SerializeToString())
        partial.replace(target)
    return target


def _llama2_model_proto():
    # Llama-2's normalizer: a dummy "▁" before the text, spaces kept as they are.
    return gguf_sentencepiece_proto(llama_cpp_file("models/ggml-vocab-llama-spm.gguf"), special_ids=(0, 1, 2, -1),
                                    add_dummy_prefix=True)


def gguf_sentencepiece_proto(path, special_ids, add_dummy_prefix, split_digits=False):
    """A SentencePiece BPE model rebuilt from the vocabulary a GGUF file stores.

    special_ids: (unk, bos, eos, pad), -1 for none. GGUF keeps every piece, its score and its type, so
    the rebuilt model tokenizes as the original did; the normalizer settings are the model's own.
    """
    from gguf import GGUFReader
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    reader = GGUFReader(path)

    def array(key):
        field = reader.fields[key]
        return [field.parts[index] for index in field.data]

    pieces = [bytes(part).decode("utf-8") for part in array("tokenizer.ggml.tokens")]
    scores = [float(part[0]) for part in array("tokenizer.ggml.scores")]
    # GGUF numbers piece types as SentencePiece does (1 normal, 2 unknown, 3 control, 4 user, 6 byte).
    types = [int(part[0]) for part in array("tokenizer.ggml.token_type")]
    proto = model_pb2.ModelProto()
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.BPE
    proto.trainer_spec.vocab_size = len(pieces)
    proto.trainer_spec.byte_fallback = True
    if split_digits:  # set only when on, so a model without it serializes as it always did
        proto.trainer_spec.split_digits = True
    (proto.trainer_spec.unk_id, proto.trainer_spec.bos_id, proto.trainer_spec.eos_id,
     proto.trainer_spec.pad_id) = special_ids
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = add_dummy_prefix
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for piece, score, kind in zip(pieces, scores, types):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, kind
    return proto


@lru_cache(maxsize=None)
def llama3_tokenizer():
    """Llama 3's tokenizer as a transformers fast tokenizer: Meta's vocabulary and special tokens."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    meta = meta_llama3_tokenizer()
    specials = sorted(meta.special_tokens, key=meta.special_tokens.get)
    converted = TikTokenConverter(vocab_file=str(package_file("llama_models", "llama3", "tokenizer.model")),
                                  pattern=meta.pat_str, extra_special_tokens=specials).converted()
    bos = "<|begin_of_text|>"
    # Like the Hub's Llama 3.1 tokenizer: tokenizer(text) puts <|begin_of_text|> in front.
    converted.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, meta.special_tokens[bos])])
    return PreTrainedTokenizerFast(tokenizer_object=converted, bos_token=bos, eos_token="<|eot_id|>",
                                   pad_token="<|finetune_right_pad_id|>", model_max_length=131072)


@lru_cache(maxsize=None)
def meta_llama3_tokenizer():
    """Meta's own Llama 3 tokenizer (tiktoken), the reference the HF one is checked against."""
    from llama_models.llama3.tokenizer import Tokenizer

    return Tokenizer(package_file("llama_models", "llama3", "tokenizer.model"))

"""Tiny offline models: the real architecture of each family, shrunk, with its real special tokens.

CI and the CPU demo cannot download a 7B model, so each family gets a stand-in that is built from a
config in seconds: a byte-level BPE tokenizer trained on the project's own text, carrying the
family's special tokens as single ids, and a model of the family's class warmed up on that text. The
same `FastLanguageModel.from_pretrained(path, load_in_4bit=True)` call loads it that loads the real
model on Colab.
"""
import contextlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import build_once, cache_root
from ..footprint import TINY_CONFIG_EXTRA, TINY_SHAPE, TINY_VOCAB_SIZE
from ..registry import check_family
from ..vendor.tokenizers import sentencepiece_folder

# Bump when the recipe changes, so cached builds are rebuilt instead of reused.
RECIPE_VERSION = 4
CORPUS = Path(__file__).resolve().parents[1] / "assets" / "tiny_corpus.txt"
# llama.cpp's name for how trained_tokenizer splits text before BPE (GPT-2's rule, ByteLevel's regex):
# its converter recognises only the Hub's tokenizers, so GGUF export names it (medlearn.gguf_convert).
TRAINED_PRE_TOKENIZER = "gpt-2"
# A short full-parameter warm-up on the corpus turns random weights into a (very) small language
# model, so "before fine-tuning" answers are words, not noise, and LoRA has features to adapt.
PRETRAIN_STEPS = 60
PRETRAIN_CONTEXT = 64


@dataclass(frozen=True)
class TinyRecipe:
    architecture: str  # transformers config/model class prefix: Llama, Mistral, Gemma2
    special_tokens: list  # in the family's id order, so the lowest ids match the real tokenizer
    bos: str
    eos: str
    pad: str
    unk: str = None
    config_extra: dict = field(default_factory=dict)
    # A real vocabulary from the package index (medlearn.vendor.tokenizers) instead of a
    # trained one: then the tiny model tokenizes exactly as the real model does.
    vocabulary: str = None
    adds_bos: bool = True  # tokenizer(text) puts BOS in front, as most real tokenizers do (SmolLM2's not)


RECIPES = {
    # Llama-2's own 32,000-piece vocabulary (llama.cpp's copy); Mistral v0.3's 32,768 (mistral-common).
    # A real vocabulary makes the output layer most of a tiny model's work: `python
    # benchmarks/bench_vocab_cost.py` prints seconds per step by vocabulary size. Fractions of a second
    # for 32k are affordable; Llama 3's 128,256 would cost every CPU step several times more again, and
    # the tiny Llama-3 trains in most tests, so it keeps a trained vocabulary (tests/test_templates_vendor.py
    # holds the llama-3 format to Meta's real tokenizer instead).
    "llama-2": TinyRecipe("Llama", ["<unk>", "<s>", "</s>"], "<s>", "</s>", pad="<unk>", unk="<unk>",
                          vocabulary="llama-2"),
    # Mirrors Unsloth's Llama-3.1 instruct repos: eos is the end-of-turn token, pad a reserved token.
    "llama-3": TinyRecipe(
        "Llama",
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
         "<|eot_id|>", "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>"],
        "<|begin_of_text|>", "<|eot_id|>", pad="<|finetune_right_pad_id|>",
        config_extra=TINY_CONFIG_EXTRA["llama-3"],
    ),
    # Mistral v0.3 made [INST] and [/INST] control tokens with ids 3 and 4.
    "mistral": TinyRecipe("Mistral", ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"], "<s>", "</s>",
                          pad="<unk>", unk="<unk>", vocabulary="mistral-v3"),
    "gemma": TinyRecipe(
        "Gemma2",
        ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"],
        "<bos>", "<eos>", pad="<pad>", unk="<unk>",
        config_extra=TINY_CONFIG_EXTRA["gemma"],
    ),
    # Starling-LM-7B-alpha: OpenChat's format on a Mistral body; a turn ends with <|end_of_turn|>.
    "openchat": TinyRecipe("Mistral", ["<unk>", "<s>", "</s>", "<|end_of_turn|>", "<|pad_0|>"],
                           "<s>", "<|end_of_turn|>", pad="<|pad_0|>", unk="<unk>"),
    # SmolLM2's ChatML tokens at SmolLM2's ids (0, 1, 2), on a Llama body as SmolLM2's.
    "chatml": TinyRecipe("Llama", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|im_start|>", "<|im_end|>",
                         pad="<|im_end|>", unk="<|endoftext|>", adds_bos=False),
}


def tiny_model_path(family):
    """Path of the tiny model of `family`, building it first if it is not cached yet."""
    recipe = RECIPES[check_family(family)]
    path = cache_root() / "tiny" / f"{family}-v{RECIPE_VERSION}"
    if not (path / "config.json").exists():
        _build_atomically(family, recipe, path)
    return path


def _build_atomically(family, recipe, path):
    def write(workdir):
        tokenizer = build_tokenizer(recipe)
        tokenizer.save_pretrained(workdir)
        if recipe.vocabulary:  # as on the Hub: llama.cpp's converter reads the scores from it
            shutil.copyfile(sentencepiece_model_file(recipe), workdir / "tokenizer.model")
        with quiet_progress_bars():  # a first build inside a notebook cell prints nothing to stderr
            build_model(family, recipe, tokenizer).save_pretrained(workdir)
        (workdir / "medlearn_tiny.json").write_text(json.dumps(
            {"family": family, "recipe_version": RECIPE_VERSION, "architecture": recipe.architecture}))

    build_once(path, family, write)


@contextlib.contextmanager
def quiet_progress_bars():
    """transformers' progress bars off for the block ("Writing model shards" on stderr), then as they were."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def build_tokenizer(recipe):
    """The recipe's real vocabulary, else a byte-level BPE tokenizer trained on the course corpus."""
    if recipe.vocabulary:
        return real_vocabulary_tokenizer(recipe)
    return trained_tokenizer(recipe)


def real_vocabulary_tokenizer(recipe):
    """The vendor's vocabulary as the Hub ships it (legacy=False, as transformers 5 reads a config
    without the flag), with the pad token and length the tiny model uses."""
    from transformers import AutoTokenizer

    # Given to from_pretrained, so save_pretrained writes them into the tiny model's config.
    return AutoTokenizer.from_pretrained(str(sentencepiece_folder(recipe.vocabulary, False)), legacy=False,
                                         pad_token=recipe.pad, padding_side="right",
                                         model_max_length=TINY_SHAPE["max_position_embeddings"])


def sentencepiece_model_file(recipe):
    return sentencepiece_folder(recipe.vocabulary, False) / "tokenizer.model"


def llama_cpp_pre_tokenizer(family):
    """The pre-tokenizer name GGUF export must give llama.cpp for this tiny model (None: it knows it)."""
    return None if RECIPES[check_family(family)].vocabulary else TRAINED_PRE_TOKENIZER


def trained_tokenizer(recipe):
    """A byte-level BPE tokenizer trained on the course corpus; special tokens are single ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=recipe.unk))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TINY_VOCAB_SIZE, special_tokens=recipe.special_tokens, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train([str(CORPUS)], trainer)
    if recipe.adds_bos:  # like the real tokenizers, encoding adds BOS by itself (the double-BOS bug's source)
        bos_id = tokenizer.token_to_id(recipe.bos)
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{recipe.bos} $A", pair=f"{recipe.bos} $A {recipe.bos} $B",
            special_tokens=[(recipe.bos, bos_id)],
        )
    named = {"bos": recipe.bos, "eos": recipe.eos, "pad": recipe.pad, "unk": recipe.unk}
    extra = [t for t in recipe.special_tokens if t not in named.values()]
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=recipe.bos, eos_token=recipe.eos,
        pad_token=recipe.pad, unk_token=recipe.unk, additional_special_tokens=extra,
        model_max_length=TINY_SHAPE["max_position_embeddings"], padding_side="right",
    )


def build_model(family, recipe, tokenizer):
    """A randomly initialised model of the family's real class, seeded so every build is identical."""
    import torch
    import transformers

    config_class = getattr(transformers, f"{recipe.architecture}Config")
    model_class = getattr(transformers, f"{recipe.architecture}ForCausalLM")
    config = config_class(
        vocab_size=len(tokenizer), **TINY_SHAPE, **recipe.config_extra,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=(family == "gemma"),
    )
    torch.manual_seed(0)
    model = model_class(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    pretrain_on_corpus(model, tokenizer)
    return model


def pretrain_on_corpus(model, tokenizer, steps=PRETRAIN_STEPS):
    """A few seconds of seeded next-token training on the corpus; returns the last loss."""
    import torch

    ids = tokenizer(CORPUS.read_text(), add_special_tokens=False).input_ids
    windows = torch.tensor([ids[i:i + PRETRAIN_CONTEXT]
                            for i in range(0, len(ids) - PRETRAIN_CONTEXT, PRETRAIN_CONTEXT // 2)])
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        batch = windows[torch.randint(0, len(windows), (16,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return loss.item()

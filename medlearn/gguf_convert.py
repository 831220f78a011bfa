"""Run llama.cpp's convert_hf_to_gguf.py (a script, so in a process of its own) with two settings for
the files medlearn writes; medlearn.gguf.convert calls it.

    python gguf_convert.py LLAMA_CPP_DIR PRE_TOKENIZER|- TEMPLATE MODEL_DIR [converter options...]

- PRE_TOKENIZER names llama.cpp's BPE pre-tokenizer when the converter cannot recognise the tokenizer:
  it knows tokenizers by a hash of the ids they give a test text, so a vocabulary trained here (the tiny
  models') never matches though it splits text by GPT-2's rule. Given a name, a model with no
  SentencePiece file (the tiny Gemma) is written as that BPE vocabulary too. Real models pass '-'.
- TEMPLATE, medlearn's name of the chat format, is written as `medlearn.template`, so `medlearn chat
  --gguf` folds a system prompt into a user turn where the format has no system role, as training did.
- SentencePiece vocabularies are written with add_space_prefix = false: medlearn's templates write the
  space before a word after a special token themselves ("<s> [INST]", medlearn.templates.formats), as
  transformers reads them; llama.cpp would add a second "▁" there.
"""
import runpy
import sys
from pathlib import Path


def main():
    source, pre_tokenizer, template, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    sys.path[:0] = [str(source), str(source / "gguf-py")]  # the converter's own gguf-py, as it expects
    import gguf
    from conversion import base

    add_tokenizer_model = gguf.GGUFWriter.add_tokenizer_model

    def with_template_name(self, model):  # every vocabulary writer calls this once
        add_tokenizer_model(self, model)
        self.add_string("medlearn.template", template)

    gguf.GGUFWriter.add_tokenizer_model = with_template_name

    set_sentencepiece = base.TextModel._set_vocab_sentencepiece

    def sentencepiece_without_prefix(self, *arguments, **options):
        if pre_tokenizer != "-" and not (self.dir_model / "tokenizer.model").is_file():
            return self._set_vocab_gpt2()
        result = set_sentencepiece(self, *arguments, **options)
        self.gguf_writer.add_add_space_prefix(False)
        return result

    base.TextModel._set_vocab_sentencepiece = sentencepiece_without_prefix
    if pre_tokenizer != "-":
        base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre_tokenizer
    sys.argv = [str(source / "convert_hf_to_gguf.py"), *args]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()

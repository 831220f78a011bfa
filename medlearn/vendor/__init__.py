"""The vendors' own references, fetched from the package index and kept in medlearn's cache.

Modules: files (where llama.cpp's files, Meta's and Mistral's packages put what the checks read),
tokenizers (Hugging Face tokenizers on the real vocabularies, built offline from those files).
Below models and templates: the tiny models are built on these vocabularies, and the prompt formats
are held to these encoders.
"""

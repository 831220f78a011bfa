"""Prompt formats for every course family: byte-exact rendering and response-only labels.

    spec = get_template("gemma")
    tokenizer = prepare_tokenizer(tokenizer, "gemma")      # installs a template only if it has none
    text = render(tokenizer, messages, "gemma", add_generation_prompt=True)
    row = tokenize_conversation(tokenizer, messages, "gemma")  # labels -100 outside the answers
"""
from .specs import SAMPLE_CONVERSATION, SYSTEM_PROMPT, TEMPLATES, TemplateSpec, get_template
from .render import fold_system, prepare_tokenizer, render, tiny_tokenizer, validate_conversation
from .labels import (IGNORE, add_text_column, adds_bos, apply_response_only, encode_prompt, encode_text,
                     response_masker, stop_token_ids, tokenize_conversation, training_text)
from .explain import describe_tokens, find_prompt_mistakes, trained_spans

__all__ = [
    "SAMPLE_CONVERSATION", "SYSTEM_PROMPT", "TEMPLATES", "TemplateSpec", "get_template", "fold_system",
    "prepare_tokenizer", "render", "tiny_tokenizer", "validate_conversation", "IGNORE",
    "add_text_column", "adds_bos", "apply_response_only", "encode_prompt", "encode_text", "response_masker",
    "stop_token_ids", "tokenize_conversation", "training_text", "describe_tokens", "find_prompt_mistakes", "trained_spans",
]

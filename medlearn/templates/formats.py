"""medlearn's own chat templates for the formats whose usual Hub or Unsloth template is not vendor-exact.

Each one writes the text that, tokenized, gives the very ids of the vendor's reference encoder
(Meta's Llama-2 chat code; Mistral's `mistral-common` v1 and v3 encoders); `tests/test_templates_vendor.py`
holds them to it. Two rules make that hold for SentencePiece tokenizers with either `legacy` setting:

- Where the vendor's encoder starts a text piece right after a special token, its SentencePiece call
  adds a "▁" to the piece. With `legacy: true` transformers adds it too, with `legacy: false` it does not,
  so these templates write an explicit space there ("<s> [INST]", "[INST] What", "[/INST] A"): a space
  gives "▁" under both settings and never a second one.
- No space is written where the vendor has no "▁" (Mistral v3: "question[/INST]", "answer</s>").

Llama-2 writes a system prompt itself (its <<SYS>> block); Mistral's never see one: `fold_system` joins
it into a user message first (the first for v1, the last for v3), as Mistral's encoders do.
The templates ignore add_generation_prompt: a prompt already ends where the answer begins.
"""

# Llama-2 chat (Meta's reference): every turn is <s>[INST] question [/INST] answer </s>, the
# system prompt sits in a <<SYS>> block at the start of the first question, contents are stripped.
LLAMA_2 = (
    "{%- set system = namespace(block='') -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{%- set system.block = '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' -%}"
    "{%- elif message['role'] == 'user' -%}"
    "{{- bos_token + ' [INST] ' + (system.block + message['content']) | trim + ' [/INST]' -}}"
    "{%- set system.block = '' -%}"
    "{%- else -%}"
    "{{- ' ' + message['content'] | trim + ' ' + eos_token -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

# Mistral v1 tokenizer (Mistral-7B-Instruct v0.1 and v0.2): [INST] is plain text, surrounded by spaces.
MISTRAL_V1 = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{- ' [INST] ' + message['content'] + ' [/INST]' -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- ' ' + message['content'] + eos_token -}}"
    "{%- else -%}"
    "{{- raise_exception('Mistral turns are user or assistant; fold the system prompt into a user turn.') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

# Mistral v3 tokenizer (Mistral-7B-Instruct v0.3): [INST] and [/INST] are control tokens; the text
# after each starts with "▁", and nothing separates a question or an answer from the token that ends it.
MISTRAL_V3 = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{- '[INST] ' + message['content'] + '[/INST]' -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- ' ' + message['content'] + eos_token -}}"
    "{%- else -%}"
    "{{- raise_exception('Mistral turns are user or assistant; fold the system prompt into a user turn.') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

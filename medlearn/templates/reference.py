"""The vendors' own encodings of a conversation: the ids medlearn's prompts and training rows must equal.

Each function takes a validated conversation (the course's message dicts) and returns (ids, spans):
the token ids the vendor's reference encoder produces, and for a training row (one that ends with the
assistant) the (start, end) positions of each answer plus its end-of-turn token, which is what a
response-only fine-tune trains. A generation prompt (add_generation_prompt=True) has no spans.
"""
from ..vendor.files import llama_cpp_file, quoted_chat_template
from ..vendor.tokenizers import MISTRAL_MODELS, llama2_sentencepiece_model, meta_llama3_tokenizer

# The Hub's Llama-3.1 template always opens with this system header; medlearn pins the same date.
LLAMA3_DATE = "26 Jul 2024"


def split_system(messages):
    """(system prompt or None, the other messages)."""
    if messages[0]["role"] == "system":
        return messages[0]["content"], list(messages[1:])
    return None, list(messages)


def llama3_reference(messages, add_generation_prompt):
    """Meta's ChatFormat (llama-models) with the Llama-3.1 Hub template's dated system header."""
    from llama_models.datatypes import RawMessage, StopReason
    from llama_models.llama3.chat_format import ChatFormat

    chat = ChatFormat(meta_llama3_tokenizer())
    system, turns = split_system(messages)
    header = f"Cutting Knowledge Date: December 2023\nToday Date: {LLAMA3_DATE}\n\n"
    raw = [RawMessage(role="system", content=header + (system or ""))]
    raw += [RawMessage(role=m["role"], content=m["content"],
                       stop_reason=StopReason.end_of_turn if m["role"] == "assistant" else None)
            for m in turns]
    if add_generation_prompt:
        return chat.encode_dialog_prompt(raw).tokens, []
    ids, spans = [chat.tokenizer.bos_id], []
    for message in raw:
        tokens, _ = chat.encode_message(message, tool_prompt_format=None)
        if message.role == "assistant":  # the header is prompt; the content and <|eot_id|> train
            spans.append((len(ids) + len(chat._encode_header("assistant")), len(ids) + len(tokens)))
        ids += tokens
    return ids, spans


def llama2_reference(messages, add_generation_prompt):
    """Meta's Llama-2 chat encoding, with SentencePiece on llama.cpp's copy of the Llama-2 vocabulary.

    Meta's reference code encodes each exchange on its own: BOS, then "[INST] question [/INST] answer "
    through SentencePiece, then EOS; the last question alone ends the prompt. The system prompt sits in
    a <<SYS>> block in front of the first question, and contents are stripped.
    """
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(llama2_sentencepiece_model()))
    system, turns = split_system(messages)
    if system is not None:
        turns[0] = dict(turns[0], content=f"<<SYS>>\n{system}\n<</SYS>>\n\n{turns[0]['content']}")
    bos, eos, encode = processor.bos_id(), processor.eos_id(), processor.encode
    ids, spans = [], []
    for index in range(0, len(turns), 2):
        question = f"[INST] {turns[index]['content'].strip()} [/INST]"
        if index + 1 == len(turns):  # the question the model is to answer
            ids += [bos] + encode(question)
            break
        exchange = encode(f"{question} {turns[index + 1]['content'].strip()} ")
        asked = encode(question)
        if exchange[:len(asked)] != asked:
            raise AssertionError(f"SentencePiece split {question!r} differently inside the exchange.")
        start = len(ids) + 1 + len(asked)  # the answer's tokens follow the question's
        ids += [bos] + exchange + [eos]
        spans.append((start, len(ids)))
    return ids, ([] if add_generation_prompt else spans)


def mistral_reference(messages, add_generation_prompt, version):
    """mistral-common's instruct encoder for tokenizer `version` ('v1' or 'v3').

    The answer spans are the tokens the encoder writes for each assistant message (its content and
    EOS), found in order in the encoded conversation.
    """
    from mistral_common.protocol.instruct.messages import AssistantMessage, UserMessage
    from mistral_common.protocol.instruct.request import InstructRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    from ..vendor.files import package_file

    tokenizer = MistralTokenizer.from_file(str(package_file("mistral_common", "data", MISTRAL_MODELS[version])))
    system, turns = split_system(messages)
    typed = [UserMessage(content=m["content"]) if m["role"] == "user" else AssistantMessage(content=m["content"])
             for m in turns]
    encoder = tokenizer.instruct_tokenizer
    ids = encoder.encode_instruct(InstructRequest(messages=typed, system_prompt=system)).tokens
    if add_generation_prompt:
        return ids, []
    last_user = max(i for i, m in enumerate(turns) if m["role"] == "user")
    spans, position = [], 0
    for index, message in enumerate(typed):
        if isinstance(message, AssistantMessage):
            answer = encoder.encode_assistant_message(message, is_before_last_user_message=index < last_user,
                                                      continue_message=False)
            start = _find(ids, answer, position)
            spans.append((start, start + len(answer)))
            position = start + len(answer)
    return ids, spans


def _find(ids, part, start):
    for position in range(start, len(ids) - len(part) + 1):
        if ids[position:position + len(part)] == part:
            return position
    raise AssertionError(f"The vendor's answer tokens {part[:8]}... are not in its own encoding.")


def template_reference(tokenizer, chat_template, messages, add_generation_prompt, end_of_turn):
    """A publisher's jinja template rendered by transformers and read by `tokenizer` (no BOS added).

    Answer spans: each answer starts where the template's generation prompt for the conversation up
    to it ends (that prompt must be a prefix of the row) and ends with its end-of-turn token.
    """
    def encode(conversation, generation):
        text = tokenizer.apply_chat_template(conversation, chat_template=chat_template, tokenize=False,
                                             add_generation_prompt=generation)
        return tokenizer(text, add_special_tokens=False).input_ids

    ids = encode(messages, add_generation_prompt)
    if add_generation_prompt:
        return ids, []
    end_id, spans = tokenizer.convert_tokens_to_ids(end_of_turn), []
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            prompt = encode(messages[:index], True)
            if ids[:len(prompt)] != prompt:
                raise AssertionError("The template's generation prompt is not a prefix of its own row.")
            spans.append((len(prompt), ids.index(end_id, len(prompt)) + 1))
    return ids, spans


def gemma2_template():
    """Google's Gemma-2 instruct template, as llama.cpp keeps it."""
    return llama_cpp_file("models/templates/google-gemma-2-2b-it.jinja").read_text(encoding="utf-8")


def llama31_hub_template():
    """Meta's Llama-3.1-8B-Instruct Hub template, as llama.cpp keeps it."""
    return llama_cpp_file("models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja").read_text(encoding="utf-8")


def chatml_template():
    return quoted_chat_template("teknium/OpenHermes-2.5-Mistral-7B")


def openchat_template():
    return quoted_chat_template("openchat/openchat-3.5-0106")

import sys

HELP = ("Chat with a model or adapter in the terminal: the family template, streamed tokens, a history "
        "kept within the context, and the medical disclaimer under every answer.")


def configure(parser):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="model name (medlearn models), tiny-FAMILY, or an adapter folder")
    source.add_argument("--gguf", help="a GGUF file (medlearn export --gguf), run by llama.cpp on the CPU")
    parser.add_argument("--question", action="append", default=[],
                        help="ask this and exit instead of an interactive chat (repeatable: one conversation)")
    parser.add_argument("--guard", action="store_true", help="decline non-medical questions before the model sees them")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="longest answer, in tokens")
    parser.add_argument("--max-length", type=int, default=2048, help="context budget in tokens (prompt + answer)")
    parser.add_argument("--system", help="system prompt (default: the course's careful medical assistant)")
    parser.add_argument("--no-4bit", action="store_true", help="load the model in 16-bit instead of 4-bit")


def build_chat(args):
    """(chat, what it is in words) for the command-line options: a Chat on a model or adapter, or a
    GgufChat on a GGUF file (--gguf)."""
    from ..guard import default_guard, describe_guard
    from ..inference import SYSTEM_PROMPT, Chat, load_chat_model
    from ..notebook import on_gpu

    if args.max_new_tokens < 1 or args.max_new_tokens >= args.max_length:
        raise ValueError(f"--max-new-tokens must be between 1 and --max-length ({args.max_length}); "
                         f"got {args.max_new_tokens}.")
    guard = None
    if args.guard:
        guard = default_guard(sample=not on_gpu())
        print(describe_guard(guard), file=sys.stderr)
    if getattr(args, "gguf", None):
        return gguf_chat(args, guard)
    # Said first, before the load: a learner on a CPU must know when a tiny stand-in answers.
    print(f"medlearn chat: {describe_what_runs(args.model)}", file=sys.stderr, flush=True)
    model, tokenizer, choice = load_chat_model(args.model, args.max_length, load_in_4bit=not args.no_4bit)
    chat = Chat(model, tokenizer, choice.template, args.system or SYSTEM_PROMPT, args.max_length,
                args.max_new_tokens, guard)
    return chat, choice.describe()


def gguf_chat(args, guard):
    from ..gguf import chat_template, open_gguf
    from ..inference import SYSTEM_PROMPT, GgufChat

    llm = open_gguf(args.gguf, n_ctx=args.max_length)
    chat_template(llm)  # refuse a file without a template before the first question
    what = f"the GGUF file {args.gguf} ({llm.metadata.get('general.name', 'unnamed')}, llama.cpp)"
    return GgufChat(llm, args.system or SYSTEM_PROMPT, args.max_length, args.max_new_tokens, guard), what


def describe_what_runs(name):
    """What `--model NAME` will load, in words (a tiny stand-in says so); an unknown name raises."""
    from ..inference import is_plain_model
    from ..models import choose_model_or_adapter

    if is_plain_model(name):
        return f"{name} (a Hugging Face model, loaded as it is)"
    return choose_model_or_adapter(name).describe()


def answer(chat, text):
    for piece in chat.stream(text):
        print(piece, end="", flush=True)
    print()
    if chat.trimmed_turns:
        print(f"(left out the {chat.trimmed_turns} oldest turn(s) to fit the context)", file=sys.stderr)


def read_lines():
    """Lines typed at a prompt (or piped in), until Ctrl-D."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


def run(args):
    chat, what = build_chat(args)
    print(f"Chatting with {what}.", file=sys.stderr)
    if args.question:
        for question in args.question:
            print(f"> {question}")
            answer(chat, question)
        return 0
    print("Type a question; /reset starts over, /exit (or Ctrl-D) quits.", file=sys.stderr)
    for line in read_lines():
        text = line.strip()
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            chat.reset()
            print("(history cleared)", file=sys.stderr)
            continue
        answer(chat, text)
    return 0

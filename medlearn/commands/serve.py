HELP = ("Serve a web chat page for a model or adapter (Gradio): disclaimer shown, model named, on-topic "
        "switch; on 127.0.0.1 (Colab shows it in the notebook); a public link only with --share.")


def configure(parser):
    parser.add_argument("--model", required=True, help="model name (medlearn models), tiny-FAMILY, or an adapter folder")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; Colab: all, with a share link)")
    parser.add_argument("--share", action="store_true",
                        help="also make a public gradio.live link: anyone who has it can use your model")
    parser.add_argument("--guard", action="store_true", help="start with the on-topic switch on")
    parser.add_argument("--page", choices=["chat", "symptoms"], default="chat",
                        help="chat: the chat page; symptoms: the symptom-checker form (notebook 09's model)")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--max-length", type=int, default=2048, help="context budget in tokens")
    parser.add_argument("--no-4bit", action="store_true", help="load the model in 16-bit instead of 4-bit")


def run(args):
    from ..guard import default_guard
    from ..inference import load_chat_model
    from ..notebook import on_gpu
    from ..webapp import build_app, launch

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535; got {args.port}.")
    from ..webapp import check_port
    from .chat import describe_what_runs

    print(f"medlearn serve: {describe_what_runs(args.model)}", flush=True)
    check_port(args.host or "127.0.0.1", args.port)  # before minutes of loading, not after
    model, tokenizer, choice = load_chat_model(args.model, args.max_length, load_in_4bit=not args.no_4bit)
    if args.page == "symptoms":
        from ..symptoms import build_symptom_app

        app = build_symptom_app(model, tokenizer, choice, args.max_new_tokens, args.max_length)
    else:
        guard = default_guard(sample=not on_gpu())
        app = build_app(model, tokenizer, choice, guard, guard_on=args.guard,
                        max_new_tokens=args.max_new_tokens, max_context=args.max_length)
    launch(app, args.port, args.share, args.host, block=True)
    return 0

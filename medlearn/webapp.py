"""A web chat page for a model or adapter: Gradio's chat interface, the disclaimer always visible.

    app = build_app(model, tokenizer, choice, guard=train_guard())
    launch(app, port=7860)        # 127.0.0.1; on Colab shown in the notebook; public only with share=True

Every reply goes through medlearn.inference.Chat, so the page answers with the family template,
stops at the stop tokens, trims old turns to the context and ends each answer with the disclaimer.
Bad input (an empty or over-long message, a broken history) gets a polite reply, never an error page.
Limits keep one visitor from holding the page: a message is capped in characters before it is
tokenized and in tokens after, a reply in seconds, and requests wait in a queue of bounded size.
"""
import socket
import sys
import threading
import time

from .inference import DISCLAIMER, DISCLAIMER_BLOCK, Chat, strip_disclaimer

ERROR_REPLY = "Sorry, something went wrong while answering. Please try again or rephrase your question."
MAX_MESSAGE_CHARS = 4000  # about 1,000 tokens: a long question, far from a pasted book
MAX_HISTORY_CHARS = 32_000  # older turns beyond this are dropped before anything is tokenized
MAX_REPLY_SECONDS = 60  # generation stops here; the answer so far is kept
QUEUE_SIZE = 16  # requests waiting their turn; more are turned away by the page
TOO_LONG_REPLY = ("Your message is too long for this page ({size}). Please shorten it to at most "
                  "{limit} and ask again.")
TIME_LIMIT_NOTE = "\n\n(The answer was cut at the page's time limit of {seconds} s.)"
EXAMPLES = ["What are the early signs of diabetes?", "How is a sprained ankle treated?",
            "What is the capital of Australia?"]


def content_text(content):
    """Text of a chat message's content (Gradio gives a string, a list of parts, or a dict)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text") or ""
    if isinstance(content, (list, tuple)):
        return " ".join(content_text(part) for part in content).strip()
    return ""


def history_to_messages(history):
    """Gradio's chat history as alternating user/assistant messages, disclaimers removed.

    Only complete, non-empty question/answer pairs are kept: a half-finished or edited history
    must not break the template's strict alternation.
    """
    messages, pending = [], None
    for item in history or []:
        role = item.get("role") if isinstance(item, dict) else None
        text = content_text(item.get("content")).strip() if isinstance(item, dict) else ""
        if role == "user" and text:
            pending = text
        elif role == "assistant" and pending and strip_disclaimer(text).strip():
            messages += [{"role": "user", "content": pending},
                         {"role": "assistant", "content": strip_disclaimer(text).strip()}]
            pending = None
    return messages


def too_long(text, tokenizer, max_chars, max_tokens):
    """A polite refusal when `text` is over the character cap (checked first, without tokenizing it)
    or over the token cap; None when it fits."""
    if len(text) > max_chars:
        return TOO_LONG_REPLY.format(size=f"{len(text):,} characters", limit=f"{max_chars:,} characters")
    tokens = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    if tokens > max_tokens:
        return TOO_LONG_REPLY.format(size=f"{tokens:,} tokens", limit=f"{max_tokens:,} tokens")
    return None


def recent_history(messages, max_chars=MAX_HISTORY_CHARS):
    """The newest question/answer pairs whose text fits in `max_chars` (a page can send any history)."""
    kept, total = [], 0
    for index in range(len(messages) - 2, -1, -2):
        pair = messages[index:index + 2]
        total += sum(len(m["content"]) for m in pair)
        if total > max_chars:
            break
        kept = pair + kept
    return kept


def make_responder(model, tokenizer, template, guard=None, max_new_tokens=256, max_context=None,
                   max_chars=MAX_MESSAGE_CHARS, max_seconds=MAX_REPLY_SECONDS):
    """The function the page calls: (message, history, guard_on) -> yields the answer so far."""
    lock = threading.Lock()  # one generation at a time: the model is shared by every visitor
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.max_time = max_seconds  # generate() stops itself at the time limit

    def respond(message, history, guard_on=False):
        chat = Chat(model, tokenizer, template, max_context=max_context, max_new_tokens=max_new_tokens,
                    guard=guard if guard_on else None)
        shown = ""
        try:
            text = content_text(message)
            refusal = too_long(text, tokenizer, max_chars, chat.max_context - max_new_tokens)
            if refusal:
                yield refusal + DISCLAIMER_BLOCK
                return
            chat.history = recent_history(history_to_messages(history))
            with lock:
                started = time.monotonic()
                for piece in chat.stream(text):
                    shown += piece
                    yield shown
            if time.monotonic() - started >= max_seconds and chat.last.stop_reason == "length":
                yield strip_disclaimer(shown) + TIME_LIMIT_NOTE.format(seconds=max_seconds) + DISCLAIMER_BLOCK
        except Exception as error:  # the page must answer, whatever happened
            print(f"medlearn serve: {type(error).__name__}: {error}", file=sys.stderr)
            yield strip_disclaimer(shown) + ("\n\n" if shown else "") + ERROR_REPLY + DISCLAIMER_BLOCK

    return respond


def header_markdown(choice, guard=None):
    from pathlib import Path

    model = choice.describe()
    adapter = choice.requested if Path(choice.requested).is_dir() else "none (the model as published)"
    lines = ["# medlearn medical assistant",
             f"**Model:** {model}  \n**Adapter:** `{adapter}`",
             f"> ⚠️ {DISCLAIMER}"]
    if guard is not None:
        lines.append(f"The on-topic guard is a small word-based classifier "
                     f"(held-out accuracy {guard.report.get('accuracy', 0):.0%}); it can be wrong both ways.")
    return "\n\n".join(lines)


def build_app(model, tokenizer, choice, guard=None, guard_on=False, max_new_tokens=256, max_context=None):
    """The Gradio Blocks page (not started): header, chat, and the on-topic switch when a guard is given."""
    import gradio as gr

    respond = make_responder(model, tokenizer, choice.template, guard, max_new_tokens, max_context)
    with gr.Blocks(title="medlearn chat", analytics_enabled=False) as app:
        gr.Markdown(header_markdown(choice, guard), elem_id="medlearn-header")
        switch = gr.Checkbox(value=guard_on and guard is not None, interactive=guard is not None,
                             label="Stay on topic: decline non-medical questions before the model answers",
                             elem_id="medlearn-guard")
        gr.ChatInterface(respond, additional_inputs=[switch], examples=[[e, guard_on] for e in EXAMPLES],
                         chatbot=gr.Chatbot(elem_id="medlearn-chat", height=420),
                         textbox=gr.Textbox(placeholder="Ask a health question", elem_id="medlearn-input",
                                            show_label=False, submit_btn=True),
                         cache_examples=False, analytics_enabled=False, fill_height=False,
                         concurrency_limit=1)  # one answer at a time; the queue holds the rest
    return app


def check_port(host, port):
    """Raise a clear error when `port` is taken, before the model loads (not after)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ValueError(f"Port {port} on {host} is not free ({error.strerror}): another program, perhaps "
                             f"an earlier `medlearn serve`, uses it. Pass --port {port + 1} (or any free "
                             "port), or stop the other program.") from None


def launch_options(port=7860, share=False, host=None):
    """Where the page listens: 127.0.0.1 here, every interface on Colab (its proxy shows the page in
    the notebook, for you only). A public gradio.live link only when asked for (share=True)."""
    from .runtime import is_colab

    colab = is_colab()
    return {"server_name": host or ("0.0.0.0" if colab else "127.0.0.1"), "server_port": port,
            "share": bool(share)}


def launch(app, port=7860, share=False, host=None, block=True):
    """Start the page; block=False returns at once (notebooks, tests) and app.close() stops it."""
    from .runtime import is_colab

    options = launch_options(port, share, host)
    if options["share"]:
        print("Public link requested (share=True): anyone who has the link can use this model for "
              "as long as the page runs. Do not share a link to a model you would not show everyone.")
    elif is_colab():
        print("On Colab the page is shown below through Colab's own proxy, visible to you only. "
              "For a public link anyone can open, pass share=True (medlearn serve --share).")
    app.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    app.launch(prevent_thread_lock=not block, ssr_mode=False, quiet=False, **options)
    return app

"""A web chat page for a model or adapter: Gradio's chat interface, the disclaimer always visible.

    app = build_app(model, tokenizer, choice, guard=train_guard())
    launch(app, port=7860)        # 127.0.0.1 locally; a public share link on Colab

Every reply goes through medlearn.inference.Chat, so the page answers with the family template,
stops at the stop tokens, trims old turns to the context and ends each answer with the disclaimer.
Bad input (an empty or over-long message, a broken history) gets a polite reply, never an error page.
"""
import sys
import threading

from .inference import DISCLAIMER, DISCLAIMER_BLOCK, Chat, strip_disclaimer

ERROR_REPLY = "Sorry, something went wrong while answering. Please try again or rephrase your question."
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


def make_responder(model, tokenizer, template, guard=None, max_new_tokens=256, max_context=None):
    """The function the page calls: (message, history, guard_on) -> yields the answer so far."""
    lock = threading.Lock()  # one generation at a time: the model is shared by every visitor

    def respond(message, history, guard_on=False):
        chat = Chat(model, tokenizer, template, max_context=max_context, max_new_tokens=max_new_tokens,
                    guard=guard if guard_on else None)
        shown = ""
        try:
            chat.history = history_to_messages(history)
            with lock:
                for piece in chat.stream(content_text(message)):
                    shown += piece
                    yield shown
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
                         cache_examples=False, analytics_enabled=False, fill_height=False)
    return app


def launch_options(port=7860, share=None, host=None):
    """Where the page listens: a share link on Colab (localhost is not reachable there), 127.0.0.1 here."""
    from .runtime import is_colab

    colab = is_colab()
    return {"server_name": host or ("0.0.0.0" if colab else "127.0.0.1"), "server_port": port,
            "share": colab if share is None else share}


def launch(app, port=7860, share=None, host=None, block=True):
    """Start the page; block=False returns at once (notebooks, tests) and app.close() stops it."""
    options = launch_options(port, share, host)
    app.queue(default_concurrency_limit=4)
    app.launch(prevent_thread_lock=not block, ssr_mode=False, quiet=False, **options)
    return app

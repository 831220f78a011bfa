"""A symptom-checker page for the biomedical-instruction model (notebook 09): a form instead of a chat.

    app = build_symptom_app(model, tokenizer, choice)
    launch(app, port=7861)        # medlearn.webapp.launch: 127.0.0.1, public only with share=True

The visitor fills in age, symptoms, how long and how bad, and ticks any warning sign. The form becomes
one user message (plain labelled lines: data, not prompt markers; the model's chat template wraps it)
asking for possible common causes and when to see a doctor, in the style of the instruction data the
model was tuned on. A ticked warning sign never waits for the model: the page says to get emergency
care first. Every answer ends with the course's disclaimer (medlearn.inference.Chat).
"""
from .inference import DISCLAIMER_BLOCK, Chat

WARNING_SIGNS = ("chest pain or pressure", "trouble breathing", "fainting or new confusion",
                 "weakness on one side or slurred speech", "heavy bleeding")
DURATIONS = ("less than a day", "1 to 3 days", "4 to 7 days", "1 to 4 weeks", "more than a month")
MAX_SYMPTOM_CHARS = 1000
EMERGENCY_NOTICE = ("**A warning sign you ticked can mean an emergency. Call your local emergency number or "
                    "go to an emergency department now; do not wait for this page.**")
TASK = ("List the most likely common causes of these symptoms, what the person can do now, and which "
        "signs mean they should see a doctor soon.")


def check_form(age, symptoms, duration, severity, warning_signs):
    """Raise ValueError naming the field and what would be valid; return None when the form is fine."""
    if age is None or not 0 <= float(age) <= 120:
        raise ValueError(f"Age: give an age in years between 0 and 120 (got {age!r}).")
    if not isinstance(symptoms, str) or not symptoms.strip():
        raise ValueError("Symptoms: describe at least one symptom, for example 'sore throat and fever'.")
    if len(symptoms) > MAX_SYMPTOM_CHARS:
        raise ValueError(f"Symptoms: at most {MAX_SYMPTOM_CHARS:,} characters (got {len(symptoms):,}).")
    if duration not in DURATIONS:
        raise ValueError(f"How long: choose one of {', '.join(DURATIONS)} (got {duration!r}).")
    if severity is None or not 1 <= float(severity) <= 10:
        raise ValueError(f"How bad: a number from 1 (mild) to 10 (worst) (got {severity!r}).")
    unknown = [sign for sign in warning_signs or [] if sign not in WARNING_SIGNS]
    if unknown:
        raise ValueError(f"Warning signs: unknown {unknown}; choose from {', '.join(WARNING_SIGNS)}.")


def symptom_request(age, symptoms, duration, severity, warning_signs):
    """The user message the form becomes: the task, then one labelled line per field."""
    check_form(age, symptoms, duration, severity, warning_signs)
    lines = [TASK, "", "Age: " + str(int(float(age))), "Symptoms: " + " ".join(symptoms.split()),
             "For: " + duration, "Severity: " + str(int(float(severity))) + " out of 10"]
    if warning_signs:
        lines.append("Warning signs: " + ", ".join(warning_signs))
    return "\n".join(lines)


def make_checker(model, tokenizer, template, max_new_tokens=256, max_context=None):
    """The function the page's button calls: form fields -> yields the answer shown so far (markdown)."""
    def check(age, symptoms, duration, severity, warning_signs):
        try:
            request = symptom_request(age, symptoms, duration, severity, warning_signs)
        except (TypeError, ValueError) as error:
            yield str(error) + DISCLAIMER_BLOCK
            return
        shown = EMERGENCY_NOTICE + "\n\n" if warning_signs else ""
        yield shown
        chat = Chat(model, tokenizer, template, max_context=max_context, max_new_tokens=max_new_tokens)
        for piece in chat.stream(request):
            shown += piece
            yield shown

    return check


def build_symptom_app(model, tokenizer, choice, max_new_tokens=256, max_context=None):
    """The Gradio Blocks page (not started): header, the form, and the answer under it."""
    import gradio as gr

    from .webapp import header_markdown

    check = make_checker(model, tokenizer, choice.template, max_new_tokens, max_context)
    with gr.Blocks(title="medlearn symptom checker", analytics_enabled=False) as app:
        gr.Markdown(header_markdown(choice).replace("medical assistant", "symptom checker", 1),
                    elem_id="medlearn-header")
        age = gr.Number(label="Age (years)", value=30, minimum=0, maximum=120, elem_id="symptom-age")
        symptoms = gr.Textbox(label="Symptoms", placeholder="e.g. sore throat, fever since yesterday",
                              max_length=MAX_SYMPTOM_CHARS, elem_id="symptom-text")
        duration = gr.Dropdown(list(DURATIONS), value=DURATIONS[1], label="For how long",
                               elem_id="symptom-duration")
        severity = gr.Slider(1, 10, value=4, step=1, label="How bad (1 mild, 10 worst)", elem_id="symptom-severity")
        signs = gr.CheckboxGroup(list(WARNING_SIGNS), label="Any of these?", elem_id="symptom-signs")
        button = gr.Button("Check my symptoms", variant="primary", elem_id="symptom-check")
        answer = gr.Markdown(elem_id="symptom-answer")
        button.click(check, [age, symptoms, duration, severity, signs], answer, concurrency_limit=1)
    return app

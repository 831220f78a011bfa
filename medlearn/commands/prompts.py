"""`medlearn prompts`: how each prompt format writes the course's sample conversation, token by token,
and (--check) whether it equals the vendor's own encoder, case by case."""
from ..templates.specs import TEMPLATES

HELP = ("Show a prompt format: the sample conversation as the model sees it, which tokens are trained, "
        "and (--check) the comparison with the vendor's encoder.")


def configure(parser):
    parser.add_argument(
        "--family", metavar="TEMPLATE", choices=list(TEMPLATES),
        help=f"a prompt template: {', '.join(TEMPLATES)}. Family names are template names; alpaca is "
             "shown on the llama-2 tokenizer, chatml on the gemma one, mistral is v0.3 and mistral-v0.2 "
             "is v0.1/v0.2.")
    parser.add_argument("--tokens", action="store_true", help="list every token and whether it is trained")
    parser.add_argument("--all", action="store_true", help="compare every template, then show each one")
    parser.add_argument("--check", action="store_true",
                        help="tokenize prompts and training rows with the real vocabulary and compare them "
                             "with the vendor's reference encoder, one line per case (exit code 1 on a "
                             "difference)")


def run(args):
    if not args.all and args.family is None:
        raise ValueError(f"Give --family TEMPLATE (one of {', '.join(TEMPLATES)}) or --all.")
    names = list(TEMPLATES) if args.all else [args.family]
    if args.check:
        return 0 if all([check_template(name) for name in names]) else 1
    if args.all:
        print(format_overview())
    for name in names:
        print(format_template(name, tokens=args.tokens))
    return 0


def check_template(name):
    """Print the vendor comparison of one template, one line per case; True when every case agrees."""
    import unsloth  # noqa: F401  (patches transformers; must come before it)

    from ..templates import get_template
    from ..templates.conformance import WITH_REFERENCE, check_format

    spec = get_template(name)
    if name not in WITH_REFERENCE:
        print(f"=== {name}: no vendor encoder to compare with ({spec.reference}); nothing checked ===\n")
        return True
    print(f"=== {name}: medlearn vs {spec.reference} ===")
    results = check_format(name)
    for result in results:
        print(result.line())
    passed = sum(result.passed for result in results)
    print(f"{passed} of {len(results)} cases agree token for token (ids and trained tokens).\n")
    return passed == len(results)



def format_overview():
    """One line per template: its markers, and how many tokens of the sample conversation train."""
    from ..templates import SAMPLE_CONVERSATION, tiny_tokenizer, tokenize_conversation

    header = ("template", "tokenizer", "system", "user turn", "assistant turn", "end of turn",
              "tokens", "trained")
    rows = [header]
    for name, spec in TEMPLATES.items():
        row = tokenize_conversation(tiny_tokenizer(name), SAMPLE_CONVERSATION, name)
        trained = sum(label != -100 for label in row["labels"])
        rows.append((name, spec.family, spec.system_mode, repr(spec.instruction_part),
                     repr(spec.response_part), repr(spec.end_of_turn), str(len(row["input_ids"])),
                     str(trained)))
    return _table(rows)


def format_template(name, tokens=False):
    """The sample conversation rendered for training and as a generation prompt (and the token list)."""
    from ..templates import SAMPLE_CONVERSATION, describe_tokens, get_template, render, tiny_tokenizer

    spec, tokenizer = get_template(name), tiny_tokenizer(name)
    system = SYSTEM_PLACES[spec.system_mode]
    source = "medlearn's vendor-exact template" if spec.chat_template else f"Unsloth's {spec.unsloth_name!r}"
    lines = [f"=== {name} template, on the tiny {spec.family} tokenizer ===", spec.note,
             f"system prompt: {system}; stop tokens: {', '.join(spec.stop_tokens)}",
             f"template: {source}; held to {spec.reference} (medlearn prompts --family {name} --check)",
             "--- training text (the whole conversation) ---",
             render(tokenizer, SAMPLE_CONVERSATION, spec),
             "--- generation prompt (history up to the last question) ---",
             render(tokenizer, SAMPLE_CONVERSATION[:-1], spec, add_generation_prompt=True),
             "--- end ---"]
    if tokens:
        lines.append(_token_table(describe_tokens(tokenizer, SAMPLE_CONVERSATION, spec)))
    return "\n".join(lines) + "\n"


SYSTEM_PLACES = {"native": "its own slot", "merge": "merged into the first user turn",
                 "merge-last": "merged into the last user turn"}


def _token_table(rows):
    # repr() shows a newline token as '\n' so it can be seen; in the text above it is one character.
    table = [("pos", "id", "trained", "token")]
    table += [(str(r["position"]), str(r["id"]), "yes" if r["trained"] else "-", repr(r["text"]))
              for r in rows]
    trained = sum(r["trained"] for r in rows)
    summary = f"{trained} of {len(rows)} tokens trained (the assistant replies and their end-of-turn)."
    return "\n".join([_table(table), summary])


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)

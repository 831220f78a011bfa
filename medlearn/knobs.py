"""Training options given as text (`--set max_steps=100`) or Python values, parsed and checked.

Every knob is parsed to its TrainConfig type and checked against what makes sense, before any model
or data loads: `max_steps=abc`, `load_in_4bit=False` as a string, `learning_rate=0` or a negative
count end in a message that names the option, the value given and what would be valid.
"""
import dataclasses
import math

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1", "on"), ("false", "no", "0", "off")

# (test, what is valid) per knob; a knob not listed only has to have its type.
RULES = {
    "max_seq_length": (lambda v: v >= 16, "a whole number of tokens, at least 16 (2048 on a T4)"),
    "lora_r": (lambda v: v >= 1, "a whole number of at least 1 (8, 16, 32 ...)"),
    "lora_alpha": (lambda v: v >= 1, "a whole number of at least 1 (usually equal to lora_r)"),
    "lora_dropout": (lambda v: 0 <= v < 1, "a fraction from 0 (Unsloth's fast path) up to, not including, 1"),
    "per_device_train_batch_size": (lambda v: v >= 1, "a whole number of rows, at least 1"),
    "gradient_accumulation_steps": (lambda v: v >= 1, "a whole number, at least 1"),
    "learning_rate": (lambda v: 0 < v < 1, "a positive number below 1, e.g. 2e-4 (0 would train nothing)"),
    "warmup_steps": (lambda v: v >= 0, "a whole number of steps, 0 or more"),
    "max_steps": (lambda v: v == -1 or v >= 1,
                  "a whole number of steps, at least 1 (or -1 to train num_train_epochs instead)"),
    "num_train_epochs": (lambda v: v > 0, "a positive number of epochs, e.g. 1 or 0.5"),
    "weight_decay": (lambda v: v >= 0, "a number, 0 or more (0.01 by default)"),
    "seed": (lambda v: v >= 0, "a whole number, 0 or more"),
    "logging_steps": (lambda v: v >= 1, "a whole number of steps, at least 1"),
    "eval_steps": (lambda v: v >= 0, "a whole number of steps, 0 (evaluate 5 times) or more"),
    "save_steps": (lambda v: v >= 1, "a whole number of steps, at least 1"),
    "save_total_limit": (lambda v: v >= 1, "a whole number of checkpoints to keep, at least 1"),
    "target_modules": (lambda v: len(v) >= 1, "one or more module names, comma-separated: q_proj,v_proj"),
    "use_gradient_checkpointing": (lambda v: v in ("unsloth", True, False),
                                   "'unsloth' (recommended), true or false"),
}


def parse_value(name, kind, value):
    """`value` (text or Python) as type `kind` for knob `name`, or a ValueError saying what was expected."""
    if kind is bool:
        return _parse_bool(name, value)
    if kind is int:
        return _parse_int(name, value)
    if kind is float:
        return _parse_float(name, value)
    if kind is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError(f"{name}={value!r}: expected a list of names, e.g. q_proj,v_proj.")
        return tuple(str(item).strip() for item in items if str(item).strip())
    return value if not isinstance(value, bytes) else value.decode()


def _parse_bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{name}={value!r}: expected true or false.")


def _parse_int(name, value):
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r}: expected a whole number, not true/false.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected a whole number, e.g. {name}=100.") from None


def _parse_float(name, value):
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r}: expected a number, not true/false.")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r}: expected a number, e.g. {name}=2e-4.") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}={value!r}: expected a finite number.")
    return number


def field_type(field):
    kind = field.type if isinstance(field.type, type) else {"int": int, "float": float, "bool": bool,
                                                             "str": str, "tuple": tuple}.get(field.type, str)
    return kind


def parse_knobs(config_class, knobs):
    """{name: typed value} for `knobs`, checked; unknown names fail with the list of valid ones."""
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(set(knobs) - set(fields))
    if unknown:
        raise ValueError(f"Unknown training option(s): {', '.join(unknown)}. "
                         f"Valid options: {', '.join(sorted(fields))}.")
    typed = {}
    for name, value in knobs.items():
        if name == "use_gradient_checkpointing":
            typed[name] = _parse_checkpointing(value)
        else:
            typed[name] = parse_value(name, field_type(fields[name]), value)
        test, valid = RULES.get(name, (None, None))
        if test is not None and not test(typed[name]):
            raise ValueError(f"{name}={value!r} makes no sense here: {name} must be {valid}.")
    return typed


def _parse_checkpointing(value):
    if isinstance(value, str) and value.strip().lower() == "unsloth":
        return "unsloth"
    try:
        return _parse_bool("use_gradient_checkpointing", value)
    except ValueError:
        raise ValueError(f"use_gradient_checkpointing={value!r}: expected 'unsloth' (recommended), "
                         "true or false.") from None

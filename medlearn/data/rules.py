"""Quality rules for the known junk of the real sources: each has a name, is counted, can be switched off.

A repair rule rewrites a turn and counts the rows it changed; a drop rule counts and drops rows.
Which rules a source runs is set in its registry entry (`Source.rules`, `Source.task_rules`);
clean(..., off=("short_answer",)) switches any of them off. Rules see text after clean_text.

  scraped_prefix         repair  "Q. ", "Question:", "Patient:" at the start of a user line,
                                 "Doctor:" / "Dr:" at the start of an answer line, a trailing "-->"
  doubled_question_mark  repair  "? ?" and "??" in a question become "?"
  anonymiser_damage      repair  ChatDoctor's anonymiser put "Chat Doctor" in place of names and
                         or drop links. A sentence that is only a greeting/sign-off around it
                                 ("Regards, Chat Doctor.") is removed, and a word it is spliced
                                 into is restored when the original is certain (KNOWN_SPLICES);
                                 any other occurrence is uncertain, so the row is dropped.
  referral_only          drop    every sentence of an answer is a greeting, thanks, sign-off or
                                 "consult a specialist online" line, and one is a referral
  short_answer           drop    an answer under min_answer_chars characters (default 100)
  truncated_answer       drop    an answer that stops mid-sentence: it ends on a comma, colon,
                                 hyphen or a word that cannot end a sentence ("the", "following")
"""
import re
from dataclasses import dataclass

MIN_ANSWER_CHARS = 100


@dataclass(frozen=True)
class Rule:
    name: str
    action: str   # "repair", "drop", or "repair or drop"
    summary: str


RULES = {rule.name: rule for rule in [
    Rule("scraped_prefix", "repair", "scraped 'Q. ', 'Patient:', 'Doctor:' prefixes and a trailing '-->' removed"),
    Rule("doubled_question_mark", "repair", "'? ?' or '??' in a question becomes '?'"),
    Rule("anonymiser_damage", "repair or drop",
         "'Chat Doctor' placeholders: greeting/sign-off sentences removed, known spliced words restored, "
         "other rows dropped"),
    Rule("referral_only", "drop", "the answer is only greetings, thanks, sign-offs and a referral"),
    Rule("short_answer", "drop", "an answer shorter than min_answer_chars characters"),
    Rule("truncated_answer", "drop", "an answer that ends mid-sentence"),
]}
REPAIRS = ("scraped_prefix", "doubled_question_mark", "anonymiser_damage")
DROPS = ("anonymiser_damage", "referral_only", "short_answer", "truncated_answer")

_USER_PREFIX = re.compile(r"^(?:Q\s*[.:]|Question\s*:|Patient\s*:)[ \t]*", re.IGNORECASE | re.MULTILINE)
_ANSWER_PREFIX = re.compile(r"^(?:Doctor\s*:|Dr\s*:|Answer\s*:)[ \t]*", re.IGNORECASE | re.MULTILINE)
_TRAILING_ARROW = re.compile(r"[ \t]*-->[ \t]*$", re.MULTILINE)
_DOUBLED_QUESTION = re.compile(r"\?(?:\s*\?)+")

_PLACEHOLDER = re.compile(r"chat\s?doctor", re.IGNORECASE)
# Words seen around the placeholder where it replaced the site's or the doctor's name.
_AROUND_NAME = (r"hi|hello|dear|regards|warm regards|best regards|kind regards|thanks|thank you|welcome to|"
                r"thanks for using|thanks for choosing|thanks for contacting|thank you for using|"
                r"i am|i'm|this is|dr\.?|from|by|your|team|the|and")
_PLACEHOLDER_SENTENCE = re.compile(rf"(?:(?:{_AROUND_NAME})[\s,.!:;-]*)*chat\s?doctor"
                                   r"(?:\s*(?:forum|team|website|site))?[\s,.!:;-]*",
                                   re.IGNORECASE)
# Spliced words whose original is certain; anything else spliced is dropped.
KNOWN_SPLICES = {"homeopatChatDoctoredicines": "homeopathic medicines"}
_SENTENCE_BREAK = re.compile(r"(?<![Dd]r\.)(?<=[.!?])[ \t]+")

_BOILERPLATE = [re.compile(pattern, re.IGNORECASE) for pattern in [
    r"(hi|hello|hey|dear|greetings|good (morning|afternoon|evening))\b[\w\s,'-]{0,30}",
    r"(thanks?|thank you|welcome)\b.*\b(query|question|posting|using|writing|contacting|trust|asking|forum|"
    r"consultation)\b.*",
    r"i (have )?(gone through|read|understand|went through)\b.*\b(query|question|concern|history|details)\b.*",
    r"(take care|regards|best wishes|best regards|good luck|all the best|get well soon|wish you|hope (this|that|"
    r"i)\b|thanks?\b|thank you\b).{0,60}",
    r"dr\.?\s+\w+( \w+)?",
]]
_REFERRAL = re.compile(
    r"\b(consult|see|visit|contact|revert|ask|get in touch|follow up|talk to|meet|refer)\b.*"
    r"\b(doctor|specialist|physician|surgeon|\w+ologist|\w+iatrist|dentist|online|me|us|clinic|"
    r"hospital|gp|reports?)\b|\bfor (further|more) (doubts|queries|questions|information|details)\b",
    re.IGNORECASE)
# Words a finished English sentence does not end on.
_DANGLING_WORDS = frozenset("""
a an the and or but nor to of with for from in on at by as than that which who whose if because
such like about following is are was were be been being your my his her their our its this these
those some any very also can could will would should may might must not please into onto
""".split())
_DANGLING_CHARS = tuple(",:;-(/&")


def repair_turns(turns, rules):
    """Apply the repair rules in `rules` to a row's turns; returns (turns, names of rules that changed it)."""
    changed = []
    for name, repair in (("scraped_prefix", _strip_scraped), ("doubled_question_mark", _undouble),
                         ("anonymiser_damage", _repair_placeholders)):
        if name in rules:
            repaired = [dict(turn, content=repair(turn)) for turn in turns]
            if repaired != turns:
                changed.append(name)
                turns = repaired
    return turns, changed


def drop_reason(turns, rules, min_answer_chars=MIN_ANSWER_CHARS):
    """The first drop rule in `rules` that the row breaks, or ""."""
    answers = [turn["content"] for turn in turns if turn["role"] == "assistant"]
    if "anonymiser_damage" in rules and any(_PLACEHOLDER.search(t["content"]) for t in turns):
        return "anonymiser_damage"
    if "referral_only" in rules and any(is_referral_only(answer) for answer in answers):
        return "referral_only"
    if "short_answer" in rules and any(len(answer) < min_answer_chars for answer in answers):
        return "short_answer"
    if "truncated_answer" in rules and any(is_truncated(answer) for answer in answers):
        return "truncated_answer"
    return ""


def is_referral_only(answer):
    """True when every sentence is boilerplate and at least one sends the patient elsewhere."""
    sentences = [s.strip(" .!?") for s in _sentences(answer)]
    sentences = [s for s in sentences if s]
    if not sentences or not any(_REFERRAL.search(s) for s in sentences):
        return False
    return all(_REFERRAL.search(s) and len(s.split()) <= 20 or
               any(p.fullmatch(s) for p in _BOILERPLATE) for s in sentences)


def is_truncated(answer):
    """True when the answer stops mid-sentence (a dangling comma/colon or a word like 'the')."""
    text = answer.rstrip()
    if not text or text.endswith(("```", "~~~")):
        return False
    if text.endswith(_DANGLING_CHARS):
        return True
    words = re.findall(r"[A-Za-z']+|\S", text[-40:])
    return bool(words) and words[-1].lower() in _DANGLING_WORDS


def _sentences(text):
    return [s for line in text.split("\n") for s in _SENTENCE_BREAK.split(line)]


def _strip_scraped(turn):
    text = _TRAILING_ARROW.sub("", turn["content"])
    prefix = _USER_PREFIX if turn["role"] == "user" else _ANSWER_PREFIX if turn["role"] == "assistant" else None
    return (prefix.sub("", text) if prefix else text).strip()


def _undouble(turn):
    return _DOUBLED_QUESTION.sub("?", turn["content"]) if turn["role"] == "user" else turn["content"]


def _repair_placeholders(turn):
    text = turn["content"]
    if not _PLACEHOLDER.search(text):
        return text
    for spliced, original in KNOWN_SPLICES.items():
        text = text.replace(spliced, original)
    lines = []
    for line in text.split("\n"):
        kept = [s for s in _SENTENCE_BREAK.split(line) if not _PLACEHOLDER_SENTENCE.fullmatch(s)]
        if kept or not line.strip():
            lines.append(" ".join(kept))
    return "\n".join(lines).strip()

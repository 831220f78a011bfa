"""clean_text removes only real markup: code keeps its indentation, comparisons and generics survive,
lists and tables keep their lines, and cleaning twice changes nothing (examples + property tests)."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medlearn.data import clean_text

PYTHON_ANSWER = (
    "Here is a function that counts vowels:\n\n"
    "```python\n"
    "def count_vowels(text):\n"
    "    total = 0\n"
    "    for letter in text.lower():\n"
    "        if letter in 'aeiou':  # two spaces before the comment\n"
    "            total += 1\n"
    "    return total\n"
    "```\n\n"
    "It loops once over the text.")


def test_fenced_python_keeps_its_indentation_and_stays_valid():
    cleaned = clean_text(PYTHON_ANSWER)
    assert cleaned == PYTHON_ANSWER
    code = cleaned.split("```python\n")[1].split("```")[0]
    compile(code, "<answer>", "exec")  # raises SyntaxError if indentation was lost


def test_indented_code_block_is_kept_byte_for_byte():
    text = "Run this:\n\n    for i in range(3):\n        print(i,   i * i)\n\nThen check the output."
    assert clean_text(text) == text


@pytest.mark.parametrize("text", [
    "#include <stdio.h>\nint main(void) { return 0; }",
    "Use a List<String> to keep the names.",
    "for (i = 0; i<n; i++) if (a[i]>0) count++;",
    "Stones <5 mm usually pass on their own.",
    "Shock is likely with BP <90/60 and a pulse >120.",
    "If x < y and y > z, then nothing is known about x and z.",
    "A score of <3 or >8 is abnormal; 3<=x<=8 is normal.",
    "Use a&b for the bitwise and; R&D spending rose.",
])
def test_comparisons_generics_and_includes_survive(text):
    assert clean_text(text) == text


@pytest.mark.parametrize("raw,expected", [
    ("<p>Asthma narrows the airways.</p><p>It causes wheezing&nbsp;and cough.</p>",
     "Asthma narrows the airways.\n\nIt causes wheezing and cough."),
    ("<b>Hello.</b> Brush twice a day.", "Hello. Brush twice a day."),
    ("Low iron.<br/>Tiredness.<br>Pallor.", "Low iron.\nTiredness.\nPallor."),
    ('See <a href="https://example.org/x">this page</a> &amp; rest.', "See this page & rest."),
    ("Fast heart rate. <ref>Cardiology notes</ref> It can be normal.", "Fast heart rate. Cardiology notes It can be normal."),
    ("Before <!-- a hidden note --> after.", "Before after."),
])
def test_real_tags_and_entities_are_removed(raw, expected):
    assert clean_text(raw) == expected


def test_lists_and_tables_keep_their_lines_and_indentation():
    text = ("Take these steps:\n"
            "- rest\n"
            "- drink fluids\n"
            "  - water or broth\n"
            "1. first\n"
            "2. second\n\n"
            "| drug | dose |\n"
            "|------|------|\n"
            "| paracetamol | 1 g |")
    assert clean_text(text) == text


def test_whitespace_outside_code_is_normalised():
    raw = "  Most people recover.  \r\n\r\n\r\n\r\nSome   have\tjoint pain.\u00a0 "
    assert clean_text(raw) == "Most people recover.\n\nSome have joint pain."


def test_non_text_stays_none():
    assert clean_text(None) is None and clean_text(3) is None


# --- properties -------------------------------------------------------------------------------
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.,;:!?()[]{}+-*/=<>&'\"#%_|`~",
               min_size=1, max_size=8)
LINE = st.builds(lambda indent, words: indent + " ".join(words),
                 st.sampled_from(["", "", "", "  ", "    ", "\t"]), st.lists(WORD, min_size=1, max_size=8))
# Real tags (known HTML elements) and entities, the only things cleaning may remove.
MARKUP = re.compile(r"</?(p|br|b|i|a|li|ul|ol|div|span|ref|em|strong|sup|sub|table|tr|td|th|h\d|pre|code|"
                    r"font|u|s|img|hr|small|big|center|tt|del|ins|abbr|cite|q|dl|dt|dd|blockquote)"
                    r"\b[^<>]*>|<!--|&#?\w+;?", re.IGNORECASE)


def normal_text(lines):
    """Lines joined as normalised text (no edge blank lines, at most one blank line in a row)."""
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


TEXTS = st.lists(st.one_of(LINE, st.just("")), min_size=1, max_size=8).map(normal_text)
CODE = st.lists(st.text(alphabet="abcxyz =+()<>&;{}\t#'\"", max_size=30), min_size=1, max_size=6)


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(st.text(max_size=200))
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_cleaning_is_idempotent_on_markup_heavy_text(text):
    text = text.replace("x", "<b>").replace("y", "&amp;").replace("z", "\n    ")
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_text_without_markup_is_never_changed(text):
    stripped = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    if MARKUP.search(stripped) or not stripped or stripped[0].isspace():
        return  # markup, blank or indented-first-line texts are covered by the other properties
    assert clean_text(stripped) == stripped


@settings(max_examples=300, deadline=None)
@given(TEXTS, CODE, st.sampled_from(["```", "~~~", "```python"]))
def test_fenced_code_blocks_are_byte_identical(before, code_lines, fence):
    code = "\n".join(code_lines)
    block = f"{fence}\n{code}\n{fence[:3]}"
    cleaned = clean_text(f"Intro <b>text</b>.\n{block}\n{before}")
    assert block in cleaned


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["<", ">", "<=", ">="]), st.integers(0, 500), st.sampled_from(["mm", "mmHg", "", "/60"]))
def test_comparisons_are_kept(sign, number, unit):
    text = f"Values {sign}{number}{unit} and BP {sign} {number}{unit} matter."
    assert clean_text(text) == text

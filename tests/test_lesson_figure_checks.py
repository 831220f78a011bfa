"""The lesson-figure check itself: tolerant of another CPU's rounding, never of a wrong figure.

notebooks/test_lesson_figures.py compares each lesson with the run the notebooks just wrote; here its
matching rules are tried on made-up lines, so a check that lets a wrong figure through fails at once.
"""
import importlib.util

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("lesson_figures", REPO / "notebooks" / "test_lesson_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SPREAD = {"llama: eval loss": 0.0324, "accuracy": 0.0}
    return module


def loss_line(figures, before, after):
    return ("**", figures.Near(before, "llama: eval loss"), " to ", figures.Near(after, "llama: eval loss"), "**")


def test_a_figure_rounded_to_the_digits_machines_agree_on_passes(figures):
    line = loss_line(figures, 7.2092, 6.2859)
    assert figures.line_problem(line, "Evaluation loss went from **7.2 to 6.3**; then") == ""
    # another CPU wrote 6.3099: the same lesson still holds
    assert figures.line_problem(loss_line(figures, 7.2046, 6.3099), "went from **7.2 to 6.3**;") == ""


def test_a_loss_off_by_five_percent_fails(figures):
    problem = figures.line_problem(loss_line(figures, 7.2092, 6.2859), "went from **7.2 to 6.6**;")
    assert "6.6 is not what the run wrote: 6.2859" in problem


def test_more_digits_than_machines_agree_on_fail(figures):
    problem = figures.line_problem(loss_line(figures, 7.2092, 6.2859), "went from **7.209 to 6.286**;")
    assert "7.209 quotes more digits than machines agree on" in problem


def test_a_count_off_by_one_fails(figures):
    assert figures.line_problem("67 training rows, 8 eval rows", "I had 67 training rows, 8 eval rows.") == ""
    assert "no text of this shape" in figures.line_problem("67 training rows, 8 eval rows",
                                                           "I had 66 training rows, 8 eval rows.")


def test_a_figure_with_no_spread_seen_is_exact(figures):
    line = ("| MedQA | ", figures.Near(0.25, "accuracy"), " |")
    assert figures.line_problem(line, "| MedQA | 0.250 |") == ""
    assert "not what the run wrote" in figures.line_problem(line, "| MedQA | 0.292 |")


def test_the_agreed_digit_follows_the_spread(figures):
    assert figures.agreed_unit(0.0324) == pytest.approx(0.015)  # one decimal: 0.1 >= 0.015 > 0.01
    assert figures.agreed_unit(0.2059) == pytest.approx(0.1)  # one decimal still
    assert figures.agreed_unit(0.0097) == pytest.approx(0.005)  # two decimals
    assert figures.agreed_unit(0) == 0


def test_a_spread_measured_on_fewer_settings_can_widen_but_never_narrow_the_earlier_one():
    spec = importlib.util.spec_from_file_location("cpu_spread", REPO / "tools" / "cpu_spread.py")
    cpu_spread = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cpu_spread)
    earlier = {"spread": {"loss": 0.2, "kept": 0.1},
               "values": {"own-2t": {"loss": [1.0], "kept": [3.0]}, "own-1t": {"loss": [1.2], "kept": [3.1]}}}
    spread, values = cpu_spread.merged(earlier, {"loss": 0.05, "new": 0.3}, {"own-2t": {"loss": [1.01], "new": [7.0]}})
    assert spread == {"loss": 0.2, "kept": 0.1, "new": 0.3}
    assert values == {"own-2t": {"loss": [1.01], "kept": [3.0], "new": [7.0]}, "own-1t": {"loss": [1.2], "kept": [3.1]}}

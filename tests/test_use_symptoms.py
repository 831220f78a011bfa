"""The symptom-checker page: the form's checks, the request it builds, and the page in a real Chromium."""
import pytest
from conftest import train_tiny_adapter
from test_use_webapp import launch_chromium, serving

from medlearn import symptoms
from medlearn.inference import DISCLAIMER, DISCLAIMER_BLOCK

GOOD = dict(age=34, symptoms="sore throat  and fever", duration="1 to 3 days", severity=5, warning_signs=[])


@pytest.mark.parametrize("field, value, named", [
    ("age", 130, "Age"), ("age", None, "Age"), ("symptoms", "  ", "Symptoms"),
    ("symptoms", "x" * 1001, "Symptoms: at most 1,000"), ("duration", "a year", "How long"),
    ("severity", 0, "How bad"), ("warning_signs", ["hiccups"], "Warning signs: unknown"),
])
def test_a_bad_field_is_named_with_what_would_be_valid(field, value, named):
    with pytest.raises(ValueError, match=named):
        symptoms.check_form(**dict(GOOD, **{field: value}))


def test_the_form_becomes_one_labelled_message():
    text = symptoms.symptom_request(**dict(GOOD, warning_signs=["trouble breathing"]))
    assert text.splitlines() == [symptoms.TASK, "", "Age: 34", "Symptoms: sore throat and fever",
                                 "For: 1 to 3 days", "Severity: 5 out of 10", "Warning signs: trouble breathing"]


class NoModel:
    """Stands where the model is: a bad form must be answered without calling it."""

    def generate(self, **kwargs):
        raise AssertionError("the model was called for a bad form")


def test_a_bad_form_is_answered_without_the_model():
    check = symptoms.make_checker(NoModel(), None, "llama-3")
    answers = list(check(**dict(GOOD, severity=11)))
    assert answers == ["How bad: a number from 1 (mild) to 10 (worst) (got 11)." + DISCLAIMER_BLOCK]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("symptom_run")
    run = train_tiny_adapter(root, "symptoms", max_steps=2, model="tiny-openchat")
    with serving(run.adapter_dir, root, "--page", "symptoms") as url:
        yield url


def test_the_page_puts_the_emergency_notice_first_and_the_disclaimer_last(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(server, wait_until="domcontentloaded", timeout=60_000)
            page.locator("#medlearn-header").wait_for(timeout=60_000)
            assert "symptom checker" in page.locator("#medlearn-header").inner_text()
            page.locator("#symptom-text textarea").fill("cough and a tight chest")
            page.get_by_label("trouble breathing").check()
            page.locator("#symptom-check").click()
            page.wait_for_function("d => document.querySelector('#symptom-answer').innerText.includes(d)",
                                   arg=DISCLAIMER[:40], timeout=60_000)
            answer = page.locator("#symptom-answer").inner_text()
            print("page answer:", repr(answer))
            assert answer.startswith("A warning sign you ticked can mean an emergency")
            assert answer.rstrip().endswith(DISCLAIMER[-40:])
        finally:
            browser.close()

"""The web chat page: served on 127.0.0.1 with a tiny adapter, and with a real model's fine-tune, and used in
a real (headless) Chromium."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import train_tiny_adapter

from medlearn.inference import DISCLAIMER, DISCLAIMER_BLOCK, EMPTY_REPLY
from medlearn import webapp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_tiny_adapter(tmp_path_factory.mktemp("web_run"), "web", max_steps=4)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_page(url, server, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("medlearn serve exited: " + server.stdout.read()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextmanager
def serving(adapter_dir, cwd, *options, max_new_tokens=8):
    """`medlearn serve` on a free port of 127.0.0.1 for the adapter; yields the page's URL, then stops it."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen([sys.executable, "-m", "medlearn", "serve", "--model", str(adapter_dir),
                                "--port", str(port), "--max-new-tokens", str(max_new_tokens), "--max-length", "512", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def server(run, tmp_path):
    with serving(run.adapter_dir, tmp_path) as url:
        yield url


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed at /usr/bin/chromium: run tools/install_browser.sh "
                    "(apt-get install chromium), then run the tests again.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def ask_on_the_page(url, adapter_dir, question, screenshot=None):
    """Open the page in Chromium, ask `question`, wait for the disclaimer; returns the answer's text."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            header = page.locator("#medlearn-header")
            header.wait_for(timeout=60_000)
            assert DISCLAIMER[:40] in header.inner_text() and str(adapter_dir) in header.inner_text()
            page.locator("#medlearn-input textarea").fill(question)
            page.locator("#medlearn-input textarea").press("Enter")
            bot = page.locator("#medlearn-chat .bot").last
            page.wait_for_function("d => document.querySelector('#medlearn-chat').innerText.includes(d)",
                                   arg=DISCLAIMER[:40], timeout=120_000)
            assert question in page.locator("#medlearn-chat").inner_text()
            assert page.locator("#medlearn-guard input[type=checkbox]").count() == 1
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
            return bot.inner_text()
        finally:
            browser.close()


def test_page_answers_a_question_with_the_disclaimer(server, run):
    answer = ask_on_the_page(server, run.adapter_dir, "What are the symptoms of asthma?")
    print("page answer:", repr(answer))
    assert DISCLAIMER[:40] in answer and len(answer.split(DISCLAIMER[:40])[0].strip("-\n ")) > 0


def test_a_real_fine_tune_answers_on_the_page(smollm2_run, tmp_path):
    """SmolLM2's fine-tune served by `medlearn serve`: a real answer, then the disclaimer. The screenshot
    goes to artifacts/webapp_smollm2.png (docs/webapp_smollm2.png is a copy of one)."""
    shot = Path("artifacts") / "webapp_smollm2.png"
    shot.parent.mkdir(exist_ok=True)
    with serving(smollm2_run.adapter_dir, tmp_path, max_new_tokens=48) as url:
        answer = ask_on_the_page(url, smollm2_run.adapter_dir, "What are the symptoms of asthma?", shot)
    print("page answer:", repr(answer))
    reply = answer.split(DISCLAIMER[:40])[0].lower()
    assert any(word in reply for word in ("wheez", "cough", "breath", "chest")), answer
    assert DISCLAIMER[:40] in answer and shot.stat().st_size > 10_000


class BrokenModel:
    device = "cpu"

    def generate(self, **kwargs):
        raise RuntimeError("out of memory")


def test_bad_input_gets_a_polite_reply_never_an_error():
    from medlearn.templates import tiny_tokenizer

    tokenizer = tiny_tokenizer("llama-3")
    respond = webapp.make_responder(BrokenModel(), tokenizer, "llama-3", max_new_tokens=8, max_context=256)
    assert list(respond("", []))[-1] == EMPTY_REPLY + DISCLAIMER_BLOCK
    assert list(respond({"text": "  "}, []))[-1] == EMPTY_REPLY + DISCLAIMER_BLOCK
    too_long = list(respond("cough " * 500, []))[-1]
    assert "too long" in too_long and too_long.endswith(DISCLAIMER_BLOCK)
    failed = list(respond("What is asthma?", [{"role": "assistant", "content": None}, {"oops": 1}]))[-1]
    assert webapp.ERROR_REPLY in failed and failed.endswith(DISCLAIMER_BLOCK)


def test_history_from_the_page_becomes_clean_alternating_turns():
    history = [{"role": "user", "content": "What is asthma?"},
               {"role": "assistant", "content": "A lung condition." + DISCLAIMER_BLOCK},
               {"role": "user", "content": [{"type": "text", "text": "Is it serious?"}]},
               {"role": "user", "content": ""},
               {"role": "assistant", "content": [{"type": "text", "text": "It can be." + DISCLAIMER_BLOCK}]},
               {"role": "assistant", "content": "dangling"}]
    assert webapp.history_to_messages(history) == [
        {"role": "user", "content": "What is asthma?"}, {"role": "assistant", "content": "A lung condition."},
        {"role": "user", "content": "Is it serious?"}, {"role": "assistant", "content": "It can be."}]


def test_launch_listens_on_localhost_and_shares_only_when_asked(monkeypatch):
    assert webapp.launch_options(7000) == {"server_name": "127.0.0.1", "server_port": 7000, "share": False}
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert webapp.launch_options(7000)["share"] is False  # Colab shows the page through its own proxy
    assert webapp.launch_options(7000, share=True)["share"] is True

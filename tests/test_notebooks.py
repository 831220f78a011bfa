"""Every notebook opens in Colab from its own badge, installs the stack, has its lesson, and is committed clean.

Executing the notebooks is nbval's job (`pytest --nbval-lax notebooks`); this file checks what a learner
relies on before running anything. It walks the notebooks/ folder, so notebooks added later are covered.
"""
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COLAB = "https://colab.research.google.com/github/medlearn-course/medlearn/blob/main/notebooks/"
CHECK = "# NBVAL_CHECK_OUTPUT"
# The install cell of the notebook conventions, character for character.
INSTALL_CELL = '''# Install the course stack on Colab; does nothing where it is already installed (CI, a laptop after `make env`).
import importlib.util, subprocess, sys
if importlib.util.find_spec("medlearn") is None:
    subprocess.run(["git", "clone", "--depth", "1", "https://github.com/medlearn-course/medlearn", "/content/medlearn"], check=True)
    subprocess.run([sys.executable, "/content/medlearn/tools/install.py", "--for", "colab"], check=True)
    sys.path.insert(0, "/content/medlearn")
    %cd /content/medlearn'''
# A Hugging Face access token: "hf_" and about 34 letters and digits.
TOKEN = re.compile(r"hf_[A-Za-z0-9]{20,}")


def badge_and_lesson_problems(nb, name, lessons_dir):
    """The first markdown cell must carry the badge to this very file and link the lesson, which links back."""
    stem = Path(name).stem
    first_md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    problems = []
    if f"({COLAB}{name})" not in first_md:
        problems.append(f"first markdown cell lacks the Colab badge link {COLAB}{name}")
    if f"../lessons/{stem}.md" not in first_md:
        problems.append(f"first markdown cell does not link its lesson ../lessons/{stem}.md")
    lesson = Path(lessons_dir) / f"{stem}.md"
    if not lesson.exists():
        return problems + [f"lesson {lesson.name} is missing in lessons/"]
    text = lesson.read_text(encoding="utf-8")
    if f"../notebooks/{name}" not in text:
        problems.append(f"lesson {lesson.name} does not link back to ../notebooks/{name}")
    if f"{COLAB}{name}" not in text:
        problems.append(f"lesson {lesson.name} lacks the Colab link {COLAB}{name}")
    return problems


def install_cell_problems(nb):
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source.strip() != INSTALL_CELL:
        return ["the first code cell is not the install cell of the notebook conventions"]
    return []


def committed_state_problems(nb):
    """Outputs only on # NBVAL_CHECK_OUTPUT cells, and there always; execution counts only there too.

    nbval treats a cell without an execution count as never run and refuses stored outputs on it, so a
    checked cell keeps one; every other cell is committed stripped (no outputs, no count).
    """
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        checked = cell.source.startswith(CHECK)
        if cell.outputs and not checked:
            problems.append(f"cell {index} has stored outputs but is not marked {CHECK}")
        if checked and not cell.outputs:
            problems.append(f"cell {index} is marked {CHECK} but has no stored output to check")
        if checked and cell.execution_count is None:
            problems.append(f"cell {index} is marked {CHECK} but has no execution count: nbval would "
                            "call it unrun and fail")
        if not checked and cell.execution_count is not None:
            problems.append(f"cell {index} has an execution count (commit notebooks stripped)")
    return problems


def machine_path_problems(nb):
    """Stored outputs must read the same on every machine: no absolute paths of this one."""
    problems = []
    for index, cell in enumerate(nb.cells):
        text = "".join(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
                       for output in cell.get("outputs", []))
        for prefix in (str(REPO), "/tmp/", "/root/", "/home/"):
            if prefix in text:
                problems.append(f"cell {index} stored output contains the machine path {prefix!r}")
    return problems


def secret_problems(raw_text):
    return [f"a Hugging Face token-like string {match[:6]}... is in the notebook"
            for match in TOKEN.findall(raw_text)]


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook_path(request):
    return request.param


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, f"expected the numbered notebooks in {REPO / 'notebooks'}"


def test_notebook_is_valid_and_ready_for_learners(notebook_path):
    raw = notebook_path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    problems = (badge_and_lesson_problems(nb, notebook_path.name, REPO / "lessons")
                + install_cell_problems(nb) + committed_state_problems(nb)
                + machine_path_problems(nb) + secret_problems(raw))
    assert not problems, f"{notebook_path.name}:\n  " + "\n  ".join(problems)


def test_the_checks_catch_a_broken_notebook(tmp_path):
    """A notebook with every mistake: each check must report it (so the checks above can fail)."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# x\n[badge]({COLAB}02_other.ipynb)"),
        nbformat.v4.new_code_cell("print('no install cell')", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="hi\n")]),
        nbformat.v4.new_code_cell(CHECK + "\nprint(1)"),
        nbformat.v4.new_code_cell(CHECK, execution_count=1, outputs=[
            nbformat.v4.new_output("stream", text=f"read {REPO}/data/x.jsonl\n")]),
    ])
    (tmp_path / "99_broken.md").write_text("no link back")
    problems = badge_and_lesson_problems(nb, "99_broken.ipynb", tmp_path)
    assert any("Colab badge" in p for p in problems) and any("link its lesson" in p for p in problems)
    assert any("link back" in p for p in problems)
    assert install_cell_problems(nb)
    committed = committed_state_problems(nb)
    assert any("not marked" in p for p in committed) and any("execution count" in p for p in committed)
    assert any("no stored output" in p for p in committed) and any("unrun" in p for p in committed)
    assert any("machine path" in p for p in machine_path_problems(nb))
    assert secret_problems('"token": "hf_' + "aB3" * 12 + '"')
    assert not secret_problems("hf_hub_download and HF_HUB_OFFLINE are fine")

"""Every notebook opens in Colab from its own badge, installs the stack, has its lesson, and is committed clean.

Executing the notebooks is nbval's job (`pytest --nbval-lax notebooks`); this file checks what a learner
relies on before running anything. It walks the notebooks/ folder, so notebooks added later are covered.
"""
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import set_repository  # noqa: E402

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLUG, BRANCH = set_repository.read_setting()  # the course's home, from pyproject.toml
COLAB = f"https://colab.research.google.com/github/{SLUG}/blob/{BRANCH}/notebooks/"
CHECK = "# NBVAL_CHECK_OUTPUT"
SETTINGS = "# Settings: edit these, then run the notebook from here."
# The install cell of the notebook conventions, character for character.
INSTALL_CELL = '''# Install the course stack on Colab; does nothing where it is already installed (CI, a laptop after `make env`).
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("medlearn") is None:
    if not os.path.isdir("/content/medlearn"):
        subprocess.run(["git", "clone", "--depth", "1", "https://github.com/SLUG", "/content/medlearn"], check=True)
    subprocess.run([sys.executable, "/content/medlearn/tools/install.py", "--for", "colab"], check=True)
    sys.path.insert(0, "/content/medlearn")
    %cd /content/medlearn'''.replace("SLUG", SLUG)
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
        if "execution" in cell.metadata:
            problems.append(f"cell {index} keeps the timestamps of a run in metadata.execution (strip them)")
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


def test_every_badge_and_clone_line_follows_the_repository_setting():
    assert set_repository.disagreements() == []


def test_set_repository_moves_every_link_to_a_new_home(tmp_path):
    """Publishing under another account: one command, and no link to the old home is left."""
    import shutil

    for folder in ("notebooks", "lessons"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    set_repository.set_url("https://github.com/someone-else/med-course", tmp_path)  # the setting alone
    stale = set_repository.disagreements(tmp_path)
    assert any("git clone" in p for p in stale) and any("Colab badge" in p for p in stale)
    assert set_repository.main(["--check", "--root", str(tmp_path)]) == 1
    assert set_repository.main(["--root", str(tmp_path)]) == 0
    assert set_repository.read_setting(tmp_path) == ("someone-else/med-course", BRANCH)
    assert set_repository.disagreements(tmp_path) == []
    texts = [p.read_text() for p in set_repository.course_files(tmp_path)]
    assert not any(f"github/{SLUG}/" in text or f"github.com/{SLUG}" in text for text in texts)
    nb = nbformat.read(tmp_path / "notebooks" / NOTEBOOKS[0].name, as_version=4)
    assert "https://github.com/someone-else/med-course" in nb.cells[1].source
    with pytest.raises(SystemExit, match="OWNER/NAME"):
        set_repository.main(["https://gitlab.com/x", "--root", str(tmp_path)])


def settings_cell(nb):
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(SETTINGS)]
    assert len(cells) <= 1, "one settings cell per notebook"
    return cells[0].source if cells else None


@pytest.fixture
def colab_t4(tmp_path, monkeypatch):
    """A simulated Colab T4 whose Google Drive mounts into tmp_path."""
    import unsloth  # noqa: F401  (imported on the real CPU, before the profile)

    import medlearn.notebook as notebook
    from medlearn.profiles import simulate

    def mount(mountpoint):
        (Path(mountpoint) / "MyDrive").mkdir(parents=True, exist_ok=True)

    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=mount)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(notebook, "DRIVE_MOUNT", tmp_path / "drive")
    monkeypatch.delenv("MEDLEARN_GPU_BUDGET_GB", raising=False)  # plan for the T4 itself, 14.7 GiB
    with simulate("t4"):
        yield tmp_path / "drive" / "MyDrive" / "medlearn"


def course_models(settings):
    names = [settings[key] for key in ("MODEL", "BASE_MODEL", "CHAT_MODEL") if key in settings]
    return names + list(settings.get("MODELS", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_settings_cells_take_the_t4_branch_on_colab(path, colab_t4):
    """Run each notebook's settings cell as a Colab T4 would: the real model, the T4 knobs, Drive."""
    from medlearn.demo import TINY_KNOBS
    from medlearn.memory import plan_memory
    from medlearn.models import choose_model
    from medlearn.train import build_config

    source = settings_cell(nbformat.read(path, as_version=4))
    if source is None:
        assert path.name[:2] in ("01", "03"), f"{path.name} has no '{SETTINGS}' cell"
        return
    settings = {}
    exec(compile(source, path.name, "exec"), settings)
    for name in course_models(settings):
        assert not choose_model(name, settings.get("USE_TINY", "auto")).tiny, f"{path.name}: {name}"
    if "ARTIFACTS" in settings:
        assert Path(settings["ARTIFACTS"]) == colab_t4 / "artifacts" and Path(settings["OUTPUTS"]).is_dir()
    assert settings.get("SAMPLE", False) is False and settings.get("USE_SAMPLES") in (None, "auto", False)
    for steps in ("MAX_STEPS", "MISSING_STEPS"):
        assert settings.get(steps, 60) == 60, f"{path.name}: {steps}"
    assert settings.get("TRAIN_MISSING", False) is False  # say what it costs; never retrain hours silently
    assert settings.get("LOAD_IN_4BIT", True) is True
    knobs = settings.get("KNOBS", settings.get("TRAINING", {}))
    t4 = build_config()
    tiny_values = {key for key in set(knobs) & (set(TINY_KNOBS) - {"max_steps"})
                   if knobs[key] == TINY_KNOBS[key] != getattr(t4, key)}
    assert not tiny_values, f"{path.name}: tiny knobs on a T4: {sorted(tiny_values)}"
    for name in course_models(settings):  # each run the notebook would start fits the T4 it runs on
        plan = plan_memory(name, knobs)
        assert plan.fits and plan.gpu_gb < 15, f"{path.name}:\n{plan.describe()}"


def test_on_this_cpu_the_folders_stay_in_the_repository(capsys):
    from medlearn.notebook import course_folders

    assert course_folders("auto") == (REPO / "artifacts", REPO / "outputs")
    assert "this runtime's disk" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="only be mounted in Colab"):
        course_folders(True)
    with pytest.raises(ValueError, match="KEEP_ON_DRIVE"):
        course_folders("yes")


# Ways a notebook cell can build a tensor by hand; on Colab such a tensor is on the CPU unless moved.
HAND_MADE_TENSOR = re.compile(r'return_tensors\s*=\s*"pt"|torch\.(tensor|ones|zeros|arange)\(')


def device_problems(nb):
    """Every tensor a notebook builds by hand follows the model: `.to(model.device)` or `device=`."""
    problems = []
    for index, cell in enumerate(nb.cells):
        for line in cell.source.splitlines() if cell.cell_type == "code" else []:
            if HAND_MADE_TENSOR.search(line) and ".to(" not in line and "device=" not in line:
                problems.append(f"cell {index} builds a tensor on the CPU: {line.strip()}")
    return problems


def test_notebooks_move_hand_made_inputs_to_the_models_device(notebook_path):
    assert device_problems(nbformat.read(notebook_path, as_version=4)) == []


def test_the_device_check_catches_a_cpu_tensor():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'ids = tokenizer("hi", return_tensors="pt").input_ids\nmodel(input_ids=ids)')])
    assert device_problems(nb)


def shared_blocks(notebooks, size=6):
    """{block of `size` non-empty lines inside one cell: names of the notebooks holding it}, for blocks in
    two or more notebooks. The install cell is the one block every notebook must share (INSTALL_CELL)."""
    holders = {}
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.source.strip() == INSTALL_CELL.strip():
                continue
            lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
            for start in range(len(lines) - size + 1):
                holders.setdefault(tuple(lines[start:start + size]), set()).add(path.name)
    return {block: names for block, names in holders.items() if len(names) > 1}


def test_notebooks_share_no_block_of_six_lines():
    """A later notebook teaches what differs and calls medlearn for the rest, instead of copying cells."""
    shared = shared_blocks(NOTEBOOKS)
    assert not shared, "\n\n".join(f"{sorted(names)}:\n" + "\n".join(block) for block, names in shared.items())


def test_the_shared_block_check_finds_a_copied_cell(tmp_path):
    source = nbformat.read(NOTEBOOKS[3], as_version=4)
    longest = max(source.cells, key=lambda cell: len(cell.source.splitlines()))
    copies = []
    for name in ("a.ipynb", "b.ipynb"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(longest.source)])
        nbformat.write(nb, tmp_path / name)
        copies.append(tmp_path / name)
    assert shared_blocks(copies)

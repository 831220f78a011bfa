"""medlearn's imports flow one way: no cycles, and every import points down the layers of .importlinter."""
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def import_cycles(package):
    """Each direct import a -> b of `package` that b leads back to, with the chain that closes the loop."""
    graph = grimp.build_graph(package, cache_dir=None)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append(" -> ".join((importer, *back)))
    return cycles


def lint_imports(root):
    """lint-imports on the package under `root`, with the repository's contract; (exit code, output)."""
    env = {"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)}
    run = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / ".importlinter")],
                         cwd=root, env=env, capture_output=True, text=True)
    return run.returncode, run.stdout + run.stderr


def test_medlearn_has_no_import_cycle():
    assert import_cycles("medlearn") == []


def test_the_layers_contract_is_kept():
    code, output = lint_imports(REPO)
    assert code == 0, output
    assert "1 kept, 0 broken" in output


@pytest.fixture
def package_copy(tmp_path):
    """A copy of medlearn to break on purpose, found before the installed one."""
    shutil.copytree(REPO / "medlearn", tmp_path / "medlearn", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_an_upward_import_breaks_the_contract_and_is_named(package_copy):
    # The registry is a foundation; reaching up to training from it is what the contract forbids.
    registry = package_copy / "medlearn" / "registry.py"
    registry.write_text(registry.read_text() + "\n\ndef _upward():\n    from .train import train\n")
    code, output = lint_imports(package_copy)
    assert code != 0, output
    assert "BROKEN" in output and "medlearn.registry -> medlearn.train" in output


def test_a_cycle_is_found(package_copy, monkeypatch):
    # The run record imported back from the models that read it: the kind of loop issue 24 removed.
    record = package_copy / "medlearn" / "record.py"
    record.write_text(record.read_text() + "\n\ndef _loop():\n    from .models import choose_model\n")
    monkeypatch.syspath_prepend(str(package_copy))
    for name in [name for name in sys.modules if name == "medlearn" or name.startswith("medlearn.")]:
        monkeypatch.delitem(sys.modules, name)
    cycles = import_cycles("medlearn")
    assert any(cycle.startswith("medlearn.record -> medlearn.models") for cycle in cycles), cycles

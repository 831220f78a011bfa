"""The Colab install, resolved by pip against Colab's published GPU runtime (tests/data/colab-runtime/).

No Colab and no GPU here: a throw-away Python 3.13 environment holds a bare *.dist-info for every package
Colab lists, and pip, asked for a dry run of the install's own pip call against PyPI alone, says what it
would download. Skips, saying why, only where PyPI or a python3.13 cannot be had.
"""
import sys

import pytest
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import colab_install_plan as harness  # noqa: E402

install = harness.install
KEPT = ("torch", "torchvision", "torchaudio", "triton", "numpy", "pandas", "pillow", "protobuf", "matplotlib",
        "gradio")
MAX_DOWNLOAD_MB = 400


@pytest.fixture(scope="module")
def resolved():
    if not harness.index_reachable():
        pytest.skip(f"the package index {harness.INDEX} cannot be reached (no network): nothing to resolve against")
    try:
        return harness.resolve_colab_install()
    except LookupError as missing:
        pytest.skip(str(missing))


def downloads(rows):
    return {install.canonical(name): version for name, version, *_ in rows}


def test_colab_keeps_its_own_torch_numpy_pandas_and_friends(resolved):
    runtime, plan, rows = resolved
    moved = downloads(rows)
    assert all(name in runtime for name in KEPT)
    assert [f"{name} {runtime[name]} -> {moved[name]}" for name in KEPT if name in moved] == []
    assert plan.constraints == {name: runtime[name] for name in KEPT}


def test_every_colab_package_the_install_moves_is_justified_and_breaks_no_colab_package(resolved):
    runtime, _, rows = resolved
    moved, found = harness.print_moves(runtime, rows)
    assert sorted(moved) == sorted(install.JUSTIFIED_COLAB_MOVES), "a move without a reason, or a reason left over"
    broken = [f"{owner} {version} requires {requirement}" for name in moved
              for owner, version, requirement, verdict in found[name] if verdict == "BREAKS"]
    assert broken == []
    assert found["pyarrow"], "Colab's pyarrow users (cudf, bigquery, ...) must have been read and checked"


def test_no_cuda_wheel_comes_along(resolved):
    _, _, rows = resolved
    cuda = [name for name in downloads(rows) if name.startswith(("nvidia-", "cuda-", "torch"))
            and name != "torchao"]  # torchao is Unsloth's (>=0.13); its wheel carries no CUDA runtime
    assert cuda == []


def test_every_wheel_installs_on_colabs_python_and_glibc(resolved):
    _, _, rows = resolved
    python = tuple(int(part) for part in harness.read_python_version().split(".")[:2])
    accepted = set(cpython_tags(python, platforms=harness.COLAB_PLATFORMS))
    accepted |= set(compatible_tags(python, f"cp{python[0]}{python[1]}", harness.COLAB_PLATFORMS))
    refused = [file_name for *_, file_name, _ in rows
               if not file_name.endswith(".whl") or not parse_wheel_filename(file_name)[3] & accepted]
    assert refused == []


def test_unsloth_and_what_its_caps_require_come_in(resolved):
    runtime, _, rows = resolved
    moved = downloads(rows)
    assert moved["unsloth"] == moved["unsloth-zoo"] == "2026.10.9"
    assert moved["xformers"] == "0.0.35"  # Unsloth's cu128onlytorch2110 extra, for Colab's torch 2.11.0+cu128
    assert {"trl", "bitsandbytes"} <= moved.keys()
    assert runtime["datasets"].startswith("4.0.") and not moved["datasets"].startswith("4.0.")
    # what Colab has at a version Unsloth accepts stays
    assert not {"transformers", "peft", "accelerate", "huggingface-hub", "tokenizers"} & moved.keys()


def test_the_download_is_small(resolved):
    _, _, rows = resolved
    sizes = harness.download_sizes([url for *_, url in rows])
    total_mb = sum(sizes.values()) / 1e6
    print(f"Colab install: {len(rows)} packages, {total_mb:.1f} MB to download")
    assert total_mb < MAX_DOWNLOAD_MB


def test_a_second_run_calls_no_pip(resolved, monkeypatch, capsys):
    runtime, _, rows = resolved
    after_first_run = dict(runtime, **downloads(rows))
    monkeypatch.setattr(install, "installed_versions", lambda: after_first_run)
    monkeypatch.setattr(install, "medlearn_is_installed_from", lambda repo: True)
    monkeypatch.setattr(install, "pip", lambda *args: pytest.fail(f"pip called: {args}"))
    monkeypatch.setattr(install.subprocess, "run", lambda *args, **kw: pytest.fail(f"subprocess: {args}"))
    install.install_colab()
    assert "nothing to do, pip not called" in capsys.readouterr().out


def test_the_vendor_references_install_on_colab_without_moving_its_packages():
    """Notebook 03 installs the vendors' encoders with --no-deps on Colab: everything they require must
    already be in Colab's published package list (or be one of them), at a version they accept."""
    import importlib.metadata as metadata

    from packaging.requirements import Requirement

    from medlearn.vendor.files import VENDOR_PACKAGES, vendor_pins

    colab = {install.canonical(name): version for name, version in harness.read_freeze().items()}
    pins = dict(pin.split("==") for pin in vendor_pins())
    assert {install.canonical(name) for name in pins} == {install.canonical(name) for name in VENDOR_PACKAGES}
    problems = []
    for name in pins:
        for text in metadata.requires(name) or []:
            needed = Requirement(text)
            if needed.marker and not needed.marker.evaluate({"extra": ""}):
                continue
            have = colab.get(install.canonical(needed.name)) or pins.get(needed.name)
            if have is None or not needed.specifier.contains(have, prereleases=True):
                problems.append(f"{name} needs {needed} (Colab has {have})")
    assert not problems, problems


def test_a_move_is_judged_against_colabs_own_version():
    """A requirement the new version misses breaks only where Colab's own version met it."""
    requirements = {("meets", "1"): ["pyarrow<20"], ("extra-unmet", "1"): ['pyarrow<18; extra == "sql"'],
                    ("fine", "1"): ["pyarrow>=15"], ("other", "1"): ["numpy"], ("unread", "1"): None}
    found = harness.dependents({"pyarrow": ("18.1.0", "26.0.1")}, requirements,
                               harness.marker_environment("3.13.15"))
    verdicts = {owner: verdict for owner, _, _, verdict in found["pyarrow"]}
    assert verdicts == {"meets": "BREAKS", "extra-unmet": "unmet on Colab already", "fine": "fits"}


# --- the Colab twin (tools/colab_twin.py): what make colab-twin installs and what make colab-test refuses ---
sys.path.insert(0, str(REPO / "tools"))
import colab_twin  # noqa: E402


def test_the_twin_pins_colabs_versions_but_not_its_cuda_build():
    constraints = colab_twin.colab_constraints(harness.read_freeze())
    assert constraints["torch"] == "2.11.0" and constraints["pandas"] == "2.2.3"  # +cu128 dropped
    assert not [name for name in constraints if name.lower().startswith(("nvidia-", "cuda-"))]


def test_the_twin_holds_colabs_version_of_what_the_course_and_its_cpu_lane_import():
    packages = colab_twin.twin_packages(harness.read_freeze(),
                                        install.unsloth_requires_dist() + colab_twin.cpu_lane_requires_dist())
    # (pyarrow and the other dependencies come along, held to Colab's versions by the constraints)
    for expected in ("transformers==5.15.0", "peft==0.20.0", "datasets==4.0.0", "tiktoken==0.14.0",
                     "ipykernel==6.17.1", "nbval==0.11.0"):
        assert expected in packages
    assert not [p for p in packages if p.startswith(("unsloth", "trl==", "bitsandbytes"))], \
        "what Colab lacks is the Colab install's job, not the twin's"


def test_a_move_without_a_reason_is_refused(capsys):
    before = {"pyarrow": "18.1.0", "numpy": "2.1.3", "scipy": "1.16.3"}
    after = {"pyarrow": "26.0.1", "numpy": "2.1.3", "scipy": "1.17.0"}
    assert colab_twin.unjustified_moves(before, after) == ["scipy"]
    assert "moved scipy 1.16.3 -> 1.17.0: NOT JUSTIFIED" in capsys.readouterr().out

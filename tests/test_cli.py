import json
import subprocess
import sys

from medlearn.models.tiny import RECIPE_VERSION


def medlearn(*args):
    return subprocess.run([sys.executable, "-m", "medlearn", *args], capture_output=True, text=True)


def test_help_lists_subcommands():
    result = medlearn("--help")
    assert result.returncode == 0
    for name in ("models", "tiny", "runtime"):
        assert name in result.stdout


def test_models_json_is_the_registry():
    rows = json.loads(medlearn("models", "--json").stdout)
    assert "llama-3.1-8b-instruct" in {row["name"] for row in rows}
    assert {"hub_id", "family", "template", "fits_free_t4", "fp16_safe"} <= set(rows[0])


def test_tiny_prints_a_model_folder(tmp_path):
    result = medlearn("tiny", "mistral")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"mistral-v{RECIPE_VERSION}")


def test_unknown_family_is_a_clear_error_not_a_traceback():
    result = medlearn("tiny", "llama-4")
    assert result.returncode == 2
    assert "Valid families: llama-2, llama-3, mistral, gemma, openchat" in result.stderr
    assert "Traceback" not in result.stderr

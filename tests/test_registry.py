import pytest

from medlearn.models import choose_model
from medlearn.registry import FAMILIES, MODELS, get_model
from medlearn.models.tiny import RECIPE_VERSION

REQUIRED = ["llama-3.1-8b-instruct", "llama-2-7b-chat", "llama-2-7b", "mistral-7b-instruct-v0.3",
            "mistral-7b-instruct-v0.2", "gemma-2-9b-it", "gemma-2-2b-it", "gemma-1.1-7b-it",
            "starling-lm-7b-alpha"]


def test_registry_has_every_course_model_with_a_known_family():
    for name in REQUIRED:
        spec = get_model(name)
        assert spec.family in FAMILIES
        assert "/" in spec.hub_id and "/" in spec.original_id
    assert {spec.family for spec in MODELS.values()} == set(FAMILIES)


def test_unsloth_prequantized_repo_is_used_where_one_exists():
    assert get_model("llama-3.1-8b-instruct").hub_id == "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit"
    assert get_model("llama-3.1-8b-instruct").prequantized
    # Starling has no Unsloth 4-bit copy: it is quantized on load.
    assert not get_model("starling-lm-7b-alpha").prequantized


def test_base_llama2_uses_the_alpaca_format():
    spec = get_model("llama-2-7b")
    assert (spec.instruct, spec.template) == (False, "alpaca")


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError) as error:
        get_model("llama-9")
    assert "llama-9" in str(error.value)
    assert "gemma-2-2b-it" in str(error.value) and "tiny-mistral" in str(error.value)


def test_cpu_choice_is_the_tiny_model_of_the_same_family_and_template():
    choice = choose_model("llama-2-7b", use_tiny=True)
    assert choice.tiny and choice.family == "llama-2" and choice.template == "alpaca"
    assert choice.source.endswith(f"llama-2-v{RECIPE_VERSION}")
    real = choose_model("gemma-2-2b-it", use_tiny=False)
    assert not real.tiny and real.source == "unsloth/gemma-2-2b-it-bnb-4bit"


def test_bad_use_tiny_value_is_named():
    with pytest.raises(ValueError, match="use_tiny"):
        choose_model("gemma-2-2b-it", use_tiny="yes")


def test_an_adapter_trained_in_another_format_than_its_model_is_refused(tmp_path):
    """Adapters that medlearn trained on Mistral-7B-Instruct v0.2 in v0.3's format (before the registry
    gave v0.2 its own) learned turns the model never saw: loading one says so and what to do."""
    import json

    from medlearn.models import RUN_INFO_FILE, read_run_info

    choice = {"requested": "mistral-7b-instruct-v0.2", "source": "unsloth/mistral-7b-instruct-v0.2-bnb-4bit",
              "family": "mistral", "template": "mistral", "tiny": False}
    (tmp_path / RUN_INFO_FILE).write_text(json.dumps({"choice": choice, "config": {}}))
    with pytest.raises(ValueError, match=r"with the mistral prompt format, but mistral-7b-instruct-v0.2 uses "
                                         r"mistral-v0.2.*Retrain it: medlearn train --model mistral-7b-instruct-v0.2"):
        read_run_info(tmp_path)
    (tmp_path / RUN_INFO_FILE).write_text(json.dumps({"choice": dict(choice, template="mistral-v0.2")}))
    assert read_run_info(tmp_path)["choice"]["template"] == "mistral-v0.2"

import pytest

from medlearn.models import choose_model
from medlearn.registry import FAMILIES, MODELS, get_model
from medlearn.tiny import RECIPE_VERSION

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

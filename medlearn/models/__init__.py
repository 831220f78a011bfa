"""Models: which model a name stands for, loading it, and the models medlearn builds offline.

    choice = choose_model("gemma-2-9b-it")       # the real model on a GPU, the tiny Gemma on a CPU
    model, tokenizer = load_model(choice, load_in_4bit=True)

Modules: choice (names to what loads, per machine), load (Unsloth's FastLanguageModel, booked in the
memory ledger), tiny (the tiny offline model of each family). The run record an adapter folder
carries lives below (medlearn.record) and is re-exported here, as learners read it with the model.
"""
from ..record import RUN_INFO_FILE, check_recorded_template, read_run_info, write_run_info
from ..registry import FAMILIES
from .choice import ModelChoice, choose_model, choose_model_or_adapter, course_decisions, print_course_decisions
from .load import check_4bit_supported, load_model

__all__ = ["FAMILIES", "RUN_INFO_FILE", "ModelChoice", "check_4bit_supported", "check_recorded_template",
           "choose_model", "choose_model_or_adapter", "course_decisions", "load_model",
           "print_course_decisions", "read_run_info", "write_run_info"]

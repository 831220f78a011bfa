"""The run's configuration: every training knob with its T4-safe default, built and checked once.

    config = build_config(max_steps=30, lora_r=8)

Decided once at the top of a run (medlearn.train) and passed down to the memory plan, the model load
and the trainer, so no stage below re-derives it.
"""
from dataclasses import dataclass

from .knobs import parse_knobs

ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PRECISIONS = ("auto", "fp16", "bf16", "fp32")


@dataclass
class TrainConfig:
    """Every knob of a run. The defaults fit a free T4; each can be overridden by name."""
    max_seq_length: int = 2048
    load_in_4bit: bool = True
    lora_r: int = 16  # adapter rank: capacity of the update (and its size on disk)
    lora_alpha: int = 16  # update scale is alpha / r; alpha = r keeps it at 1
    lora_dropout: float = 0.0  # 0 lets Unsloth use its fast path
    target_modules: tuple = ALL_PROJECTIONS  # all attention and MLP projections
    use_gradient_checkpointing: str = "unsloth"  # recompute activations: long sequences fit in 15 GB
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 4  # effective batch 8
    learning_rate: float = 2e-4
    warmup_steps: int = 5
    max_steps: int = 60  # -1 trains num_train_epochs instead
    num_train_epochs: float = 1.0
    optim: str = "adamw_8bit"  # 8-bit optimizer states save ~75% of their memory (Adam on CPU)
    weight_decay: float = 0.01
    lr_scheduler_type: str = "linear"
    seed: int = 3407
    logging_steps: int = 1
    eval_steps: int = 0  # 0: evaluate 5 times over the run
    save_steps: int = 20  # checkpoints for resume after a Colab disconnect
    save_total_limit: int = 2
    precision: str = "auto"  # auto: bf16 if supported, else fp16, else fp32 for fp16-unsafe models
    group_by_length: bool = True  # batches of similar length: little padding (see benchmarks/)
    artifacts_dir: str = "artifacts"  # loss CSV, stats JSON, plots
    output_dir: str = "outputs"  # checkpoints and the adapter (Google Drive on Colab)


def build_config(**knobs):
    """A TrainConfig with `knobs` applied, each parsed to its type and checked (medlearn.knobs).

    Text values are parsed too (`max_steps="100"`, `load_in_4bit="false"`), so `--set` and Python
    calls share one set of rules; an unknown knob fails with the list of valid ones.
    """
    config = TrainConfig(**parse_knobs(TrainConfig, knobs))
    if config.precision not in PRECISIONS:
        raise ValueError(f"precision={config.precision!r}: choose one of {', '.join(PRECISIONS)}.")
    return config

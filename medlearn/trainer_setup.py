"""The Unsloth sequence behind `medlearn.train`: load in 4-bit, add LoRA, build TRL's SFTTrainer."""
from .registry import MODELS


def load_for_training(choice, config):
    """(model with LoRA adapters, tokenizer with its chat template, precision) for `choice`."""
    from .train import choose_precision, torch_dtype

    spec = MODELS.get(choice.requested)
    precision = choose_precision(config, fp16_safe=spec.fp16_safe if spec else True)
    from .models import load_model
    from .templates import prepare_tokenizer

    model, tokenizer = load_model(choice, config.max_seq_length, config.load_in_4bit,
                                  torch_dtype(precision))
    tokenizer = prepare_tokenizer(tokenizer, choice.template)
    from unsloth import FastLanguageModel

    model = FastLanguageModel.get_peft_model(
        model, r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules), bias="none",
        use_gradient_checkpointing=config.use_gradient_checkpointing, random_state=config.seed,
        max_seq_length=config.max_seq_length,
    )
    return model, tokenizer, precision


def sft_config(config, precision, checkpoint_dir, has_eval, run_name):
    """TRL's SFTConfig from our knobs (TRL 1.x names: max_length, eval_strategy, ...)."""
    from trl import SFTConfig

    total_steps = config.max_steps if config.max_steps > 0 else None
    eval_steps = config.eval_steps or max(1, (total_steps or 50) // 5)
    return SFTConfig(
        output_dir=str(checkpoint_dir), run_name=run_name, report_to="none",
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate, warmup_steps=config.warmup_steps,
        max_steps=config.max_steps, num_train_epochs=config.num_train_epochs,
        optim=config.optim, weight_decay=config.weight_decay,
        lr_scheduler_type=config.lr_scheduler_type, seed=config.seed, data_seed=config.seed,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if has_eval else "no", eval_steps=eval_steps,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        **precision_flags(precision),
        max_length=config.max_seq_length, dataset_text_field="text", dataset_num_proc=1,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
    )


def precision_flags(precision):
    """TRL's mixed-precision flags for a precision; fp32 sets neither."""
    return {"fp16": precision == "fp16", "bf16": precision == "bf16"}


def build_trainer(model, tokenizer, choice, config, precision, train_dataset, eval_dataset,
                  paths, run_name, extra_callbacks=()):
    """An SFTTrainer with response-only loss and the loss-CSV callback, checked before it trains."""
    from trl import SFTTrainer

    from .plots import plot_loss_curves
    from .templates import add_text_column, apply_response_only
    from .tracking import LossCSVCallback

    train_text = add_text_column(train_dataset, tokenizer, choice.template)
    eval_text = add_text_column(eval_dataset, tokenizer, choice.template) if eval_dataset else None
    csv_path = paths["loss_csv"]
    callback = LossCSVCallback(csv_path, plot_fn=lambda: plot_loss_curves([csv_path], paths["plot_png"],
                                                                         title=f"{run_name} loss"))
    trainer = SFTTrainer(
        model=model, processing_class=tokenizer, train_dataset=train_text, eval_dataset=eval_text,
        args=sft_config(config, precision, paths["checkpoint_dir"], eval_text is not None, run_name),
        callbacks=[callback, *extra_callbacks],
    )
    try:
        trainer = apply_response_only(trainer, choice.template)
    except ValueError as error:  # Unsloth refuses when truncation left nothing to train on
        if "masked all" not in str(error):
            raise
        raise ValueError(
            f"Every training row is fully masked: no assistant token is left to train on. "
            f"max_seq_length={config.max_seq_length} is shorter than the prompts; raise it.") from error
    return trainer  # rows with nothing to train on were dropped, counted and reported

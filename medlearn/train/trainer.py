"""The Unsloth sequence behind `medlearn.train`: load in 4-bit, add LoRA, build TRL's SFTTrainer."""
from ..models import load_model
from ..precision import torch_dtype
from ..templates import prepare_tokenizer


def load_for_training(choice, config, precision):
    """(model with LoRA adapters, tokenizer with its chat template) for `choice`, loaded in `precision`."""

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
    return model, tokenizer


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
        # Counted by the Trainer into its state, so a resumed run continues the count (TRL's own
        # num_tokens restarts at zero in every process).
        include_num_input_tokens_seen="non_padding",
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
    )


def precision_flags(precision):
    """TRL's mixed-precision flags for a precision; fp32 sets neither."""
    return {"fp16": precision == "fp16", "bf16": precision == "bf16"}


def build_trainer(model, tokenizer, choice, config, precision, train_dataset, eval_dataset,
                  paths, run_name, extra_callbacks=()):
    """An SFTTrainer with response-only loss and the loss-CSV callback, checked before it trains."""
    from transformers.trainer_callback import ProgressCallback

    from ..plots import plot_loss_curves
    from ..templates import add_text_column, apply_response_only
    from .tracking import LossCSVCallback, LossProgressBar

    train_text = add_text_column(train_dataset, tokenizer, choice.template)
    eval_text = add_text_column(eval_dataset, tokenizer, choice.template) if eval_dataset else None
    csv_path = paths["loss_csv"]
    callback = LossCSVCallback(csv_path, plot_fn=lambda: plot_loss_curves([csv_path], paths["plot_png"],
                                                                         title=f"{run_name} loss"))
    trainer = resumable_trainer_class()(
        model=model, processing_class=tokenizer, train_dataset=train_text, eval_dataset=eval_text,
        args=sft_config(config, precision, paths["checkpoint_dir"], eval_text is not None, run_name),
        callbacks=[callback, *extra_callbacks],
    )
    trainer.remove_callback(ProgressCallback)  # it prints every log dictionary under the bar
    trainer.add_callback(LossProgressBar())
    try:
        trainer = apply_response_only(trainer, choice.template)
    except ValueError as error:  # Unsloth refuses when truncation left nothing to train on
        if "masked all" not in str(error):
            raise
        raise ValueError(
            f"Every training row is fully masked: no assistant token is left to train on. "
            f"max_seq_length={config.max_seq_length} is shorter than the prompts; raise it.") from error
    return trainer  # rows with nothing to train on were dropped, counted and reported


def resumable_trainer_class():
    """SFTTrainer that resumes LoRA weights in place, keeping their dtype and the optimizer's tensors.

    The Trainer's own resume calls PeftModel.load_adapter, which replaces the LoRA weights with new
    float32 ones: a run resumed on a 16-bit model then trains (and saves) in another precision than
    the run it continues, and its losses drift from an uninterrupted run's. Copying the checkpoint's
    weights into the existing tensors makes a resumed run the same run.
    """
    from trl import SFTTrainer

    class ResumableSFTTrainer(SFTTrainer):
        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            load_adapter_in_place(model or self.model, resume_from_checkpoint)

        def _get_train_sampler(self, train_dataset=None):
            return seed_per_epoch(super()._get_train_sampler(train_dataset), self.args.data_seed)

    return ResumableSFTTrainer


def load_adapter_in_place(model, checkpoint):
    """Copy a checkpoint's adapter weights into `model`'s LoRA tensors (same dtype, same objects)."""
    from pathlib import Path

    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = load_file(str(Path(checkpoint) / "adapter_model.safetensors"))
    result = set_peft_model_state_dict(model, weights, adapter_name=model.active_adapter)
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    if unexpected:
        raise ValueError(f"{checkpoint} holds weights this model has no place for ({unexpected[:3]} ...): "
                         "it was saved by a run with other LoRA settings.")


def seed_per_epoch(sampler, seed):
    """A length-grouped sampler whose every epoch order comes from (seed, epoch) alone.

    transformers' LengthGroupedSampler shuffles with the global random state of the moment an epoch
    starts, which differs between a run that evaluated first and one resumed mid-epoch: the same
    run would see its rows in another order after a resume. Other samplers are returned as they are
    (accelerate already seeds the random one per epoch).
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochSeededLengthSampler(LengthGroupedSampler):
        epoch = 0

        def set_epoch(self, epoch):  # accelerate calls it at the start of every epoch
            self.epoch = epoch

        def __iter__(self):
            self.generator = torch.Generator().manual_seed(seed + self.epoch)
            return super().__iter__()

    if type(sampler) is not LengthGroupedSampler:
        return sampler
    return EpochSeededLengthSampler(sampler.batch_size, lengths=sampler.lengths)

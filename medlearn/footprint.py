"""How much GPU memory a 4-bit LoRA run takes: the facts and the formula behind `medlearn.memory`.

Every number is in GiB (2**30 bytes), the unit torch and Unsloth's notebooks print as "GB"
(a free Colab T4 prints "Max memory: 14.748 GB"). Each constant below names its source;
`medlearn memory --compare` holds the formula against Unsloth's published T4 runs.
"""
import math
from dataclasses import dataclass

GIB = 2**30

# A free Colab T4 as torch sees it: printed as "GPU: Tesla T4. Max memory: 14.748 GB" by every
# Unsloth T4 notebook, e.g. unslothai/notebooks nb/Llama3.1_(8B)-Alpaca.ipynb.
T4_GIB = 14.748

# The CUDA context (driver, kernels) lives outside torch's allocator, so "reserved" figures leave
# it out: about 400 MB with CUDA >= 11.7 lazy loading (PyTorch maintainer, pytorch/pytorch#109888).
CUDA_CONTEXT_GIB = 0.4e9 / GIB

# NF4 with double quantization: 4 bits + 0.127 bits of quantization constants per weight
# (Dettmers et al. 2023, QLoRA, arXiv:2305.14314, section 3 "Double Quantization"). Unsloth's
# pre-quantized bnb-4bit repos use double quantization.
NF4_BYTES = (4 + 0.127) / 8
HALF_BYTES = 2  # fp16/bf16: embeddings, lm_head and norms stay 16-bit in a 4-bit model

# LoRA weights and their gradients are float32: fp16 mixed precision (a T4 has no bf16) keeps
# trainable weights in float32 so the gradient scaler can unscale them.
LORA_WEIGHT_BYTES = 4
LORA_GRAD_BYTES = 4
# Adam keeps two states per trainable weight: float32 each (8 bytes), or one byte each with
# bitsandbytes' 8-bit optimizers (Dettmers et al. 2021, arXiv:2110.02861).
OPTIMIZER_BYTES = {"8bit": 2, "32bit": 8}

# What loading costs beyond the weights themselves (loader buffers, cuBLAS workspace, allocator
# rounding), fitted to the three T4 prints in PUBLISHED: "GB of memory reserved" after loading
# minus our weights and float32 LoRA weights is 0.52 (Llama-3.1-8B), 0.51 (Mistral-7B v0.3) and
# 0.67 GiB (Gemma-2-9B); see `medlearn memory --compare`.
LOAD_OVERHEAD_GIB = 0.56

# Activations per token with Unsloth's gradient checkpointing, in bytes per hidden unit per layer.
# Unsloth's README table "Llama 3.1 (8B) ... 4bit QLoRA ... rank = 32 ... batch size of 1 ...
# padded to a certain maximum sequence length" fits 18,876 more tokens in every 4 GB more VRAM
# (8 GB: 2,972; 12 GB: 21,848; 16 GB: 40,724 tokens): 4 GiB / 18,876 / (4096 hidden x 32 layers).
UNSLOTH_CHECKPOINT_BYTES = 4 * GIB / 18_876 / (4096 * 32)
# Without Unsloth's offloading: a 16-bit transformer layer keeps about 34 bytes per hidden unit
# per token for its backward pass (Korthikanti et al. 2022, arXiv:2205.05198, section 4.1, with a
# fused attention kernel removing the 5*a*s/h term). Plain checkpointing keeps each layer's
# 2-byte input and recomputes one layer at a time.
LAYER_ACTIVATION_BYTES = 34
CHECKPOINT_INPUT_BYTES = 2

# Unsloth's fused cross-entropy never holds all logits: it splits the tokens into chunks of at
# most min(4 GiB, half the free memory) at 16 bytes per logit, in multiples of 4 chunks
# (unsloth_zoo 2026.10.9, fused_losses/cross_entropy_loss.py: _CE_BYTES_PER_LOGIT,
# _CE_TARGET_GB_CAP, get_chunk_size).
CE_BYTES_PER_LOGIT = 16
CE_TARGET_CAP_GIB = 4.0

# Gemma-2 caps its attention logits (attn_logit_softcapping in config.json). Flash attention with
# softcapping does not run on a T4, so Unsloth computes the full score matrix of a layer: fp16
# scores, a float32 softmax and its fp16 copy, 8 bytes per score (unsloth 2026.10.9,
# kernels/flex_attention.py: _compiled_slow_attention_softcapping).
SOFTCAP_SCORE_BYTES = 8

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Shape:
    """What memory depends on in a model's config.json."""
    layers: int  # num_hidden_layers
    hidden: int  # hidden_size
    intermediate: int  # intermediate_size
    vocab: int  # vocab_size
    heads: int  # num_attention_heads
    kv_heads: int  # num_key_value_heads
    head_dim: int  # head_dim (hidden / heads where config.json has none)
    tied: bool  # tie_word_embeddings: lm_head shares the embedding matrix
    softcap: bool = False  # attn_logit_softcapping set: full attention scores on a T4

    def projection_sizes(self):
        """(in, out) features of each LoRA-able linear layer of one decoder layer."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        h, i = self.hidden, self.intermediate
        return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
                "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}


# From each model's config.json on the Hugging Face Hub (the registry's original_id repo; Starling
# is Mistral-7B-shaped, with two added tokens). Checked against Unsloth's notebook prints of
# "Number of trainable parameters" at r=16 (tests/test_memory.py).
SHAPES = {
    "llama-3.1-8b-instruct": Shape(32, 4096, 14336, 128256, 32, 8, 128, False),
    "llama-2-7b-chat": Shape(32, 4096, 11008, 32000, 32, 32, 128, False),
    "llama-2-7b": Shape(32, 4096, 11008, 32000, 32, 32, 128, False),
    "mistral-7b-instruct-v0.3": Shape(32, 4096, 14336, 32768, 32, 8, 128, False),
    "mistral-7b-instruct-v0.2": Shape(32, 4096, 14336, 32000, 32, 8, 128, False),
    "gemma-2-9b-it": Shape(42, 3584, 14336, 256000, 16, 8, 256, True, softcap=True),
    "gemma-2-2b-it": Shape(26, 2304, 9216, 256000, 8, 4, 256, True, softcap=True),
    "gemma-1.1-7b-it": Shape(28, 3072, 24576, 256000, 16, 16, 256, True),
    "gemma-3-1b-it": Shape(26, 1152, 6912, 262144, 4, 1, 256, True),
    "starling-lm-7b-alpha": Shape(32, 4096, 14336, 32002, 32, 8, 128, False),
    "smollm2-135m-instruct": Shape(30, 576, 1536, 49152, 9, 3, 64, True),
    "gemma-3-270m": Shape(18, 640, 2048, 262144, 4, 1, 256, True),
}


# The tiny offline models' architecture (medlearn.models.tiny builds them from it). Small but real:
# hidden size 64 is the narrowest bitsandbytes' CPU 4-bit packing accepts.
TINY_SHAPE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)
TINY_VOCAB_SIZE = 640  # a trained vocabulary; tiny Llama-2 and Mistral use their real one instead
TINY_CONFIG_EXTRA = {
    "llama-3": {"rope_theta": 500000.0},
    "gemma": {"head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 4096},
}


def tiny_shape(family):
    """The tiny offline model's shape, from the architecture medlearn.models.tiny builds it with."""
    config = dict(TINY_SHAPE, **TINY_CONFIG_EXTRA.get(family, {}))
    head_dim = config.get("head_dim", config["hidden_size"] // config["num_attention_heads"])
    return Shape(config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"],
                 TINY_VOCAB_SIZE, config["num_attention_heads"], config["num_key_value_heads"], head_dim,
                 family == "gemma")


# ---------------------------------------------------------------- the formula

def lora_params(shape, rank, target_modules):
    """Trainable LoRA weights: rank x (in + out) for each targeted projection of every layer."""
    sizes = shape.projection_sizes()
    unknown = sorted(set(target_modules) - set(sizes))
    if unknown:
        raise ValueError(f"target_modules {unknown} are not projections this estimate knows; "
                         f"valid: {', '.join(PROJECTIONS)}.")
    return shape.layers * sum(rank * (sizes[m][0] + sizes[m][1]) for m in target_modules)


def weights_gib(shape, load_in_4bit=True):
    """The base model: NF4 projections (or 16-bit), 16-bit embeddings, lm_head and norms."""
    linear = shape.layers * sum(i * o for i, o in shape.projection_sizes().values())
    embeddings = shape.vocab * shape.hidden * (1 if shape.tied else 2)
    norms = (2 * shape.layers + 1) * shape.hidden
    linear_bytes = NF4_BYTES if load_in_4bit else HALF_BYTES
    return (linear * linear_bytes + (embeddings + norms) * HALF_BYTES) / GIB


def resident_gib(shape, load_in_4bit=True):
    """What a loaded model holds for as long as it is alive (weights + loading overhead)."""
    return weights_gib(shape, load_in_4bit) + LOAD_OVERHEAD_GIB


def activation_bytes_per_token(shape, gradient_checkpointing):
    if gradient_checkpointing == "unsloth":
        return UNSLOTH_CHECKPOINT_BYTES * shape.hidden * shape.layers
    if gradient_checkpointing in (True, "true", "True"):
        return (CHECKPOINT_INPUT_BYTES * shape.layers + LAYER_ACTIVATION_BYTES) * shape.hidden
    if gradient_checkpointing in (False, "false", "False", None):
        return LAYER_ACTIVATION_BYTES * shape.hidden * shape.layers
    raise ValueError(f"use_gradient_checkpointing={gradient_checkpointing!r}: choose 'unsloth', True or False.")


def loss_chunk_gib(tokens, vocab, free_gib):
    """The largest logits chunk Unsloth's fused cross-entropy holds at once."""
    total = tokens * vocab * CE_BYTES_PER_LOGIT / GIB
    target = min(CE_TARGET_CAP_GIB, max(free_gib, 1e-3) / 2)
    if total <= target:
        return total
    chunks = min(math.ceil(total / target / 4) * 4, tokens)
    return total / chunks


def optimizer_bytes(optim):
    return OPTIMIZER_BYTES["8bit"] if "8bit" in str(optim) else OPTIMIZER_BYTES["32bit"]


def training_parts(shape, gpu_gib, max_seq_length=2048, batch_size=2, lora_r=16,
                   target_modules=PROJECTIONS, gradient_checkpointing="unsloth", optim="adamw_8bit",
                   load_in_4bit=True):
    """Each term of a training run's peak, in GiB, for a batch of full-length sequences."""
    trainable = lora_params(shape, lora_r, target_modules)
    tokens = max_seq_length * batch_size
    parts = {
        "cuda_context": CUDA_CONTEXT_GIB,
        "weights": weights_gib(shape, load_in_4bit),
        "loading_overhead": LOAD_OVERHEAD_GIB,
        "lora_weights": trainable * LORA_WEIGHT_BYTES / GIB,
        "lora_gradients": trainable * LORA_GRAD_BYTES / GIB,
        "optimizer_states": trainable * optimizer_bytes(optim) / GIB,
        "activations": tokens * activation_bytes_per_token(shape, gradient_checkpointing) / GIB,
        # one layer's scores at a time: checkpointing recomputes layer by layer
        "attention_scores": (batch_size * shape.heads * max_seq_length**2 * SOFTCAP_SCORE_BYTES / GIB
                             if shape.softcap else 0.0),
    }
    # Unsloth measures free memory once, in the first forward: before any gradient or optimizer state.
    held_then = sum(v for k, v in parts.items()
                    if k not in ("lora_gradients", "optimizer_states", "attention_scores"))
    free_at_first_step = gpu_gib - held_then
    parts["logits"] = loss_chunk_gib(tokens, shape.vocab, free_at_first_step)
    return parts


# Held for an instant, never together: attention scores live inside one layer, logits at the loss.
TRANSIENT = ("attention_scores", "logits")


def peak_gib(parts):
    """Everything held throughout, plus the largest of the transients."""
    held = sum(v for k, v in parts.items() if k not in TRANSIENT)
    return held + max((parts.get(k, 0.0) for k in TRANSIENT), default=0.0)

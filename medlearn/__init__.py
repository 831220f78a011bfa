"""medlearn: the helper package of the medlearn course.

Fine-tune Llama, Mistral and Gemma instruct models on medical data with Unsloth 4-bit LoRA on a
free Colab T4, evaluate them, and use them. Modules import the heavy libraries (torch, Unsloth,
transformers) only inside the functions that need them, so `import medlearn` is instant.
"""
__version__ = "0.1.0"

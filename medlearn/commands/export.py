HELP = ("Show an adapter's size beside its base model, merge it into a 16-bit model, and export GGUF "
        "(q4_k_m, q8_0, f16) with llama.cpp's own converter and quantizer, plus an Ollama Modelfile.")


def configure(parser):
    parser.add_argument("--model", required=True, help="an adapter folder (outputs/RUN/adapter)")
    parser.add_argument("--out", help="output folder (default: next to the adapter: merged/ and gguf/)")
    parser.add_argument("--merge", action="store_true", help="save base + adapter as one 16-bit model")
    parser.add_argument("--gguf", help="GGUF quantizations, comma-separated: q4_k_m,q8_0,f16")
    parser.add_argument("--sizes", action="store_true", help="only print the sizes")
    parser.add_argument("--no-4bit", action="store_true",
                        help="load the base in 16-bit (always so on a CPU, where 4-bit weights cannot be merged)")


def run(args):
    from pathlib import Path

    from .. import adapters

    print(adapters.describe_sizes(adapters.size_report(args.model)))
    if args.sizes or not (args.merge or args.gguf):
        return 0
    methods = adapters.check_gguf_methods(args.gguf.split(",")) if args.gguf else []
    out = Path(args.out) if args.out else Path(args.model).parent
    from ..notebook import on_gpu

    # Unsloth merges a 4-bit base on a GPU (it dequantizes); on a CPU the base must load in 16-bit.
    model, tokenizer, choice = adapters.load_adapter(args.model, load_in_4bit=on_gpu() and not args.no_4bit)
    merged = None
    if args.merge:
        merged = adapters.save_merged(model, tokenizer, out / "merged", choice)
        print(f"merged 16-bit model: {merged} ({adapters.weights_bytes(merged) / 1e6:,.1f} MB)")
    if methods:
        result = adapters.export_gguf(model, tokenizer, out / "gguf", choice, methods, merged=merged)
        for path in result["gguf"]:
            print(f"GGUF: {path} ({Path(path).stat().st_size / 1e6:,.1f} MB)")
        print(f"Modelfile: {result['modelfile']} (ollama create my-medical-model -f Modelfile)\n"
              f"chat with it here: medlearn chat --gguf {result['gguf'][0]}")
    return 0

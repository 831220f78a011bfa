HELP = ("Push an adapter or merged model folder to the Hugging Face Hub with a generated model card "
        "(token from Colab secrets or HF_TOKEN; never printed).")


def configure(parser):
    parser.add_argument("--model", required=True, help="the folder to push (an adapter or a merged model)")
    parser.add_argument("--repo", required=True, help="Hub repo id: your-name/model-name")
    parser.add_argument("--dataset", help="training source names, comma-separated, for the card's data section")
    parser.add_argument("--public", action="store_true", help="make the repo public (default: private)")
    parser.add_argument("--card-only", action="store_true", help="write README.md (the model card) and stop")
    parser.add_argument("--artifacts-dir", default="artifacts", help="where the run's loss plot and eval results are")


def run(args):
    from pathlib import Path

    from ..hub import check_repo_id, push_folder, write_model_card

    if not Path(args.model).is_dir():
        raise FileNotFoundError(f"No folder at {args.model}: give an adapter folder (outputs/RUN/adapter) or "
                                "a merged model folder (medlearn export --merge).")
    check_repo_id(args.repo)
    sources = args.dataset.split(",") if args.dataset else None
    if args.card_only:
        print(f"model card: {write_model_card(args.model, sources, args.artifacts_dir, args.repo)}")
        return 0
    url = push_folder(args.model, args.repo, private=not args.public, sources=sources,
                      artifacts_dir=args.artifacts_dir)
    print(f"pushed: {url}")
    return 0

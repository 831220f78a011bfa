"""Fetch the vendor files the prompt-format checks read, so tests and `medlearn prompts --check` run offline.

    python tools/fetch_vendor_files.py            # into .cache/vendor/ of this checkout (where tests look)
    python tools/fetch_vendor_files.py --cache D  # into D/vendor/

It downloads the llama-cpp-python source distribution from the package index with pip (no binary, no
build) and unpacks the few llama.cpp files we read: the Llama-2 vocabulary with llama.cpp's expected
tokenizations, two publishers' chat templates, and the chat-template test that quotes others. Nothing
is committed; the other references (llama-models, mistral-common) are installed packages.
"""
import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.environ.get("MEDLEARN_CACHE", str(REPO / ".cache")),
                        help="the medlearn cache folder (default: $MEDLEARN_CACHE, else .cache/ here)")
    args = parser.parse_args()
    os.environ["MEDLEARN_CACHE"] = args.cache
    sys.path.insert(0, str(REPO))  # medlearn may not be installed yet when the installer calls this
    from medlearn.vendor.files import fetch_llama_cpp_files

    folder = fetch_llama_cpp_files(quiet=False)
    print(f"vendor files ready in {folder}")


if __name__ == "__main__":
    main()

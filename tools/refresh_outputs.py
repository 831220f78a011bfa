"""Re-run notebooks and store outputs only on their `# NBVAL_CHECK_OUTPUT` cells (the rest stripped).

    python tools/refresh_outputs.py notebooks/03_prompt_templates.ipynb [more.ipynb ...]

Use it when a change of medlearn changes what a checked cell prints on purpose; nbval then checks
the new output. The notebook runs as `make test` runs it: offline, in its own folder, on the CPU.
"""
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbval.plugin import coalesce_streams

CHECK = "# NBVAL_CHECK_OUTPUT"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}


def refresh(path):
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    metadata = dict(notebook.metadata)  # the kernel would add its own version details
    NotebookClient(notebook, timeout=900, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)  # timings would make every refresh a diff
        if cell.source.startswith(CHECK):
            count += 1
            cell.execution_count = cell.execution_count or count  # nbval needs one; any will do
            cell.outputs = coalesce_streams(cell.outputs)  # as nbval compares them: one diff, not two
        else:
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = nbformat.from_dict(metadata)
    nbformat.write(notebook, path)
    print(f"{path}: {count} checked cell(s) refreshed")


if __name__ == "__main__":
    os.environ.update(OFFLINE)
    os.environ.setdefault("MEDLEARN_CACHE", str(Path(__file__).resolve().parent.parent / ".cache"))
    for name in sys.argv[1:]:
        refresh(name)

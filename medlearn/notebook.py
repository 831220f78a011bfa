"""Small conveniences every notebook uses, so no notebook carries its own copy of them."""
from pathlib import Path

# Where Colab mounts Google Drive, and the course's folder inside it.
DRIVE_MOUNT = Path("/content/drive")
DRIVE_FOLDER = Path("MyDrive") / "medlearn"

# How long a real run takes on a free T4, for notebooks that would have to retrain one: a published run
# of Unsloth's Gemma-7B Alpaca notebook on a Colab T4 (4-bit, LoRA r=16, batch 2 x 4, 2048 tokens,
# 60 steps) printed "549.6228 seconds used for training" and "Peak reserved memory = 11.002 GB"
# (snoopykr.github.io, post of 2024-07-21, reproducing Unsloth's notebook). Loading and the
# download of the 4-bit weights (about 5.6 GB there) come on top.
T4_SECONDS_PER_STEP_7B = 549.6 / 60
T4_TIME_SOURCE = "a published run of Unsloth's Gemma-7B notebook on a Colab T4 (60 steps in 549.6 s)"


def repo_root():
    """The course repository (medlearn is installed editable from it, on Colab and in CI)."""
    return Path(__file__).resolve().parent.parent


def course_folders(keep_on_drive="auto"):
    """(artifacts, outputs): where runs write loss CSVs and plots, and adapters and checkpoints.

    On Colab they go to Google Drive by default ("auto"): the runtime's disk vanishes with a disconnect
    or a new runtime, and with it hours of T4 training. Elsewhere they stay in the repository.
    """
    from .runtime import is_colab

    if keep_on_drive not in ("auto", True, False):
        raise ValueError(f"KEEP_ON_DRIVE must be 'auto', True or False, not {keep_on_drive!r}.")
    use_drive = is_colab() if keep_on_drive == "auto" else keep_on_drive
    root = mount_drive() / DRIVE_FOLDER if use_drive else repo_root()
    folders = root / "artifacts", root / "outputs"
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    where = "Google Drive: kept after a disconnect" if use_drive else "this runtime's disk"
    print(f"Artifacts: {folders[0]}\nOutputs:   {folders[1]}\n({where})")
    return folders


def mount_drive():
    """Mount Google Drive (Colab asks for permission once) and return the mount point."""
    from .runtime import is_colab

    if not is_colab():
        raise RuntimeError("Google Drive can only be mounted in Colab: set KEEP_ON_DRIVE = False "
                           "(or \"auto\") on this machine.")
    from google.colab import drive  # present in every Colab runtime

    if not (DRIVE_MOUNT / "MyDrive").is_dir():
        drive.mount(str(DRIVE_MOUNT))
    return DRIVE_MOUNT


def retrain_notice(model_name, steps, notebook):
    """What retraining a missing run would cost on a T4, for notebooks that build on an earlier one."""
    from .registry import get_model

    minutes = steps * T4_SECONDS_PER_STEP_7B * get_model(model_name).params_b / 7 / 60
    return (f"{model_name}: no saved run. Notebook {notebook} trains it; {steps} steps take roughly "
            f"{minutes:.0f} minutes on a free T4 plus loading (scaled by size from {T4_TIME_SOURCE}).")


def on_gpu():
    import torch

    return torch.cuda.is_available()


def resolve_auto(value, on_gpu_value, on_cpu_value):
    """Config cells say "auto": the GPU (Colab) choice on a GPU, the CPU (CI) choice otherwise."""
    if value != "auto":
        return value
    return on_gpu_value if on_gpu() else on_cpu_value


def start():
    """The first call of every notebook: the runtime report."""
    from .runtime import print_runtime_report

    return print_runtime_report()


def show_image(path, width=720):
    """Display a PNG the course wrote (a loss plot, a comparison)."""
    from IPython.display import Image, display

    display(Image(filename=str(path), width=width))

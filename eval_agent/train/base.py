"""The model an adapter is trained on: by default the embedded one, from the very GGUF file that
llama.cpp serves (so the adapter fits what is served), or any GGUF file or Hugging Face folder.

transformers reads a GGUF file and dequantises it; a model so loaded is marked as quantised and
refused for training, so a plain model is rebuilt from its config and weights."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .render import ServedForm


@dataclass(frozen=True)
class Base:
    spec: str  # as given: local, local:NAME, a .gguf file, a Hugging Face folder
    path: Path  # the GGUF file or the folder
    label: str
    sha256: str
    architecture: str  # llama.cpp's name of it: qwen2, llama ...
    layers: int
    form: ServedForm  # how the served model is asked: what the examples are rendered as

    @property
    def gguf(self) -> bool:
        return self.path.is_file()


def resolve_base(spec: str = "local") -> Base:
    spec = spec.strip() or "local"
    if spec == "local" or spec.startswith("local:"):
        from ..models.local import resolve

        target = resolve(spec.partition(":")[2])
        sha = target.package.sha256 if target.package else file_sha256(target.path)
        return _gguf_base(spec, target.path, target.label, sha)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return _gguf_base(spec, path.resolve(), str(path), file_sha256(path))
    if path.is_dir() and (path / "config.json").is_file():
        import json

        config = json.loads((path / "config.json").read_text())
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        digest = hashlib.sha256(b"".join(file_sha256(w).encode() for w in weights)).hexdigest()
        return Base(spec, path.resolve(), path.name, digest, str(config.get("model_type", "")),
                    int(config.get("num_hidden_layers", 0)), ServedForm("native", None))
    raise UsageError(f"--base {spec}: give local, local:NAME, a .gguf file or a Hugging Face model folder")


def _gguf_base(spec: str, path: Path, label: str, sha: str) -> Base:
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    architecture = _field(reader, "general.architecture")
    layers = int(_field(reader, f"{architecture}.block_count"))
    # served by the embedded runtime with its defaults (models/local.py): json actions, compact prompts
    return Base(spec, path, label, sha, architecture, layers, ServedForm("json", "compact"))


def _field(reader, key: str):
    field = reader.fields.get(key)
    if field is None:
        raise UsageError(f"{reader.path} has no {key}: is it a model GGUF file?")
    value = field.parts[field.data[0]]
    return bytes(value).decode() if value.dtype.kind == "u" and value.itemsize == 1 else value[0]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_for_training(base: Base, device: str):
    """The base as a trainable PyTorch model on `device` (fp32 on the CPU, bf16 on CUDA)."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    if not base.gguf:
        return AutoModelForCausalLM.from_pretrained(str(base.path), dtype=dtype).to(device)
    loaded = AutoModelForCausalLM.from_pretrained(str(base.path.parent), gguf_file=base.path.name, dtype=torch.float32)
    settings = {key: value for key, value in loaded.config.to_dict().items() if key != "quantization_config"}
    model = AutoModelForCausalLM.from_config(type(loaded.config).from_dict(settings), dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    del loaded
    return model.to(device=device, dtype=dtype)

"""A PEFT LoRA adapter as llama.cpp loads it: one GGUF file of type "adapter" for the base's
architecture, `adapter.type = lora`, `adapter.lora.alpha`, and for each adapted weight its two
factors named after the base tensor (blk.0.attn_q.weight.lora_a / .lora_b), written in PEFT's own
layout (A is rank x in, B is out x rank; GGUF stores shapes reversed, which is what llama.cpp
checks). llama.cpp scales B·A by alpha/rank as PEFT does, so the served adapter is the trained one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import UsageError

PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<base>.+)\.lora_(?P<part>[AB])(?:\.default)?\.weight$")


def write_gguf_adapter(peft_dir: Path, out: Path, architecture: str, layers: int) -> int:
    """Writes `out` from the PEFT adapter in `peft_dir`; returns how many weights it adapts."""
    import gguf
    from safetensors.torch import load_file  # numpy has no bfloat16: a CUDA-trained adapter may be in it

    config = json.loads((peft_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("use_dora") or config.get("use_rslora") or config.get("modules_to_save"):
        raise UsageError("only plain LoRA adapters can be served by llama.cpp (no DoRA, rsLoRA or saved modules)")
    arch = {name: arch for arch, name in gguf.MODEL_ARCH_NAMES.items()}.get(architecture)
    if arch is None:
        raise UsageError(f"llama.cpp knows no architecture {architecture!r}")
    names = gguf.get_tensor_name_map(arch, layers)
    pairs: dict[str, dict[str, object]] = {}
    for key, value in load_file(str(peft_dir / "adapter_model.safetensors")).items():
        found = PEFT_KEY.match(key)
        if found is None:
            raise UsageError(f"the adapter holds {key}, which is not a LoRA factor")
        target = names.get_name(found["base"] + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise UsageError(f"llama.cpp has no tensor for {found['base']} in {architecture}")
        pairs.setdefault(target, {})[found["part"]] = value.float().numpy()
    writer = gguf.GGUFWriter(str(out), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    for target, factors in sorted(pairs.items()):
        if set(factors) != {"A", "B"}:
            raise UsageError(f"the adapter has only one LoRA factor for {target}")
        writer.add_tensor(f"{target}.lora_a", factors["A"])
        writer.add_tensor(f"{target}.lora_b", factors["B"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return len(pairs)

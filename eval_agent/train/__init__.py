"""Closing the loop: LoRA fine-tuning on verified runs (finetune), the adapter as llama.cpp serves it
(gguf_lora), its card, and the measured comparison with the model it came from (compare)."""

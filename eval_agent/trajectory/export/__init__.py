"""Export recorded runs as fine-tuning datasets: openai (chat JSONL), trl (a Hugging Face
datasets folder), sharegpt and alpaca (LLaMA-Factory). A new format is one writer module and one
line in runner.FORMATS."""

from .filters import RunFilters, TrajectoryFilters, parse_time
from .gate import SecretFound, SecretGate
from .runner import FORMATS, ExportOptions, ExportSummary, export_runs

__all__ = ["FORMATS", "ExportOptions", "ExportSummary", "RunFilters", "SecretFound", "SecretGate",
           "TrajectoryFilters", "export_runs", "parse_time"]

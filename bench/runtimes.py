"""Which CPU runtime runs deid's NER model fastest here, and what each costs in accuracy.

Compares torch (fp32, bf16, int8 dynamic quantization with per-channel weights) with ONNX Runtime
(fp32, int8 dynamic quantization with per-channel weights) on the same windows: throughput over the
bench's long corpus, and entity F1 / leak of the model alone on gold data (PhysioNet dev by default).
ONNX Runtime rows need ``pip install onnxruntime onnx`` (not a deid dependency); without it they say
so. Run ``python bench/runtimes.py --help``; bench/README.md shows a result.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

RUNTIMES = ("torch-fp32", "torch-bf16", "torch-int8", "ort-fp32", "ort-int8")
DEFAULT_DEV = REPO.parent / "shared" / "data" / "physionet_deid" / "physionet_dev.jsonl"


class _Logits:
    def __init__(self, logits: Any):
        self.logits = logits


class OrtTokenClassifier:
    """An ONNX Runtime session that answers ``model(input_ids=..., attention_mask=..., token_type_ids=...).logits``
    like torch (token-type ids default to zeros; case-feature models pass word shapes)."""

    def __init__(self, path: Path, config: Any, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.config = config

    def __call__(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> _Logits:
        import torch

        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        feeds = {
            "input_ids": input_ids.numpy(),
            "attention_mask": attention_mask.numpy(),
            "token_type_ids": token_type_ids.numpy(),
        }
        return _Logits(torch.from_numpy(self.session.run(["logits"], feeds)[0]))


def export_onnx(model: Any, folder: Path) -> tuple[Path, Path]:
    """Export the fp32 torch model to ONNX and quantize it (int8 weights per channel, dynamic activations)."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = folder / "model.onnx"
    int8 = folder / "model.int8.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": axes},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def build(runtime: str, model_dir: str, threads: int, onnx_dir: Path) -> Any:
    """A loaded :class:`NerModel` running on ``runtime``."""
    from run_bench import load_hf_model

    from deid.ner.inference import NerModel

    kind, precision = runtime.split("-")
    if kind == "torch":
        return NerModel(model_dir, precision=precision, num_threads=threads).load()
    tokenizer, model, meta = load_hf_model(Path(model_dir))
    if not (onnx_dir / "model.onnx").exists():
        export_onnx(model, onnx_dir)
    path = onnx_dir / ("model.onnx" if precision == "fp32" else "model.int8.onnx")
    return NerModel.from_loaded(
        tokenizer, OrtTokenClassifier(path, model.config, threads), meta, num_threads=threads
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/deid-ner-minilm")
    parser.add_argument("--docs", type=int, default=100, help="long-corpus documents to time (default 100)")
    parser.add_argument("--gold", type=Path, default=DEFAULT_DEV, help="gold spans JSONL for accuracy")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default=",".join(RUNTIMES), help=f"comma-separated subset of {RUNTIMES}")
    args = parser.parse_args(argv)

    from deid._offline import ensure_offline

    ensure_offline()
    import torch
    from corpora import long_documents

    from deid.ner.evaluate import load_gold
    from deid.ner.inference import native_bf16
    from deid.ner.metrics import ANY, score_documents

    torch.set_num_threads(args.threads)
    texts = [doc.text for doc in long_documents(500)[: args.docs]]
    chars = sum(len(t) for t in texts)
    gold = load_gold(args.gold) if args.gold.exists() else []
    print(
        f"runtimes: {args.docs} long docs ({chars:,} chars), {args.threads} threads, "
        f"torch {torch.__version__}, native bf16: {native_bf16()}, gold: {args.gold.name if gold else 'none'}",
        flush=True,
    )
    header = f"{'runtime':12s} {'load s':>7s} {'docs/s':>7s} {'chars/s':>9s} {'speed':>6s} {'ent F1':>7s} {'dF1 pt':>7s} {'leak':>7s}"
    print(header + "\n" + "-" * len(header), flush=True)
    base_speed = base_f1 = None
    with tempfile.TemporaryDirectory(prefix="deid-onnx-") as tmp:
        for runtime in [r.strip() for r in args.only.split(",") if r.strip()]:
            if runtime not in RUNTIMES:
                parser.error(f"unknown runtime {runtime!r}")
            if runtime.startswith("ort"):
                try:
                    import onnxruntime  # noqa: F401
                except ImportError:
                    print(
                        f"{runtime:12s} skipped: onnxruntime is not installed (pip install onnxruntime onnx)"
                    )
                    continue
            started = time.perf_counter()
            model = build(runtime, args.model, args.threads, Path(tmp))
            model.predict(texts[:4])  # warm-up (and the ONNX export, for ort rows)
            load = time.perf_counter() - started
            started = time.perf_counter()
            model.predict(texts)
            seconds = time.perf_counter() - started
            speed = args.docs / seconds
            base_speed = base_speed or speed
            f1_text = delta_text = leak_text = "-"
            if gold:
                predicted = model.predict([d.text for d in gold])
                scores = score_documents(
                    [d.text for d in gold],
                    [d.spans for d in gold],
                    [[(s.start, s.end, s.label) for s in doc] for doc in predicted],
                )
                f1 = scores.entity["overlap"][ANY].f_beta(1.0)
                base_f1 = f1 if base_f1 is None else base_f1
                f1_text, delta_text = f"{f1:.4f}", f"{100 * (f1 - base_f1):+.2f}"
                leak_text = f"{scores.leak_rate:.4f}"
            print(
                f"{runtime:12s} {load:7.1f} {speed:7.2f} {chars / seconds:9,.0f} {speed / base_speed:5.2f}x "
                f"{f1_text:>7s} {delta_text:>7s} {leak_text:>7s}",
                flush=True,
            )
    print("speed and dF1 are relative to the first row; F1 is entity-level (overlap), model alone.")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    sys.exit(main())

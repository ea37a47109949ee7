"""Match engine: resume x posting scores on torch, blocked, top-k both ways -> ``fact_match``.

score = w_cov * skill_coverage + w_sem * semantic_similarity + w_title * title_similarity
        + w_sen * seniority_fit + w_loc * location_fit, where
- skill_coverage: weighted share of the posting's skills that the resume covers. A skill weighs its IDF (rare
  skills weigh more), times ``PREFERRED_WEIGHT`` when the posting marks it preferred rather than required
  (``matching.requirements``); skills the posting names as a choice ("Python or Java") count as one requirement,
  weighing as much as their heaviest member and covered by the member the resume covers best
  (:func:`requirement_units`); the resume covers a skill it holds fully and a related one partly (soft coverage,
  ``matching.soft``: ESCO hierarchy and label similarity, always less than the skill itself), and a held skill
  counts its evidence strength: less when the resume only lists it or last used it long ago (``matching.evidence``);
- semantic_similarity: cosine of the document embeddings centred on the corpus mean, clipped to [0, 1];
- title_similarity: the same for the posting title and the resume headline (0 when the resume has none);
- seniority_fit, location_fit: ``matching.profile`` (years asked vs held; remote, same state / country).
The last three need the documents' profiles; without them (bare skill sets and embeddings) they are left out.
Candidate rows are processed in blocks so memory stays bounded; the full matrix is never kept.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from skillmatch.config import MatchWeights, Settings
from skillmatch.extraction.encoder import resolve_device
from skillmatch.extraction.stage import read_embeddings
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.matching.incremental import COMPONENTS
from skillmatch.matching.profile import Profiles

log = logging.getLogger(__name__)

MIN_SKILLS_FOR_FULL_COVERAGE = 3
PREFERRED_WEIGHT = 0.5  # a "nice to have" skill weighs half a required one
FACT_MATCH_COLUMNS = ["candidate_id", "posting_id", "score", *COMPONENTS, "required_coverage",
                      "rank_for_candidate", "rank_for_posting", "matched_skill_ids", "missing_skill_ids",
                      "partial_skill_ids", "matched_skills", "missing_skills", "missing_choices"]


def skill_idf(posting_skills: pd.DataFrame, n_postings: int) -> pd.Series:
    """Smoothed inverse document frequency of each skill over postings."""
    df = posting_skills.groupby("skill_id")["doc_id"].nunique()
    return np.log((1 + n_postings) / (1 + df)) + 1.0


def coverage_floor(idf: pd.Series) -> float:
    """Smallest coverage denominator: a posting naming one generic skill must not reach full coverage from that
    one skill, so the denominator is at least ``MIN_SKILLS_FOR_FULL_COVERAGE`` average skills' worth of weight."""
    return MIN_SKILLS_FOR_FULL_COVERAGE * float(idf.mean()) if len(idf) else 1.0


CENTER_MIN_DOCS = 200


def embedding_centre(post_emb: np.ndarray, cand_emb: np.ndarray) -> np.ndarray | None:
    """The common mean of both sets when there are >= ``CENTER_MIN_DOCS`` documents, else None.

    Raw MiniLM document vectors share a large common direction, so a few generic postings sit close to every
    resume ("hubs") and crowd everyone's top-k; removing the mean halves that effect (category agreement P@10
    0.104 -> 0.165 on the shared data). Small ad-hoc batches are left as they are: their mean is mostly signal.
    """
    if len(post_emb) + len(cand_emb) < CENTER_MIN_DOCS:
        return None
    return np.vstack([post_emb, cand_emb]).mean(0, dtype=np.float64).astype(np.float32)


def apply_centre(emb: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """``emb`` minus ``centre``, re-normalised (unchanged when there is no centre)."""
    if centre is None or len(emb) == 0:
        return emb
    y = emb - centre
    n = np.linalg.norm(y, axis=1, keepdims=True)
    return (y / np.where(n == 0, 1, n)).astype(np.float32)


def center_embeddings(post_emb: np.ndarray, cand_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets minus their common mean (see :func:`embedding_centre`), re-normalised."""
    centre = embedding_centre(post_emb, cand_emb)
    return apply_centre(post_emb, centre), apply_centre(cand_emb, centre)


def preferred_sets(posting_skills: pd.DataFrame) -> dict[str, set[str]]:
    """{posting: skills it marks preferred} from the facts' ``requirement`` column (none without it)."""
    if "requirement" not in posting_skills:
        return {}
    pref = posting_skills[posting_skills["requirement"] == "preferred"]
    return pref.groupby("doc_id")["skill_id"].apply(set).to_dict()


def alternative_sets(posting_skills: pd.DataFrame) -> dict[str, list[frozenset[str]]]:
    """{posting: its "any one of" groups of skills} from the facts' ``alternative_group`` column
    (``matching.requirements``; none without it)."""
    if "alternative_group" not in posting_skills:
        return {}
    grouped = posting_skills[posting_skills["alternative_group"].notna()]
    out: dict[str, list[frozenset[str]]] = {}
    for (doc, _), members in grouped.groupby(["doc_id", "alternative_group"])["skill_id"]:
        out.setdefault(doc, []).append(frozenset(members))
    return out


ANY_OF = "any-of:"  # the prefix of a group's key among the skill ids of the coverage product


def any_of_key(members: frozenset[str]) -> str:
    """The id a group of alternatives takes in the coverage product (the same group in two postings shares it)."""
    return ANY_OF + "|".join(sorted(members))


def member_group(alternatives: dict[str, list[frozenset[str]]], posting: str, skill: str) -> frozenset[str] | None:
    """The group of alternatives ``skill`` belongs to in ``posting`` (None: the posting asks for it on its own)."""
    return next((g for g in alternatives.get(posting, ()) if skill in g), None)


def skill_weight(idf: pd.Series, posting: str, skill: str, preferred: dict[str, set[str]],
                 alternatives: dict[str, list[frozenset[str]]] | None = None) -> float:
    """What one skill of one posting weighs in its coverage: IDF, less for a preferred skill; for a member of a
    group of alternatives, the group's weight (its heaviest member's)."""
    group = member_group(alternatives or {}, posting, skill)
    w = float(idf.get(skill, 0.0)) if group is None else max(float(idf.get(x, 0.0)) for x in group)
    return w * PREFERRED_WEIGHT if skill in preferred.get(posting, ()) else w


def coverage_weights(posting_skills: pd.DataFrame, n_postings: int | None = None) -> tuple[pd.Series, pd.Series]:
    """(idf per skill, coverage denominator per posting): the weight of a posting's skills (IDF, less for the
    preferred ones; a group of alternatives counts once, at its heaviest member's weight), at least
    :func:`coverage_floor` (what :func:`top_k_matches` divides by)."""
    ps = posting_skills.drop_duplicates(["doc_id", "skill_id"])
    idf = skill_idf(ps, n_postings if n_postings is not None else ps["doc_id"].nunique())
    factor = np.where(ps["requirement"] == "preferred", PREFERRED_WEIGHT, 1.0) if "requirement" in ps else 1.0
    unit = ps["skill_id"]
    if "alternative_group" in ps:
        unit = unit.where(ps["alternative_group"].isna(), ANY_OF + ps["alternative_group"].astype(str))
    w = ps.assign(w=ps["skill_id"].map(idf) * factor, unit=unit).groupby(["doc_id", "unit"])["w"].max()
    return idf, w.groupby(level="doc_id").sum().clip(lower=coverage_floor(idf))


def requirement_units(post_skills: dict[str, set[str]], preferred: dict[str, set[str]],
                      alternatives: dict[str, list[frozenset[str]]], idf: pd.Series,
                      cand_skills: dict[str, set[str]], credits: dict[str, dict[str, float]]):  # noqa: ANN201
    """(post_skills, preferred, idf, credits) with each group of alternatives in place of its members: one id per
    group (:func:`any_of_key`) that weighs its heaviest member's IDF, is preferred when its members are, and
    earns a candidate the best credit of a member (1 held, the evidence strength of a weakly shown held one, a
    soft credit for a related one). A posting without alternatives keeps its skills."""
    units, pref, extra, index = dict(post_skills), dict(preferred), {}, {}
    for p, groups in alternatives.items():
        if not groups:
            continue
        grouped = frozenset().union(*groups)
        own_pref = preferred.get(p, set())
        units[p] = set(post_skills.get(p, set())) - grouped
        pref[p] = set(own_pref) - grouped
        for g in groups:
            key = any_of_key(g)
            units[p].add(key)
            if g <= own_pref:
                pref[p].add(key)
            if key not in extra:
                extra[key] = max(float(idf.get(x, 0.0)) for x in g)
                for x in g:
                    index.setdefault(x, []).append(key)
    if not extra:
        return post_skills, preferred, idf, credits
    out_credits = dict(credits)
    for c in set(cand_skills) | set(credits):
        held, soft = cand_skills.get(c, set()), credits.get(c, {})
        best: dict[str, float] = {}
        for x in (held | set(soft)) & index.keys():
            v = soft.get(x, 1.0) if x in held else soft[x]
            for key in index[x]:
                best[key] = max(best.get(key, 0.0), v)
        if best:
            out_credits[c] = {**soft, **best}
    return units, pref, pd.concat([idf, pd.Series(extra, dtype=float)]), out_credits


def skill_matrices(cand_skills: dict[str, set[str]], post_skills: dict[str, set[str]], idf: pd.Series,
                   cand_ids: list[str], post_ids: list[str], preferred: dict[str, set[str]] | None = None,
                   credits: dict[str, dict[str, float]] | None = None,
                   alternatives: dict[str, list[frozenset[str]]] | None = None):  # noqa: ANN201 - (csr, csr, ndarray)
    """(candidate x skill credit, posting x skill weight, coverage denominator per posting), sparse. A candidate's
    credit is 1 for a skill they hold and their soft credit (< 1) for a related one; a posting's weight is the
    skill's IDF, times ``PREFERRED_WEIGHT`` for a preferred skill. Skills no posting asks for have no column.
    ``credits`` (``soft.candidate_credits``) also lowers the credit of a held skill the resume shows weakly. A
    group of ``alternatives`` is one column (:func:`requirement_units`)."""
    from scipy import sparse

    floor = coverage_floor(idf)
    preferred, credits = preferred or {}, credits or {}
    if alternatives:
        post_skills, preferred, idf, credits = requirement_units(post_skills, preferred, alternatives, idf,
                                                                 cand_skills, credits)
    vocab = {s: i for i, s in enumerate(sorted(set(idf.index)))}
    weight = idf.reindex(sorted(vocab)).to_numpy(dtype=np.float32)

    def csr(ids: list[str], skills: dict[str, set[str]], posting_side: bool):  # noqa: ANN202
        rows, cols, vals = [], [], []
        for r, x in enumerate(ids):
            pref = preferred.get(x, ()) if posting_side else ()
            entries = {sk: 1.0 for sk in skills.get(x, ())}
            if not posting_side:
                entries.update(credits.get(x, {}))  # soft credits, and a weakly shown held skill's strength
            for sk, v in entries.items():
                c = vocab.get(sk)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
                    vals.append(weight[c] * (PREFERRED_WEIGHT if sk in pref else 1.0) if posting_side else v)
        return sparse.csr_matrix((np.asarray(vals, dtype=np.float32),
                                  (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
                                 shape=(len(ids), len(vocab)), dtype=np.float32)

    r, w = csr(cand_ids, cand_skills, False), csr(post_ids, post_skills, True)
    total = np.asarray(w.sum(1)).ravel()
    denom = np.where(total > 0, np.maximum(total, floor), np.inf).astype(np.float32)
    return r, w, denom


ROW_GROUP = 32  # candidate rows per group in :class:`ColumnTopK`
CPU_BLOCK_CELLS = 16_000_000  # 64 MB per fp32 block matrix (one per score term, allocated once per run)
GPU_BLOCK_CELLS = 256_000_000  # 1 GB per block matrix: a 160-row block left an H100/H200 waiting on launches


CPU_CREDIT_CELLS = 4_000_000  # the block's skill credits (skills x rows) the CPU's sparse product reads from


def block_rows(n_cols: int, budget_cells: int = CPU_BLOCK_CELLS, n_skills: int = 0, credit_cells: int = 0) -> int:
    """Candidate rows per block so that one block's score matrix stays within ``budget_cells`` cells and, with
    ``credit_cells``, its skill credits (``n_skills`` x rows) within that many: the sparse coverage product reads a
    credit row per posting skill, and beyond the caches it slowed down per cell (real skill law, 10k postings: 7 ns
    at 1,600 rows, 4.7 at 400, 3.7 at 160). A multiple of ``ROW_GROUP`` when there is room for one (the postings'
    top-k reads a block by groups of rows)."""
    rows = max(1, budget_cells // max(n_cols, 1))
    if credit_cells and n_skills:
        rows = min(rows, max(ROW_GROUP, credit_cells // n_skills))
    return rows // ROW_GROUP * ROW_GROUP if rows >= ROW_GROUP else rows


def engine_block_rows(n_cols: int, n_skills: int, device: str) -> int:
    """The candidate rows :func:`topk_both_ways` scores per block by default on ``device``: within
    :func:`block_cells` per matrix and, on the CPU, ``CPU_CREDIT_CELLS`` of skill credits."""
    cpu = not str(device).startswith("cuda")
    return block_rows(n_cols, block_cells(device), n_skills, CPU_CREDIT_CELLS if cpu else 0)


def block_cells(device: str) -> int:
    """Cells one block matrix may hold on ``device`` (a block has one for the score and one per term): the CPU
    budget, or on CUDA a sixteenth of the free device memory, at most ``GPU_BLOCK_CELLS``."""
    if not str(device).startswith("cuda"):
        return CPU_BLOCK_CELLS
    import torch

    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return int(max(CPU_BLOCK_CELLS, min(GPU_BLOCK_CELLS, free // (4 * 16))))


HEAD_SKILLS = 128


@lru_cache(maxsize=1)
def pin_mmap_threshold(threshold: int = 128 * 1024) -> bool:
    """Fix glibc's mmap threshold for this process, so the block loop's large temporaries go back to the system.

    glibc raises the threshold each time a large mmapped block is freed; after that, the per-block score matrices
    come from the heap, and its fragmentation grew the resident memory by ~20 MB per block (1.8 -> 4.7 GB over
    150 blocks of 20k x 100k); with the threshold fixed it stays flat (0.9 GB). Same as starting the process with
    ``MALLOC_MMAP_THRESHOLD_``; a no-op off glibc. Returns whether it was applied.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, threshold))  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class DenseTerm:
    """``weight * clip(cand[i] . post[j], 0, 1)``: a similarity of two embeddings (one GEMM per block)."""

    name: str
    weight: float
    cand: np.ndarray
    post: np.ndarray


@dataclass(frozen=True)
class LookupTerm:
    """``weight * table[cand_code[i], post_code[j]]``: a pair function of the few distinct values each side
    takes (years of experience, places), tabulated once and gathered per block."""

    name: str
    weight: float
    cand_code: np.ndarray
    post_code: np.ndarray
    table: np.ndarray


class ColumnTopK:
    """Running top-k of every posting over blocks of candidates, best first.

    A block arrives posting-major (``n_postings x rows``). ``torch.topk`` over each posting's row of the block
    costs about as much as the block's GEMM (one small selection per posting), and so does comparing every cell
    with a threshold and listing the hits; instead each posting keeps a threshold, its current k-th best score,
    the block's rows are cut into groups of ``ROW_GROUP`` candidates, and only the groups whose maximum beats the
    threshold are read again (after the first blocks, a few per posting): their entries above it collect in a
    pool that is cut back to each posting's k best, and the thresholds raised, once it holds ``pool_factor`` x k
    entries per posting. The first block seeds the thresholds with the k-th largest group maximum of each posting
    (k groups hold an entry at least that large). Exact up to ties at the threshold (an entry equal to the k-th
    best is not taken)."""

    def __init__(self, n_cols: int, k: int, device: str, pool_factor: int = 2) -> None:
        import torch

        self.n, self.k, self.device = n_cols, k, device
        self.thr = torch.full((n_cols,), -math.inf, device=device)
        self.limit = pool_factor * k * max(n_cols, 1)
        self.pool: list[tuple] = []  # (score, row, col, part values...) of entries above their threshold
        self.size = 0

    def add(self, score, row0: int, parts: list) -> None:  # noqa: ANN001 - torch tensors (n_cols x block)
        import torch

        rows = score.shape[1]
        first = self.size == 0 and not self.pool
        if first and (rows < 2 * self.k * ROW_GROUP or rows % ROW_GROUP):  # the block's own top-k seeds the pool
            k = min(self.k, rows)
            s, r = torch.topk(score, k=k, dim=1)
            c = torch.arange(self.n, device=score.device).unsqueeze(1).expand(-1, k)
            self.pool.append((s.reshape(-1), (r + row0).reshape(-1), c.reshape(-1),
                              *(p.gather(1, r).reshape(-1) for p in parts)))
            self.size = s.numel()
            self._prune()
            return
        if rows % ROW_GROUP:  # a short last block: compare its cells (see :func:`block_rows`)
            cols = (score.amax(1) > self.thr).nonzero().squeeze(1)  # postings this block improves
            if 4 * len(cols) > self.n:  # most of them: compare the whole block
                c, r = (score > self.thr.unsqueeze(1)).nonzero(as_tuple=True)
            else:  # a few: only their rows
                j, r = (score.index_select(0, cols) > self.thr.index_select(0, cols).unsqueeze(1)).nonzero(
                    as_tuple=True)
                c = cols[j]
            vals = score[c, r]
        else:
            groups = rows // ROW_GROUP
            gmax = score.view(self.n, groups, ROW_GROUP).amax(2)
            if first:  # k groups hold an entry >= their k-th largest maximum: seed with everything from there up
                kth = torch.topk(gmax, k=self.k, dim=1).values[:, -1]
                self.thr.copy_(torch.nextafter(kth, torch.full_like(kth, -math.inf)))
            c, g = (gmax > self.thr.unsqueeze(1)).nonzero(as_tuple=True)  # the groups worth reading again
            chunk = score.view(-1, ROW_GROUP).index_select(0, c * groups + g)  # their entries, a row each
            j, o = (chunk > self.thr[c].unsqueeze(1)).nonzero(as_tuple=True)
            c, r, vals = c[j], g[j] * ROW_GROUP + o, chunk[j, o]
        if not len(c):
            return
        at = c * rows + r
        self.pool.append((vals, r + row0, c, *(p.reshape(-1).take(at) for p in parts)))
        self.size += len(r)
        if self.size > self.limit:
            self._prune()

    def _prune(self) -> None:
        """Cut the pool back to each column's k best and raise the thresholds."""
        import torch

        cols = [torch.cat(x) for x in zip(*self.pool)] if len(self.pool) > 1 else list(self.pool[0])
        s, c = cols[0], cols[2]
        # one integer sort by (column, score descending): a float32's bits, read as an integer, order like it
        bits = s.float().contiguous().view(torch.int32).to(torch.int64)
        bits = torch.where(bits >= 0, bits, bits ^ 0x7FFFFFFF)
        order = torch.sort(c.to(torch.int64) * 2**32 + (2**31 - 1 - bits)).indices
        c_sorted = c.index_select(0, order)  # index_select rather than x[idx]: a plain gather, several times faster
        counts = torch.bincount(c_sorted, minlength=self.n)
        rank = torch.arange(len(order), device=s.device) - (torch.cumsum(counts, 0) - counts).index_select(0, c_sorted)
        keep = (rank < self.k).nonzero().squeeze(1)
        order, rank, c_sorted = order.index_select(0, keep), rank.index_select(0, keep), c_sorted.index_select(0, keep)
        self.pool = [tuple(x.index_select(0, order) for x in cols)]
        self.size = len(order)
        full = (rank == self.k - 1).nonzero().squeeze(1)
        self.thr.index_copy_(0, c_sorted.index_select(0, full), self.pool[0][0].index_select(0, full))
        self._rank = rank

    def result(self, k: int) -> list:
        """(score, row, part values...) each ``k x n_cols``, best first (every column must have k entries)."""
        import torch

        self._prune()
        s, r, c, *parts = self.pool[0]
        rank = self._rank
        if len(s) != k * self.n:
            raise RuntimeError(f"column top-k: {len(s)} entries for {self.n} columns x {k}")
        out = []
        for x, fill in [(s, 0.0), (r, 0), *((p, 0.0) for p in parts)]:
            t = torch.full((k, self.n), fill, dtype=x.dtype, device=x.device)
            t[rank, c] = x
            out.append(t)
        return out


GROUP = 64  # postings per group in :func:`top_k_down` at most (the score matrix's rows are whole groups of it)


def down_group(rows: int) -> int:
    """Postings per group for :func:`top_k_down` on a block of ``rows`` candidates: the k best groups' entries it
    gathers (k x group x rows, strided) cost more than a finer cut's extra maxima once a block is wide (at 1,600
    rows 8 postings per group take 14 ms, 64 take 24 ms; at 160 rows 32 or 64 take 5 ms, 8 take 9 ms)."""
    return int(min(GROUP, max(8, 2 ** round(math.log2(max(5120 / max(rows, 1), 1))))))


def top_k_down(score, k: int, group: int = GROUP):  # noqa: ANN001, ANN201 - torch (n x cols) -> (k x cols) twice
    """The k largest entries of each column of ``score`` (n x cols, contiguous) and their row indices, best first.

    Same as ``torch.topk(score, k, dim=0)``, up to the order of ties, which on the CPU strides down the long columns
    (45 ms for 100k postings x 160 candidates); here two short passes (3 ms). The rows are cut into groups of
    ``group``: a column's k best entries lie in the k groups with the largest maxima (those k groups each hold an
    entry at least the k-th largest maximum, so the k best are all at least that, and any other group holds nothing
    above it), so only those groups are gathered and ranked. ``n`` must be a multiple of ``group`` (pad with -inf
    rows), else, or with fewer than 4 k groups, it is ``torch.topk``."""
    import torch

    n, cols = score.shape
    if n % group or n < 4 * k * group:
        return torch.topk(score, k=k, dim=0)
    v = score.view(n // group, group, cols)
    groups = torch.topk(v.amax(1), k=k, dim=0).indices  # k x cols: the groups that hold each column's k best
    sub = v.gather(0, groups.unsqueeze(1).expand(k, group, cols)).reshape(k * group, cols)
    s, pos = torch.topk(sub, k=k, dim=0)
    return s, groups.gather(0, torch.div(pos, group, rounding_mode="floor")) * group + pos % group


def topk_both_ways(cand_skill, post_weight, denom: np.ndarray, cand_emb: np.ndarray, post_emb: np.ndarray,  # noqa: ANN001
                   k_c: int, k_p: int, w_cov: float, w_sem: float, device: str = "cpu",
                   block: int | None = None, head_skills: int | None = None,
                   terms: tuple[DenseTerm | LookupTerm, ...] = ()) -> dict[str, np.ndarray]:
    """Blocked top-k both ways of ``w_cov * coverage + w_sem * clip(cos, 0, 1) + sum(terms)``, on torch.

    One block of candidate rows (``block`` rows; by default as many as fit :func:`block_cells` per matrix) is
    scored at a time against all postings, posting-major (postings x rows), into matrices allocated once per run
    (fresh ones per block cost a page fault per 4 kB):
    - coverage[i, j] = (cand_skill[i] . post_weight[j]) / denom[j]: the postings' weights, a sparse CSR matrix on
      the device, times the block's skill credits as a dense skills x rows matrix (MKL on the CPU, cuSPARSE on
      CUDA). On CUDA the ``head_skills`` skills most postings ask for (most of the non-zeros) go to a dense product
      on the tensor cores instead; on the CPU (``head_skills`` 0 by default) the sparse product of all is cheaper;
    - each dense term, the semantic similarity first: one GEMM, clipped; each lookup term: two index_selects;
    - the candidates' top-k: :func:`top_k_down`; the postings' running top-k: :class:`ColumnTopK`, which takes from
      each block only the entries above each posting's current k-th best.
    Returns, for the candidate side, ``c_idx/c_score/c_cov/c_sem`` and ``c_<term name>`` (n_cand x k_c, best
    first) and for the posting side the same with ``p_`` (k_p x n_post, best first, candidate indices); components
    unweighted.
    """
    import torch
    from scipy import sparse

    pin_mmap_threshold()
    n_c, n_p = cand_skill.shape[0], post_weight.shape[0]
    k_c, k_p = min(k_c, n_p), min(k_p, n_c)
    terms = tuple(t for t in terms if t.weight > 0)
    block = block or engine_block_rows(n_p, post_weight.shape[1], device)
    if head_skills is None:
        head_skills = HEAD_SKILLS if str(device).startswith("cuda") else 0

    def to_dev(a: np.ndarray, dtype=np.float32):  # noqa: ANN001, ANN202
        return torch.from_numpy(np.ascontiguousarray(a, dtype=dtype)).to(device)

    # the coverage denominator and the weight w_cov folded into the posting rows; skills reordered head first
    inv = np.where(np.isfinite(denom), w_cov / denom, 0.0)
    scaled = sparse.csr_matrix(sparse.diags(inv) @ post_weight, dtype=np.float32)
    df = np.asarray((scaled > 0).sum(0)).ravel()
    head = np.sort(np.argsort(-df, kind="stable")[:min(head_skills, len(df))])
    order = np.concatenate([head, np.setdiff1d(np.arange(len(df)), head)]).astype(np.int64)
    n_head, n_skills = len(head), len(order)
    scaled = scaled[:, order].tocsr()
    cand_skill = sparse.csr_matrix(cand_skill, dtype=np.float32)[:, order].tocsr()
    head_p = to_dev(scaled[:, :n_head].toarray()) if n_head else None  # n_p x n_head, dense
    tail_p = _csr_to_torch(scaled[:, n_head:].tocsr(), device) if n_head < n_skills else None  # n_p x rest, CSR

    dense = [DenseTerm("sem", w_sem, cand_emb, post_emb)] + [t for t in terms if isinstance(t, DenseTerm)]
    post_dense = [to_dev(t.post) * t.weight for t in dense]  # n_p x dim
    lookups = [t for t in terms if isinstance(t, LookupTerm)]
    lk_post = [to_dev(t.post_code, np.int64) for t in lookups]
    lk_table = [(to_dev(t.table) * t.weight).T.contiguous() for t in lookups]  # post codes x cand codes
    names = [t.name for t in dense] + [t.name for t in lookups]
    n_pad = -(-n_p // GROUP) * GROUP  # the score matrix's rows: whole groups for top_k_down, the pad at -inf
    block = min(block, n_c)
    # the score matrix and one per term (posting-major), and the block's skill credits (skills x rows): allocated
    # once, a shorter last block takes the front of each as a contiguous view
    store = [torch.empty((n_pad if m == 0 else n_p) * block, device=device) for m in range(1 + len(names))]
    credit_store = torch.zeros(n_skills * block, device=device)
    group = GROUP if str(device).startswith("cuda") else down_group(block)  # measured on the CPU only
    c_out = {n: [] for n in ("idx", "score", *names)}
    best = ColumnTopK(n_p, k_p, device)  # running posting-side top-k
    with torch.inference_mode():
        for b in range(0, n_c, block):
            e = min(b + block, n_c)
            mats = [m[: (n_pad if i == 0 else n_p) * (e - b)].view(-1, e - b) for i, m in enumerate(store)]
            mats[0][n_p:] = -math.inf
            credit = credit_store[: n_skills * (e - b)].view(n_skills, e - b)  # all zero between blocks
            score, parts = mats[0][:n_p], mats[1:]
            blk = cand_skill[b:e].tocoo()
            at = (to_dev(blk.col, np.int64), to_dev(blk.row, np.int64))
            credit[at] = to_dev(blk.data)
            if head_p is not None:  # w_cov * coverage
                torch.mm(head_p, credit[:n_head], out=score)
            if tail_p is not None:
                torch.addmm(score, tail_p, credit[n_head:], beta=0.0 if head_p is None else 1.0, out=score)
            if head_p is None and tail_p is None:
                score.zero_()
            credit[at] = 0.0  # zero again for the next block
            for t, pw, out in zip(dense, post_dense, parts):  # w * clip(cos, 0, 1)
                torch.mm(pw, to_dev(t.cand[b:e]).T, out=out).clamp_(0, t.weight)
            for t, pc, tab, out in zip(lookups, lk_post, lk_table, parts[len(dense):]):  # w * table[cand, post]
                torch.index_select(tab.index_select(1, to_dev(t.cand_code[b:e], np.int64)), 0, pc, out=out)
            for part in parts:
                score.add_(part)
            s, i = top_k_down(mats[0], k_c, group)  # k_c x rows
            for n, v in zip(("idx", "score", *names), (i, s, *(part.gather(0, i) for part in parts))):
                c_out[n].append(v.T.cpu())
            best.add(score, b, parts)
    out = {f"c_{n}": torch.cat(v).numpy() for n, v in c_out.items()}
    out.update({f"p_{n}": v.cpu().numpy() for n, v in zip(("score", "idx", *names), best.result(k_p))})
    weights = {t.name: t.weight for t in dense + lookups}
    for side in ("c", "p"):  # the components back from their weighted forms
        rest = out[f"{side}_score"].copy()
        for n in names:
            rest -= out[f"{side}_{n}"]
            out[f"{side}_{n}"] = out[f"{side}_{n}"] / weights[n] if weights[n] else np.zeros_like(rest)
        out[f"{side}_cov"] = rest / w_cov if w_cov else np.zeros_like(rest)
    return out


def _csr_to_torch(m, device: str):  # noqa: ANN001, ANN202 - scipy CSR in, torch sparse CSR out
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype(np.int64)),
                                       torch.from_numpy(m.indices.astype(np.int64)),
                                       torch.from_numpy(m.data.astype(np.float32)), size=m.shape,
                                       check_invariants=False).to(device)


def profile_terms(cand: Profiles, post: Profiles, weights: MatchWeights) -> tuple[DenseTerm | LookupTerm, ...]:
    """The title, seniority and location terms of two sides' profiles (``matching.profile``), aligned with them."""
    from skillmatch.matching.profile import location_fit, seniority_fit

    terms: list[DenseTerm | LookupTerm] = []
    if weights.title and cand.title_emb.shape[1] and cand.title_emb.shape[1] == post.title_emb.shape[1]:
        terms.append(DenseTerm("title", weights.title, cand.title_emb, post.title_emb))
    if weights.seniority:
        years = cand.frame["years_min"].to_numpy(dtype=float)
        c_code = np.where(np.isnan(years), MAX_YEARS + 1, np.clip(np.round(np.nan_to_num(years)), 0, MAX_YEARS))
        req, p_code = np.unique(post.frame[["years_min", "years_max"]].to_numpy(dtype=float), axis=0,
                                return_inverse=True)
        held = [float(y) for y in range(MAX_YEARS + 1)] + [math.nan]
        table = np.array([[seniority_fit(y, lo, hi) for lo, hi in req] for y in held], dtype=np.float32)
        terms.append(LookupTerm("seniority", weights.seniority, c_code.astype(np.int64), p_code.ravel(), table))
    if weights.location:
        c_vals, c_code = _codes(list(cand.frame["places"]))
        p_vals, p_code = _codes([(bool(r) if isinstance(r, (bool, np.bool_)) else None, pl)
                                 for r, pl in zip(post.frame["remote"], post.frame["places"])])
        table = np.array([[location_fit(c, r, pl) for r, pl in p_vals] for c in c_vals], dtype=np.float32)
        terms.append(LookupTerm("location", weights.location, c_code, p_code, table))
    return tuple(terms)


MAX_YEARS = 40  # candidate years are tabulated per whole year up to this (more counts as this)


def _codes(values: list) -> tuple[list, np.ndarray]:
    """(distinct values, the code of each value): values need only be hashable."""
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))
    return list(index), codes


def top_k_matches(cand_skills: dict[str, set[str]], post_skills: dict[str, set[str]], idf: pd.Series,
                  cand_emb: np.ndarray, post_emb: np.ndarray, cand_ids: list[str], post_ids: list[str],
                  settings: Settings, block: int | None = None, preferred: dict[str, set[str]] | None = None,
                  credits: dict[str, dict[str, float]] | None = None, cand_prof: Profiles | None = None,
                  post_prof: Profiles | None = None,
                  alternatives: dict[str, list[frozenset[str]]] | None = None) -> pd.DataFrame:
    """Top-k postings per candidate and top-k candidates per posting, with score components. With both sides'
    profiles (title embeddings already centred), the title, seniority and location components count too;
    ``alternatives`` (:func:`alternative_sets`) groups the skills a posting names as a choice."""
    r, w, denom = skill_matrices(cand_skills, post_skills, idf, cand_ids, post_ids, preferred, credits,
                                 alternatives)
    weights = settings.weights
    terms = () if cand_prof is None or post_prof is None else \
        profile_terms(cand_prof.take(cand_ids), post_prof.take(post_ids), weights)
    t = topk_both_ways(r, w, denom, cand_emb, post_emb, settings.top_k, settings.top_k,
                       weights.skill_coverage, weights.semantic, resolve_device(settings.device), block,
                       terms=terms)
    k_c, k_p = t["c_idx"].shape[1], t["p_idx"].shape[0]
    parts = {"cov": "skill_coverage", "sem": "semantic_similarity",
             **{n: c for n, c in (("title", "title_similarity"), ("seniority", "seniority_fit"),
                                  ("location", "location_fit")) if f"c_{n}" in t}}
    by_cand = pd.DataFrame({"ci": np.repeat(np.arange(len(cand_ids)), k_c), "pj": t["c_idx"].ravel(),
                            "score": t["c_score"].ravel(), **{n: t[f"c_{n}"].ravel() for n in parts},
                            "rank_for_candidate": np.tile(np.arange(1, k_c + 1), len(cand_ids))})
    by_post = pd.DataFrame({"ci": t["p_idx"].T.ravel(), "pj": np.repeat(np.arange(len(post_ids)), k_p),
                            "score": t["p_score"].T.ravel(), **{n: t[f"p_{n}"].T.ravel() for n in parts},
                            "rank_for_posting": np.tile(np.arange(1, k_p + 1), len(post_ids))})
    out = by_cand.merge(by_post, on=["ci", "pj"], how="outer", suffixes=("", "_p"))
    for c in ("score", *parts):
        out[c] = out[c].fillna(out[f"{c}_p"])
    if out.empty:
        return pd.DataFrame(columns=FACT_MATCH_COLUMNS)
    frame = pd.DataFrame({"candidate_id": np.asarray(cand_ids, dtype=object)[out["ci"].to_numpy()],
                          "posting_id": np.asarray(post_ids, dtype=object)[out["pj"].to_numpy()],
                          "score": out["score"].astype(float).round(6)})
    for n in COMPONENTS:
        src = next((k for k, v in parts.items() if v == n), None)
        frame[n] = out[src].astype(float).round(6).to_numpy() if src else np.nan
    frame["rank_for_candidate"] = out["rank_for_candidate"].astype("Int64").to_numpy()
    frame["rank_for_posting"] = out["rank_for_posting"].astype("Int64").to_numpy()
    return frame


def with_skill_lists(pairs: pd.DataFrame, cand_skills: dict[str, set[str]], post_skills: dict[str, set[str]],
                     idf: pd.Series, labels: dict[str, str], preferred: dict[str, set[str]] | None = None,
                     credits: dict[str, dict[str, float]] | None = None,
                     alternatives: dict[str, list[frozenset[str]]] | None = None) -> pd.DataFrame:
    """``fact_match`` rows: the scored pairs plus matched / missing skills (missing: required ones first), rarest
    first (highest IDF), then by label; the missing skills a related held skill partly covers; and the share of
    the posting's required skills the candidate holds. A group of ``alternatives`` is one requirement: held when
    any member is, and then none of its other members is missing; ``missing_choices`` lists the labels of each
    group the candidate meets no member of ("any one of these")."""
    preferred, credits, alternatives = preferred or {}, credits or {}, alternatives or {}

    def ordered(ids: set[str], pref: set[str] = frozenset()) -> list[str]:  # noqa: B006 - read only
        return sorted(ids, key=lambda s: (s in pref, -float(idf.get(s, 0.0)), labels.get(s, s)))

    fm = pairs.copy()
    matched, missing, partial, required_cov, choices = [], [], [], [], []
    for c, p in zip(fm["candidate_id"], fm["posting_id"]):
        have, need, pref = cand_skills.get(c, set()), post_skills.get(p, set()), preferred.get(p, set())
        groups = alternatives.get(p, ())
        met = [g for g in groups if g & have]
        matched.append(ordered(need & have))
        gap = ordered(need - have - frozenset().union(*met), pref)
        missing.append(gap)
        soft = credits.get(c, {})
        partial.append([s for s in gap if s in soft])
        grouped = frozenset().union(*groups)
        required = [{s} for s in need - pref - grouped] + [g for g in groups if not g <= pref]
        required_cov.append(round(sum(bool(g & have) for g in required) / len(required), 6) if required else None)
        choices.append(sorted(sorted(labels.get(s, s) for s in g) for g in groups if not g & have))
    fm["matched_skill_ids"], fm["missing_skill_ids"], fm["partial_skill_ids"] = matched, missing, partial
    fm["required_coverage"] = pd.array(required_cov, dtype="Float64")
    fm["matched_skills"] = [[labels.get(s, s) for s in m] for m in matched]
    fm["missing_skills"] = [[labels.get(s, s) for s in m] for m in missing]
    fm["missing_choices"] = choices
    for c in COMPONENTS:  # a component not computed (no profiles) stays null
        if c not in fm:
            fm[c] = np.nan
    return fm[FACT_MATCH_COLUMNS].sort_values(["candidate_id", "score"], ascending=[True, False]).reset_index(drop=True)


def _skill_sets(facts: pd.DataFrame) -> dict[str, set[str]]:
    return facts.groupby("doc_id")["skill_id"].apply(set).to_dict()


def match_frames(posting_skills: pd.DataFrame, candidate_skills: pd.DataFrame, post_ids: list[str],
                 post_emb: np.ndarray, cand_ids: list[str], cand_emb: np.ndarray, labels: dict[str, str],
                 settings: Settings, model=None,  # noqa: ANN001 - incremental.ScoringModel
                 relations: pd.DataFrame | None = None, post_prof: Profiles | None = None,
                 cand_prof: Profiles | None = None, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """``fact_match`` rows from skill facts (doc_id, skill_id, optional requirement) and document embeddings (pure
    function), scored with ``model`` (fitted on these inputs when not given), the soft-coverage ``relations``
    (``matching.soft``; none: exact coverage only), the profiles (``matching.profile``; none: no title,
    seniority and location components) and the resume skill ``evidence`` (``matching.evidence``; none: every
    held skill counts fully)."""
    from skillmatch.matching.incremental import fit_scoring_model

    if not post_ids or not cand_ids:
        raise ValueError(f"nothing to match: {len(post_ids)} postings, {len(cand_ids)} candidates")
    from skillmatch.matching.evidence import strengths
    from skillmatch.matching.soft import candidate_credits

    model = model or fit_scoring_model(posting_skills, post_emb, cand_emb, post_prof, cand_prof)
    post_skills, cand_skills = _skill_sets(posting_skills), _skill_sets(candidate_skills)
    preferred, alternatives = preferred_sets(posting_skills), alternative_sets(posting_skills)
    credits = candidate_credits(cand_skills, relations, strengths(evidence))
    profiles = {} if post_prof is None or cand_prof is None else \
        {"cand_prof": model.centred_titles(cand_prof), "post_prof": model.centred_titles(post_prof)}
    pairs = top_k_matches(cand_skills, post_skills, model.idf, model.centred(cand_emb), model.centred(post_emb),
                          cand_ids, post_ids, settings, preferred=preferred, credits=credits,
                          alternatives=alternatives, **profiles)
    return with_skill_lists(pairs, cand_skills, post_skills, model.idf, labels, preferred, credits, alternatives)


@dataclass
class MatchInputs:
    """What a match run reads from the lake, prepared for :func:`top_k_matches`."""

    ps: pd.DataFrame  # posting skill facts with their requirement
    post_ids: list[str]
    post_emb: np.ndarray
    cand_ids: list[str]
    cand_emb: np.ndarray
    labels: dict[str, str]
    post_skills: dict[str, set[str]]
    cand_skills: dict[str, set[str]]
    preferred: dict[str, set[str]]
    credits: dict[str, dict[str, float]]
    post_prof: Profiles
    cand_prof: Profiles
    alternatives: dict[str, list[frozenset[str]]]


def lake_match_inputs(settings: Settings, prepared: bool = False) -> MatchInputs:
    """Read and prepare the match inputs from the lake. Writes the posting skill requirements
    (``gold/posting_skill_requirement.parquet``), the resume skill evidence
    (``gold/candidate_skill_evidence.parquet``) and the title embeddings (``gold/title_embedding.parquet``) on the
    way; ``prepared`` reads the three as a previous call of this run wrote them (the match shards and merge)."""
    from skillmatch.matching.evidence import candidate_evidence, strengths
    from skillmatch.matching.requirements import posting_requirements
    from skillmatch.matching.soft import candidate_credits, load_relations

    silver = read_parquet(settings.lake("silver", "postings.parquet"),
                          columns=["posting_id", "text", "title", "seniority", "location", "remote"])
    resumes = read_parquet(settings.lake("silver", "resumes.parquet"),
                           columns=["candidate_id", "text", "years_experience"])
    req_file, ev_file = (settings.lake("gold", "posting_skill_requirement.parquet"),
                         settings.lake("gold", "candidate_skill_evidence.parquet"))
    if prepared:
        ps, evidence = read_parquet(req_file), read_parquet(ev_file)
        cs = read_parquet(settings.lake("gold", "fact_candidate_skill.parquet"), columns=["doc_id", "skill_id"])
    else:
        facts = read_parquet(settings.lake("gold", "fact_posting_skill.parquet"))
        ps = posting_requirements(silver, facts)
        write_parquet_atomic(ps, req_file)
        cs = read_parquet(settings.lake("gold", "fact_candidate_skill.parquet"))
        evidence = candidate_evidence(resumes, cs)
        write_parquet_atomic(evidence, ev_file)
    post_ids, post_emb = read_embeddings(settings, "postings")
    cand_ids, cand_emb = read_embeddings(settings, "resumes")
    if not post_ids or not cand_ids:
        raise ValueError(f"nothing to match: {len(post_ids)} postings, {len(cand_ids)} candidates")
    dim = read_parquet(settings.lake("taxonomy", "dim_skill.parquet"), columns=["skill_id", "preferred_label"])
    post_skills, cand_skills = _skill_sets(ps), _skill_sets(cs)
    post_prof, cand_prof = document_profiles(settings, silver, resumes, update_cache=not prepared)
    return MatchInputs(ps, post_ids, post_emb, cand_ids, cand_emb, dict(zip(dim["skill_id"], dim["preferred_label"])),
                       post_skills, cand_skills, preferred_sets(ps),
                       candidate_credits(cand_skills, load_relations(settings), strengths(evidence)),
                       post_prof, cand_prof, alternative_sets(ps))


def match_fingerprints(inp: MatchInputs) -> tuple[pd.Series, pd.Series]:
    """(candidate, posting) fingerprints of what each document's scores depend on (``incremental.fingerprints``):
    a candidate's skills, soft credits and evidence strengths, profile and embedding; a posting's skills, which
    of them are preferred or alternatives, profile and embedding. A change in any of them rescores the document."""
    from skillmatch.matching import incremental as inc
    from skillmatch.matching.profile import profile_fingerprint

    fp_c = inc.fingerprints(inp.cand_ids, {c: inp.cand_skills.get(c, set()) | {f"soft:{x}:{v}" for x, v in
                                                                                inp.credits.get(c, {}).items()}
                                           | {f"profile:{profile_fingerprint(inp.cand_prof.frame, c)}"}
                                           for c in inp.cand_ids}, inp.cand_emb)
    fp_p = inc.fingerprints(inp.post_ids, {p: inp.post_skills.get(p, set())
                                           | {f"preferred:{x}" for x in inp.preferred.get(p, ())}
                                           | {any_of_key(g) for g in inp.alternatives.get(p, ())}
                                           | {f"profile:{profile_fingerprint(inp.post_prof.frame, p)}"}
                                           for p in inp.post_ids}, inp.post_emb)
    return fp_c, fp_p


def inputs_digest(fp_c: pd.Series, fp_p: pd.Series) -> str:
    """One hash of every document's fingerprint: whether two steps of a run saw the same inputs."""
    import hashlib

    h = hashlib.sha256()
    for fp in (fp_c, fp_p):
        h.update("\n".join(f"{d}\t{f}" for d, f in fp.items()).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def score_candidates(inp: MatchInputs, model, c_ids: list[str], settings: Settings,  # noqa: ANN001 - ScoringModel
                     p_ids: list[str] | None = None) -> pd.DataFrame:
    """Top-k both ways (``top_k_matches``) of candidates ``c_ids`` x postings ``p_ids`` (default: all), scored
    with ``model``."""
    c_row, p_row = {d: i for i, d in enumerate(inp.cand_ids)}, {d: i for i, d in enumerate(inp.post_ids)}
    p_ids = inp.post_ids if p_ids is None else p_ids
    ce = model.centred(inp.cand_emb[[c_row[d] for d in c_ids]] if c_ids != inp.cand_ids else inp.cand_emb)
    pe = model.centred(inp.post_emb[[p_row[d] for d in p_ids]] if p_ids != inp.post_ids else inp.post_emb)
    return top_k_matches(inp.cand_skills, inp.post_skills, model.idf, ce, pe, c_ids, p_ids, settings,
                         preferred=inp.preferred, credits=inp.credits, alternatives=inp.alternatives,
                         cand_prof=model.centred_titles(inp.cand_prof.take(c_ids)),  # only the rows scored here
                         post_prof=model.centred_titles(inp.post_prof.take(p_ids)))


def compute_matches(settings: Settings, prepared: bool = False, merged: tuple | None = None,
                    expect_digest: str | None = None) -> dict[str, int]:
    """Build ``fact_match`` (and ``fact_assignment``) from the extracted skills and embeddings in the lake:
    incrementally when the previous run's state allows it (``matching.incremental``), else in full.

    The sharded nightly DAG (``matching.shards``) calls it with ``prepared`` (inputs as its plan step wrote them),
    ``merged`` = (pairs, model, reason) of a full recompute its shards scored, and the plan's ``expect_digest``
    (:func:`inputs_digest`): the inputs must not have changed under the run."""
    from skillmatch.matching import incremental as inc

    inp = lake_match_inputs(settings, prepared)
    fp_c, fp_p = match_fingerprints(inp)
    if expect_digest is not None and inputs_digest(fp_c, fp_p) != expect_digest:
        raise RuntimeError("match: the skills, embeddings or profiles changed since this run planned its shards; "
                           "re-run the DAG")
    state = settings.lake("gold", "match_state")
    if merged is not None:
        pairs, model, reason = merged
        plan = inc.RunPlan(True, reason)
    else:
        plan = inc.plan_run(state, settings.lake("gold", "fact_match.parquet"), fp_c, fp_p, settings)
        if plan.full:
            model = inc.fit_scoring_model(inp.ps, inp.post_emb, inp.cand_emb, inp.post_prof, inp.cand_prof)
            pairs = score_candidates(inp, model, inp.cand_ids, settings)
        else:
            model = plan.model
            pairs = inc.incremental_pairs(plan.previous, plan.delta,
                                          lambda c_sub, p_sub: score_candidates(inp, model, c_sub, settings, p_sub),
                                          inp.cand_ids, inp.post_ids, settings.top_k)
    fm = with_skill_lists(pairs, inp.cand_skills, inp.post_skills, model.idf, inp.labels, inp.preferred, inp.credits,
                          inp.alternatives)
    write_parquet_atomic(fm, settings.lake("gold", "fact_match.parquet"))
    inc.save_state(state, model, fp_c, fp_p, settings, refit=plan.full)
    assignment = optimal_assignment(fm)
    write_parquet_atomic(assignment, settings.lake("gold", "fact_assignment.parquet"))
    counts = {"mode": "full" if plan.full else "incremental", "reason": plan.reason,
              "candidates": len(inp.cand_ids), "postings": len(inp.post_ids), "match_rows": len(fm),
              "assigned_pairs": len(assignment),
              "mean_top1_score": round(float(fm[fm["rank_for_candidate"] == 1]["score"].mean()), 4)
              if len(fm) else math.nan}
    if plan.delta is not None:
        counts.update(plan.delta.summary())
    log.info("match: %s", counts)
    return counts


def document_profiles(settings: Settings, postings: pd.DataFrame, resumes: pd.DataFrame | None = None,
                      update_cache: bool = True) -> tuple[Profiles, Profiles]:
    """(postings' profiles, candidates' profiles) from the silver tables (resumes read when not given), titles
    embedded. Title vectors are kept in ``gold/title_embedding.parquet`` (per encoder and precision), so a run
    encodes only the titles it has not seen; ``update_cache`` rewrites it with the titles in use now."""
    from skillmatch.extraction.encoder import encoder_id
    from skillmatch.matching.profile import candidate_profiles, posting_profiles, with_title_embeddings

    if resumes is None:
        resumes = read_parquet(settings.lake("silver", "resumes.parquet"),
                               columns=["candidate_id", "text", "years_experience"])
    device = resolve_device(settings.device)
    cache_file = settings.lake("gold", "title_embedding.parquet")
    known: dict[str, np.ndarray] = {}
    if cache_file.exists():
        cache = read_parquet(cache_file)
        cache = cache[cache["encoder"] == encoder_id(device)]
        known = {t: np.asarray(v, dtype=np.float32) for t, v in zip(cache["title"], cache["embedding"])}
    post_prof = with_title_embeddings(posting_profiles(postings), device, known)
    cand_prof = with_title_embeddings(candidate_profiles(resumes), device, known)
    if update_cache:
        used: dict[str, np.ndarray] = {}
        for prof in (post_prof, cand_prof):
            for t, v in zip(prof.frame["title"], prof.title_emb):
                if isinstance(t, str) and t:
                    used[t] = v
        if set(used) != set(known):
            titles = sorted(used)
            write_parquet_atomic(pd.DataFrame({"title": titles, "encoder": encoder_id(device),
                                               "embedding": [used[t].tolist() for t in titles]}), cache_file)
    return post_prof, cand_prof


ASSIGNMENT_COLUMNS = ["candidate_id", "posting_id", "score", "rank_for_candidate", "rank_for_posting"]


def optimal_assignment(fact_match: pd.DataFrame, max_dense_cells: int = 50_000_000) -> pd.DataFrame:
    """One posting per candidate and one candidate per posting, maximising the total score over the top-k graph.

    Only pairs in ``fact_match`` (someone's top-k) can be assigned; a candidate or posting with no affordable
    pair stays unassigned. Solved exactly with scipy's ``linear_sum_assignment`` (the min-cost formulation, cost =
    -score) on the dense sub-matrix of the candidates and postings that appear in pairs; larger graphs use the
    sparse ``min_weight_full_bipartite_matching`` with a zero-score "stay unassigned" option per candidate.
    """
    from scipy.optimize import linear_sum_assignment

    pairs = fact_match[["candidate_id", "posting_id", "score"]].drop_duplicates(["candidate_id", "posting_id"])
    if pairs.empty:
        return pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    cands, ci = np.unique(pairs["candidate_id"].to_numpy(), return_inverse=True)
    posts, pj = np.unique(pairs["posting_id"].to_numpy(), return_inverse=True)
    score = pairs["score"].to_numpy(dtype=np.float64)
    if len(cands) * len(posts) <= max_dense_cells:
        cost = np.zeros((len(cands), len(posts)))
        cost[ci, pj] = -score  # a missing pair costs 0: the same as leaving both unassigned
        rows, cols = linear_sum_assignment(cost)
    else:
        rows, cols = _sparse_assignment(ci, pj, score, len(cands), len(posts))
    chosen = pd.DataFrame({"candidate_id": cands[rows], "posting_id": posts[cols]})
    out = chosen.merge(fact_match, on=["candidate_id", "posting_id"], how="inner")  # drops non-pairs
    out = out[out["score"] > 0][ASSIGNMENT_COLUMNS]
    return out.sort_values("score", ascending=False).reset_index(drop=True)


def _sparse_assignment(ci: np.ndarray, pj: np.ndarray, score: np.ndarray, n_c: int,
                       n_p: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact max-score matching on a sparse graph: each candidate also gets a private dummy column (score 0)."""
    from scipy import sparse
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    big = float(score.max()) + 1.0  # weights must be positive: cost = big - score, dummy = big
    r = np.concatenate([ci, np.arange(n_c)])
    c = np.concatenate([pj, n_p + np.arange(n_c)])
    w = np.concatenate([big - score, np.full(n_c, big)])
    graph = sparse.csr_matrix((w, (r, c)), shape=(n_c, n_p + n_c))
    rows, cols = min_weight_full_bipartite_matching(graph)
    keep = cols < n_p  # a candidate matched to its dummy column stays unassigned
    return rows[keep], cols[keep]

"""What a change to the alias rules does to every silver document: alias hits before and after, side by side.

"Before" is another checkout of the package (``--baseline``, e.g. ``git worktree add /tmp/base <commit>``), "after"
this one; each runs in its own process over the same silver postings and resumes (``make run`` writes them) and the
same taxonomy (``data/taxonomy/dim_skill.parquet``). Postings drop hits inside employer boilerplate when the checkout
has :func:`skillmatch.extraction.extract.boilerplate_regions`, as the nightly extraction does. Prints the totals
and the (surface, concept) pairs whose hit count changed most.

Run (about a minute on 2 CPU cores)::

    git worktree add /tmp/base 4a5e997
    .venv/bin/python benchmarks/alias_rule_effect.py --baseline /tmp/base
"""
from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def count(include: str, data_dir: str) -> dict[str, object]:
    """Alias hits per entity with the package under ``include``: totals, distinct (document, skill) pairs and hits
    per (lowercased surface, preferred label)."""
    sys.path.insert(0, include)
    import pandas as pd

    from skillmatch.extraction import extract
    from skillmatch.extraction.alias import AliasMatcher
    from skillmatch.extraction.encoder import split_sentences

    dim = pd.read_parquet(f"{data_dir}/taxonomy/dim_skill.parquet")
    matcher = AliasMatcher(dim)
    label = dict(zip(dim["skill_id"], dim["preferred_label"]))
    regions = getattr(extract, "boilerplate_regions", None)
    out: dict[str, object] = {}
    for entity in ("postings", "resumes"):
        texts = pd.read_parquet(f"{data_dir}/silver/{entity}.parquet", columns=["text"])["text"].fillna("")
        pairs, hits = set(), collections.Counter()
        for i, text in enumerate(texts):
            skip = regions(text, split_sentences(text)) if regions and entity == "postings" else []
            for s, e, surf in matcher.find(text):
                if not any(a < e and s < b for a, b in skip):
                    pairs.add((i, surf.skill_id))
                    hits[f"{text[s:e].lower()}\t{label[surf.skill_id]}"] += 1
        out[entity] = {"docs": len(texts), "facts": len(pairs), "hits": dict(hits)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="root of the checkout to compare against")
    ap.add_argument("--data-dir", default=str(ROOT / "data"), help="the lake with silver/ and taxonomy/")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(count(args.child, args.data_dir)))
        return
    runs = {}
    for name, root in (("before", Path(args.baseline)), ("after", ROOT)):
        cmd = [sys.executable, __file__, "--baseline", args.baseline, "--data-dir", args.data_dir,
               "--child", str(root / "include")]
        runs[name] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(f"| | {' | '.join(runs['before'])} |\n|---|{'---|' * len(runs['before'])}")
    for what in ("alias hits", "distinct (document, skill) alias facts"):
        cells = []
        for entity in runs["before"]:
            b, a = (runs[r][entity] for r in ("before", "after"))
            if what == "alias hits":
                nb, na = sum(b["hits"].values()), sum(a["hits"].values())
            else:
                nb, na = b["facts"], a["facts"]
            cells.append(f"{nb:,} -> {na:,} ({(na - nb) / max(nb, 1):+.1%})")
        print(f"| {what} | {' | '.join(cells)} |")
    for entity in runs["before"]:
        print_largest_changes(runs["before"][entity]["hits"], runs["after"][entity]["hits"], args.top,
                              f"{entity}: the {args.top} largest changes")


def print_largest_changes(before: dict[str, int], after: dict[str, int], top: int, title: str) -> None:
    """The ``top`` (surface, concept) counts that moved most, keys "surface<TAB>concept"."""
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)
            if after.get(k, 0) != before.get(k, 0)}
    print(f"\n{title} (surface, concept: before -> after)")
    for k in sorted(diff, key=lambda k: (-abs(diff[k]), k))[:top]:
        surface, concept = k.split("\t")
        print(f"  {surface!r}, {concept}: {before.get(k, 0)} -> {after.get(k, 0)}")


if __name__ == "__main__":
    main()

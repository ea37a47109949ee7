"""Ingest + validate throughput on the shared data: postings/s and resume files/s, cold (empty lake) and warm
(a second run over unchanged sources, which the watermarks skip), with the counts that must reconcile.

Runs the same stage functions the Airflow tasks call (``skillmatch.sources.ingest``,
``skillmatch.validation.validate``) on a fresh temporary lake, so it never touches ./data.

  .venv/bin/python benchmarks/ingest_validate_throughput.py [--resumes N]    # default: all 1,995 PDFs
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import time
from pathlib import Path


def _timed(fn, *args):  # noqa: ANN001, ANN202 - a stage function and its arguments
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resumes", type=int, default=None, help="slice of resume files (default: all)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    lake = Path(tempfile.mkdtemp(prefix="skillmatch-ingest-bench-"))
    os.environ["SKILLMATCH_DATA_DIR"] = str(lake)
    os.environ["SKILLMATCH_SOURCE"] = "shared"
    if args.resumes:
        os.environ["SKILLMATCH_MAX_RESUMES"] = str(args.resumes)
    from skillmatch.config import load_settings
    from skillmatch.sources.ingest import ingest_postings, ingest_resumes
    from skillmatch.validation.validate import validate_postings, validate_resumes

    s = load_settings()
    rows = []
    for run in ("cold", "warm"):
        ip, t_ip = _timed(ingest_postings, s, f"bench_{run}")
        vp, t_vp = _timed(validate_postings, s, f"bench_{run}")
        ir, t_ir = _timed(ingest_resumes, s, f"bench_{run}")
        vr, t_vr = _timed(validate_resumes, s, f"bench_{run}")
        rows += [(run, "ingest postings", ip["read"], ip["appended"], t_ip),
                 (run, "validate postings", vp["silver"] + vp["quarantine"] + vp["duplicates"], vp["silver"], t_vp),
                 (run, "ingest resumes", ir["read"], ir["appended"], t_ir),
                 (run, "validate resumes", vr["silver"] + vr["quarantine"] + vr["duplicates"], vr["silver"], t_vr)]
        if run == "cold":
            extra = (f"postings: {ip['files_rejected']} files rejected, quarantine {vp['quarantine']}, duplicates "
                     f"{vp['duplicates']}; resumes: {ir['parse_errors']} parse errors, quarantine {vr['quarantine']}")
    print(f"lake: {lake}  cpus: {os.cpu_count()}")
    print(f"| run | stage | records in | records out | seconds | records in / s |")
    print("|---|---|---|---|---|---|")
    for run, stage, n_in, n_out, sec in rows:
        print(f"| {run} | {stage} | {n_in:,} | {n_out:,} | {sec:.1f} | {n_in / sec if sec else 0:,.1f} |")
    print(extra)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process; PDF "
          "workers not included)")


if __name__ == "__main__":
    main()

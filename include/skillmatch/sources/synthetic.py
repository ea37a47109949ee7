"""A small SYNTHETIC sample of postings and resumes for machines without the shared real data.

Everything generated here is labelled synthetic (source ``synthetic-sample``, file names, text header), so it is
never mistaken for real people or real jobs. Generation is deterministic for a given seed.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

SYNTHETIC_SOURCE = "synthetic-sample"

ROLES: dict[str, list[str]] = {
    "Data Engineer": ["Python", "SQL", "Apache Spark", "Apache Airflow", "Amazon Web Services", "Docker",
                      "Apache Kafka", "data warehousing", "ETL", "Git"],
    "Machine Learning Engineer": ["Python", "PyTorch", "TensorFlow", "machine learning", "Docker", "Kubernetes",
                                  "deep learning", "SQL", "Git", "statistics"],
    "Frontend Developer": ["JavaScript", "TypeScript", "React", "HTML", "CSS", "Git", "user interface design",
                           "Node.js", "web development"],
    "Backend Developer": ["Java", "Python", "PostgreSQL", "Docker", "Kubernetes", "REST", "Linux", "Git",
                          "microservices", "Redis"],
    "Data Analyst": ["SQL", "Microsoft Excel", "Tableau", "Python", "statistics", "data analysis",
                     "Power BI", "communication", "data visualisation"],
    "Accountant": ["accounting", "Microsoft Excel", "financial analysis", "bookkeeping", "auditing", "tax",
                   "SAP", "financial statements"],
    "Registered Nurse": ["patient care", "nursing", "medication administration", "communication",
                         "electronic health records", "teamwork"],
}
FILLER = [
    "We value ownership, curiosity and clear writing.",
    "You will work with a small cross-functional team.",
    "This is a SYNTHETIC posting generated for demonstration only.",
]
COMPANIES = ["Synthetic Analytics Co", "Example Robotics Ltd", "Sample Health Group", "Demo Finance Inc"]
CITIES = ["Berlin, Germany", "Austin, TX", "Remote", "Lisbon, Portugal", "Toronto, Canada"]


def generate_sample(out_dir: Path, n_postings: int = 60, n_resumes: int = 24, seed: int = 7) -> dict[str, Path]:
    """Write a synthetic postings CSV and synthetic plain-text resumes under ``out_dir``.

    Returns the paths of the postings file and the resumes folder. Rewriting with the same arguments yields
    byte-identical files, so re-runs ingest nothing new.
    """
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    postings = out_dir / "postings" / "synthetic_postings.csv"
    resumes = out_dir / "resumes"
    postings.parent.mkdir(parents=True, exist_ok=True)
    resumes.mkdir(parents=True, exist_ok=True)
    roles = sorted(ROLES)
    with postings.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["job_id", "title", "company", "location", "description", "listed_time"])
        for i in range(n_postings):
            role = roles[i % len(roles)]
            skills = rng.sample(ROLES[role], k=min(len(ROLES[role]), rng.randint(4, 7)))
            must, nice = skills[:-2], skills[-2:]
            desc = (f"SYNTHETIC SAMPLE. {role} at {COMPANIES[i % len(COMPANIES)]}. "
                    f"Requirements: experience with {', '.join(must)}. "
                    f"Nice to have: {' and '.join(nice)}. " + " ".join(rng.sample(FILLER, 2)))
            w.writerow([f"syn-{i:04d}", role, COMPANIES[i % len(COMPANIES)], CITIES[i % len(CITIES)], desc,
                        1_767_225_600_000 + i * 86_400_000])
    for j in range(n_resumes):
        role = roles[j % len(roles)]
        held = rng.sample(ROLES[role], k=max(2, len(ROLES[role]) - rng.randint(2, 4)))
        text = (f"SYNTHETIC RESUME {j:03d} (generated, not a real person)\n"
                f"Contact: candidate{j}@example.com, +1 555 010 {j:04d}\n"
                f"Summary\n{role} with {rng.randint(1, 12)} years of experience.\n"
                f"Skills\n{', '.join(held)}\n"
                f"Experience\nWorked as a {role.lower()} using {held[0]} and {held[-1]}.\n")
        (resumes / f"synthetic_resume_{j:03d}.txt").write_text(text, encoding="utf-8")
    return {"postings": postings, "resumes": resumes}

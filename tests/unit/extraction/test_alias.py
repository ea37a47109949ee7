"""Unit tests for skillmatch.extraction.alias.AliasMatcher on a tiny hand-made taxonomy."""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from skillmatch.extraction.alias import AliasMatcher, curation_text, load_curation


COLUMNS = ["skill_id", "preferred_label", "aliases", "taxonomy_source"]  # the taxonomy frames below

def _dim() -> pd.DataFrame:
    rows = [
        ("esco:python", "Python (computer programming)", [], "esco"),
        ("onet:kubernetes", "Kubernetes", ["k8s"], "onet"),
        ("onet:go", "Go", [], "onet"),
        ("esco:sql", "SQL", ["structured query language"], "esco"),
        ("esco:statistics", "statistics", ["data", "statistical analysis"], "esco"),
        ("esco:ml", "machine learning", [], "esco"),
        ("esco:mlops", "machine learning operations", [], "esco"),
        ("esco:dwh", "data warehousing", [], "esco"),
        ("esco:warehousing", "warehousing tools and methods", [], "esco"),
        ("onet:cpp", "C++", [], "onet"),
        ("onet:c", "C", [], "onet"),
        ("onet:word", "Word", [], "onet"),
        ("onet:msword", "Microsoft Word", [], "onet"),
        ("onet:spark", "Spark", [], "onet"),
    ]
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["skill_type"] = "skill/competence"  # extra columns are ignored
    return df


@pytest.fixture(scope="module")
def matcher() -> AliasMatcher:
    return AliasMatcher(_dim(), curation=None)


def _hits(m: AliasMatcher, text: str) -> list[tuple[str, str]]:
    out = []
    for start, end, surf in m.find(text):
        assert 0 <= start < end <= len(text)
        out.append((text[start:end], surf.skill_id))
    return out


def test_two_skills_with_offsets(matcher: AliasMatcher) -> None:
    text = "Experience with Python and Kubernetes"
    hits = matcher.find(text)
    assert [h[2].skill_id for h in hits] == ["esco:python", "onet:kubernetes"]
    assert [(h[0], h[1]) for h in hits] == [(16, 22), (27, 37)]
    for start, end, surf in hits:
        assert text[start:end] == surf.form


def test_label_with_parenthetical_and_bare_form(matcher: AliasMatcher) -> None:
    assert _hits(matcher, "Python (computer programming) is required") == [
        ("Python (computer programming)", "esco:python")]
    assert _hits(matcher, "python scripting") == [("python", "esco:python")]  # bare ESCO label: case-folded


def test_offsets_hold_after_case_folding(matcher: AliasMatcher) -> None:
    # "İ".lower() is two characters: folding must not shift the offsets of later hits
    text = "İSTANBUL team: MACHINE LEARNING and Statistics"
    hits = matcher.find(text)
    assert [text[s:e] for s, e, _ in hits] == ["MACHINE LEARNING", "Statistics"]
    assert [h[2].skill_id for h in hits] == ["esco:ml", "esco:statistics"]


def test_fold_is_per_character_lowercase_on_both_paths() -> None:
    from skillmatch.extraction.alias import _fold

    assert _fold("Machine LEARNING, C++ & SQL") == "machine learning, c++ & sql"  # ASCII: plain lower()
    # not str.lower() beyond ASCII: a final capital sigma folds like any other sigma and "İ" to one character
    assert _fold("ΟΔΟΣ İstanbul") == "οδοσ istanbul"
    assert "ΟΔΟΣ".lower() == "οδος"


def test_product_label_is_case_exact(matcher: AliasMatcher) -> None:
    # O*NET one-word product names are matched as capitalised
    assert _hits(matcher, "KUBERNETES and kubernetes") == []


@pytest.mark.parametrize("text", ["Pythonic code", "We write CPython extensions", "python3 scripts",
                                  "Kubernetes_operator", "mystatistics"])
def test_word_boundaries(matcher: AliasMatcher, text: str) -> None:
    assert _hits(matcher, text) == []


def test_cpp_and_c(matcher: AliasMatcher) -> None:
    assert _hits(matcher, "C++ and C programming") == [("C++", "onet:cpp"), ("C", "onet:c")]
    assert _hits(matcher, "Modern C++17 is a plus") == []  # "C++17" is one token
    assert _hits(matcher, "Grade C student") == []  # needs a software context
    assert _hits(matcher, "c programming") == []  # case-exact


def test_go_needs_context_and_capital(matcher: AliasMatcher) -> None:
    assert _hits(matcher, "backend services in Go and Python") == [("Go", "onet:go"), ("Python", "esco:python")]
    assert _hits(matcher, "ready to go") == []
    assert _hits(matcher, "Go to the office") == []
    assert _hits(matcher, "backend services in go") == []  # lowercase "go" is the verb


def test_one_word_lowercase_alias_is_dropped(matcher: AliasMatcher) -> None:
    assert "data" not in matcher.surfaces
    assert _hits(matcher, "We love data.") == []
    # the multi-word alias of the same concept still matches
    assert _hits(matcher, "strong statistical analysis skills") == [("statistical analysis", "esco:statistics")]


def test_short_lowercase_alias_is_dropped(matcher: AliasMatcher) -> None:
    assert "k8s" not in matcher.surfaces
    assert _hits(matcher, "deploys to k8s daily") == []


def test_upper_acronym_is_case_exact(matcher: AliasMatcher) -> None:
    assert _hits(matcher, "SQL and sql") == [("SQL", "esco:sql")]
    assert _hits(matcher, "Structured Query Language") == [("Structured Query Language", "esco:sql")]


def test_leftmost_longest_same_start(matcher: AliasMatcher) -> None:
    text = "machine learning operations and machine learning"
    assert _hits(matcher, text) == [("machine learning operations", "esco:mlops"),
                                    ("machine learning", "esco:ml")]


def test_leftmost_wins_over_longer_later_overlap(matcher: AliasMatcher) -> None:
    # "data warehousing" starts first; the longer overlapping "warehousing tools and methods" is dropped
    assert _hits(matcher, "data warehousing tools and methods") == [("data warehousing", "esco:dwh")]
    assert _hits(matcher, "warehousing tools and methods") == [("warehousing tools and methods", "esco:warehousing")]


def test_curation_block_and_case_sensitive(matcher: AliasMatcher) -> None:
    assert _hits(matcher, "Write it in Word") == []  # "Word" is blocked
    assert _hits(matcher, "Microsoft Word") == [("Microsoft Word", "onet:msword")]
    assert _hits(matcher, "Apache Spark jobs") == [("Spark", "onet:spark")]
    assert _hits(matcher, "spark interest in data") == []


def test_explicit_empty_curation_differs_from_default() -> None:
    m = AliasMatcher(_dim(), curation={})
    assert "word" in m.surfaces  # nothing blocked without curation
    assert "go" not in m.surfaces  # a two-letter mixed-case label needs a curation rule to be kept
    assert _hits(m, "backend services in Go") == []
    curation = load_curation()
    assert curation["go"].action == "needs_context" and curation["word"].action == "block"


def test_shared_surface_prefers_esco_label() -> None:
    dim = pd.DataFrame([
        ("onet:docker", "Docker", [], "onet"),
        ("esco:docker", "Docker", [], "esco"),
    ], columns=COLUMNS)
    m = AliasMatcher(dim, curation=None)
    assert _hits(m, "Docker images") == [("Docker", "esco:docker")]


def test_empty_inputs(matcher: AliasMatcher) -> None:
    assert matcher.find("") == []
    empty = pd.DataFrame(columns=COLUMNS)
    assert AliasMatcher(empty, curation=None).find("Python") == []


def _dim_ambiguous() -> pd.DataFrame:
    rows = [
        ("esco:airport-manuals", "compile airport certification manuals", ["and procedures", "check guests in"],
         "esco"),
        ("onet:extend", "Imagine That Extend OR", [], "onet"),
        ("esco:history", "history", ["historical studies"], "esco"),
        ("esco:plan", "plan", ["plan activities"], "esco"),
        ("onet:chef", "Chef", [], "onet"),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_alias_fragments_are_dropped_but_names_and_particles_kept() -> None:
    m = AliasMatcher(_dim_ambiguous())
    assert _hits(m, "Follow policies and procedures.") == []  # "and procedures": a fragment alias
    assert "and procedures" not in m.surfaces
    assert _hits(m, "We check guests in at noon.") == [("check guests in", "esco:airport-manuals")]
    assert _hits(m, "Imagine That Extend OR models") == [("Imagine That Extend OR", "onet:extend")]  # a name


def test_history_needs_an_academic_cue_in_any_case() -> None:
    m = AliasMatcher(_dim_ambiguous())
    assert _hits(m, "Bachelor of Arts in History, 2012") == [("History", "esco:history")]
    assert _hits(m, "Teaches world history to grade 9") == [("history", "esco:history")]
    assert _hits(m, "Work History\nFinance Assistant 06/2013") == []  # a resume's heading
    assert _hits(m, "A demonstrated history of shipping products.") == []
    assert _hits(m, "credit history checks") == []


def test_curated_plain_words_and_chef() -> None:
    m = AliasMatcher(_dim_ambiguous())
    assert _hits(m, "medical and dental plan") == []  # "plan" is blocked
    assert _hits(m, "plan activities for the team") == [("plan activities", "esco:plan")]
    assert _hits(m, "Chef at a busy restaurant") == []
    assert _hits(m, "Infrastructure as code with Chef and Terraform") == [("Chef", "onet:chef")]


def test_curated_form_names_its_concept() -> None:
    dim = pd.DataFrame([
        ("esco:spark-ada", "SPARK", [], "esco"),
        ("onet-tech:apache-spark", "Apache Spark", [], "onet"),
        ("onet-tech:apache-pig", "Apache Pig", [], "onet"),
        ("esco:handle-pigs", "handle pigs", [], "esco"),
        ("http://data.europa.eu/esco/skill/3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43", "machine learning", ["ML"], "esco"),
        ("esco:ml-language", "ML (computer programming)", [], "esco"),
    ], columns=COLUMNS)
    m = AliasMatcher(dim)
    # in postings "ML" is machine learning, not the ML language (whose bare label it also is)
    assert _hits(m, "NLP and ML models") == [("ML", "http://data.europa.eu/esco/skill/3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43")]
    # "Spark" is Apache Spark (the curation file names it), ahead of ESCO's "SPARK"; only as written
    assert _hits(m, "Pipelines in Spark and Scala") == [("Spark", "onet-tech:apache-spark")]
    assert _hits(m, "Apache Spark") == [("Apache Spark", "onet-tech:apache-spark")]
    assert _hits(m, "to spark interest") == []
    # "Pig" with a Hadoop cue is Apache Pig; a pig on a farm is not
    assert _hits(m, "Hadoop stack: Hive, Pig, Sqoop") == [("Pig", "onet-tech:apache-pig")]
    assert _hits(m, "feed the Pig twice a day") == []
    # without the concept in the taxonomy (the offline fallback may lack it) the form names nothing
    assert _hits(AliasMatcher(dim[dim["skill_id"] != "onet-tech:apache-pig"]), "Hadoop, Hive, Pig") == []
    rows = list(csv.DictReader(curation_text().splitlines()))
    assert {r["surface"]: r["concept"] for r in rows}["Excel"] == "onet-tech:microsoft-excel"


def test_curated_alias_in_any_case_and_a_cued_adjective() -> None:
    think, data = ("http://data.europa.eu/esco/skill/4707da90-9cfc-46ca-8de0-38a0b7bfb137",
                   "http://data.europa.eu/esco/skill/97bd1c21-66b2-4b7e-ad0f-e3cda590e378")
    dim = pd.DataFrame([
        (think, "think analytically", ["analytical thinking"], "esco"),
        (data, "data analytics", [], "esco"),
        ("onet-tech:google-analytics", "Google Analytics", [], "onet"),
    ], columns=COLUMNS)
    m = AliasMatcher(dim)
    # "analytics" (action alias): data analytics in any case; the longer "Google Analytics" still wins its span
    assert _hits(m, "Analytics and reporting; web analytics in Google Analytics") == [
        ("Analytics", data), ("analytics", data), ("Google Analytics", "onet-tech:google-analytics")]
    # "analytical": thinking analytically only with a cue such as "skills"
    assert _hits(m, "Strong analytical and communication skills") == [("analytical", think)]
    assert _hits(m, "Run the analytical instruments in the lab") == []
    assert _hits(m, "analytical thinking") == [("analytical thinking", think)]


def test_business_administration_is_the_field_of_study() -> None:
    bmp = "http://data.europa.eu/esco/skill/0a48d064-dd04-47fb-a00d-85e9b4874033"
    dim = pd.DataFrame([
        (bmp, "business management principles", ["principles of business management"], "esco"),
        ("esco:office-admin", "office administration", ["office management"], "esco"),
    ], columns=COLUMNS)
    m = AliasMatcher(dim)
    assert _hits(m, "Bachelor's degree in Business Administration, Finance, or related") == [
        ("Business Administration", bmp)]
    assert _hits(m, "Master of business administration; office management") == [
        ("business administration", bmp), ("office management", "esco:office-admin")]
    assert _hits(AliasMatcher(dim, curation={}), "Business Administration") == []  # no taxonomy name is the phrase


def test_finance_law_and_software_development_name_their_field() -> None:
    """"Finance" and "law" name a field only where the sentence reads as one (a degree, experience in it); "software
    development" and "software engineering", which ESCO has no concept for, name computer programming (the span
    linker took them to computer engineering through its alt label "computer software development")."""
    fin, law = ("http://data.europa.eu/esco/skill/52e53619-fa77-4f72-b237-5e4aae784dc2",
                "http://data.europa.eu/esco/skill/06f46a6e-62d3-4ca0-bedb-cb4c021c14ee")
    prog = "http://data.europa.eu/esco/skill/21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
    dim = pd.DataFrame([(fin, "financial management", [], "esco"), (law, "legal studies", [], "esco"),
                        (prog, "computer programming", [], "esco"),
                        ("esco:comp-eng", "computer engineering", ["computer software development"], "esco")],
                       columns=COLUMNS)
    m = AliasMatcher(dim)
    assert _hits(m, "Bachelor's degree in Accounting, Finance or a related field.") == [("Finance", fin)]
    assert _hits(m, "Strong knowledge of finance and underwriting.") == [("finance", fin)]
    assert _hits(m, "You will partner with the Finance and Accounting teams.") == []  # a department
    assert _hits(m, "We help immigrants finance their first smartphone.") == []
    assert _hits(m, "Juris Doctor (J.D.) from an accredited law school.") == [("law", law)]
    assert _hits(m, "Offers are contingent on a background check, as permitted by law.") == []
    assert _hits(m, "5+ years of software development; a degree in Software Engineering.") == [
        ("software development", prog), ("Software Engineering", prog)]
    assert _hits(m, "computer software development") == [("computer software development", "esco:comp-eng")]
    assert _hits(AliasMatcher(dim, curation={}), "5+ years of software development") == []


def test_spreadsheets_quality_assurance_and_multitaskers_name_their_skill() -> None:
    qa, sheets, multi = ("http://data.europa.eu/esco/skill/c7cc6dc5-d56b-4323-8e5c-47c4022f615f",
                         "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be",
                         "http://data.europa.eu/esco/skill/0b144726-21c2-46ed-8d13-c03d27f61604")
    dim = pd.DataFrame([(qa, "quality assurance methodologies", [], "esco"),
                        (sheets, "use spreadsheets software", [], "esco"),
                        (multi, "perform multiple tasks at the same time", ["multi-task"], "esco")],
                       columns=COLUMNS)
    text = "Quality assurance of Excel spreadsheets and one spreadsheet; an exceptional multi-tasker, a multitasker."
    assert _hits(AliasMatcher(dim), text) == [("Quality assurance", qa), ("spreadsheets", sheets),
                                             ("spreadsheet", sheets), ("multi-tasker", multi), ("multitasker", multi)]
    assert _hits(AliasMatcher(dim, curation={}), text) == []


def test_clustering_is_machine_learning_with_a_modelling_cue() -> None:
    ml = "http://data.europa.eu/esco/skill/3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43"
    dim = pd.DataFrame([(ml, "machine learning", [], "esco"), ("onet:clustering", "Clustering software", [], "onet")],
                       columns=COLUMNS)
    m = AliasMatcher(dim)
    assert _hits(m, "Unsupervised learning (clustering, PCA) and classification.") == [("clustering", ml)]
    assert _hits(m, "Veritas Cluster Server, clustering, DNS.") == []  # server clusters: no link at all
    assert _hits(AliasMatcher(dim, curation={}), "Unsupervised learning (clustering, PCA).") == []


def test_aws_is_the_cloud_platform() -> None:
    """O*NET's only name for the platform is "Amazon Web Services AWS software": the bare names are curated to it,
    and the longer O*NET products keep their own names."""
    aws = "onet-tech:amazon-web-services-aws-software"
    dim = pd.DataFrame([
        (aws, "Amazon Web Services AWS software", [], "onet"),
        ("onet-tech:amazon-web-services-aws-sagemaker", "Amazon Web Services AWS SageMaker", [], "onet"),
    ], columns=COLUMNS)
    m = AliasMatcher(dim)
    assert _hits(m, "Experience with AWS (EC2, S3) and Amazon Web Services IAM") == [
        ("AWS", aws), ("Amazon Web Services", aws)]
    assert _hits(m, "models in Amazon Web Services AWS SageMaker") == [
        ("Amazon Web Services AWS SageMaker", "onet-tech:amazon-web-services-aws-sagemaker")]
    assert _hits(AliasMatcher(dim, curation={}), "Experience with AWS") == []  # no taxonomy name is the word


def test_problem_solving_is_the_transversal_skill_not_troubleshooting() -> None:
    """ESCO lists "problem solve" and "solve problems" as alt labels of troubleshoot too; the curated forms of problem
    solving name the transversal skill, and troubleshoot stays troubleshoot."""
    solve, trouble = "http://data.europa.eu/esco/skill/adc6dc11-3376-467b-96c5-9b0a21edc869", "esco:troubleshoot"
    dim = pd.DataFrame([(solve, "solve problems", ["problem-solving skills"], "esco"),
                        (trouble, "troubleshoot", ["problem solve", "solve problems", "troubleshooting"], "esco")],
                       columns=COLUMNS)
    text = "Problem solving, a problem-solving mindset; a problem solver who can problem solve. Troubleshoot PCs."
    assert _hits(AliasMatcher(dim), text) == [("Problem solving", solve), ("problem-solving", solve),
                                             ("problem solver", solve), ("problem solve", solve),
                                             ("Troubleshoot", trouble)]
    assert ("problem solve", trouble) in _hits(AliasMatcher(dim, curation={}), text)  # ESCO's own alt label


def test_esco_alt_labels_that_name_another_skill_and_perk_words() -> None:
    """ESCO files "work in team" under work in textile manufacturing teams and "communicate efficiently and
    effectively" under communicate in an outdoor setting: the curated forms name work in teams and communication.
    "retail participants" and "financial data" (alt labels of market participants and economics) are no names;
    philosophy and yoga need a cue (postings' company philosophy and on-site yoga classes are not skills)."""
    teams, comm = ("http://data.europa.eu/esco/skill/60c78287-22eb-4103-9c8c-28deaa460da0",
                   "http://data.europa.eu/esco/skill/15d76317-c71a-4fa2-aadc-2ecc34e627b7")
    rows = [(teams, "work in teams", ["teamwork"], "esco"),
            ("esco:textile-teams", "work in textile manufacturing teams", ["work in team"], "esco"),
            (comm, "communication", ["communicating"], "esco"),
            ("esco:outdoor", "communicate in an outdoor setting", ["communicate efficiently and effectively"], "esco"),
            ("esco:market-participants", "market participants", ["retail participants"], "esco"),
            ("esco:economics", "economics", ["financial data"], "esco"),
            ("esco:philosophy", "philosophy", [], "esco"), ("esco:yoga", "yoga", [], "esco")]
    dim = pd.DataFrame(rows, columns=COLUMNS)
    m = AliasMatcher(dim)
    text = "Able to work in team, communicate efficiently and effectively and communicate effectively."
    assert _hits(m, text) == [("work in team", teams), ("communicate efficiently and effectively", comm),
                              ("communicate effectively", comm)]
    assert _hits(AliasMatcher(dim, curation={}), text) == [  # ESCO's own alt labels
        ("work in team", "esco:textile-teams"), ("communicate efficiently and effectively", "esco:outdoor")]
    assert _hits(m, "Sell to retail participants; analyse financial data; economics.") == [
        ("economics", "esco:economics")]
    assert _hits(m, "We have an employee-first philosophy. Our Hiring Philosophy:") == []
    assert _hits(m, "BA in Philosophy, 2014") == [("Philosophy", "esco:philosophy")]
    assert _hits(m, "Free on-site yoga classes, gym memberships.") == []
    assert _hits(m, "Certified yoga instructor (RYT 200).") == [("yoga", "esco:yoga")]


def test_airflow_boosting_mac_and_computer_skills_name_their_product_or_skill() -> None:
    """Curated 2026-12-06: Apache Airflow with a data-platform cue (ESCO files "airflow" under computational fluid
    dynamics), boosting as machine learning with a modelling cue, "Mac" as macOS (capitalised, a computing cue),
    "computer skills" as computer literacy, "work in a team environment" as work in teams; Latin and politics need a
    cue."""
    ml, macos = "http://data.europa.eu/esco/skill/3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43", "onet-tech:apple-macos"
    lit, teams = ("http://data.europa.eu/esco/skill/d15ce60f-ddab-41ce-ba56-398451b77b60",
                  "http://data.europa.eu/esco/skill/60c78287-22eb-4103-9c8c-28deaa460da0")
    rows = [(ml, "machine learning", [], "esco"), ("onet-tech:apache-airflow", "Apache Airflow", [], "onet"),
            ("esco:cfd", "computational fluid dynamics", ["airflow"], "esco"), (macos, "Apple macOS", [], "onet"),
            (lit, "have computer literacy", [], "esco"), (teams, "work in teams", [], "esco"),
            ("esco:latin", "Latin", [], "esco"), ("esco:politics", "politics", [], "esco")]
    dim = pd.DataFrame(rows, columns=COLUMNS)
    m = AliasMatcher(dim)
    assert _hits(m, "Familiar with workflow management tools, like Airflow and Oozie.") == [
        ("Airflow", "onet-tech:apache-airflow")]
    assert _hits(m, "Measure the airflow of HVAC ducts.") == []
    assert _hits(m, "Algorithms including Boosting, Clustering and Regression.") == [("Boosting", ml),
                                                                                  ("Clustering", ml)]
    assert _hits(m, "Known for boosting company morale.") == []
    assert _hits(m, "Experience with Mac and PC-based platforms; MAC address filtering.") == [("Mac", macos)]
    assert _hits(m, "Certifying Fannie Mae and Freddie Mac loans.") == []  # no computing cue
    assert _hits(m, "Strong computer skills; able to work in a team environment.") == [
        ("computer skills", lit), ("work in a team environment", teams)]
    assert _hits(m, "Engineers in Europe or Latin America. No office politics.") == []
    assert _hits(m, "Teach Latin and Greek; a degree in politics.") == [("Latin", "esco:latin"),
                                                                          ("politics", "esco:politics")]
    assert _hits(AliasMatcher(dim, curation={}), "Measure the airflow; Latin America.") == [("Latin", "esco:latin")]


def test_hiring_boilerplate_industry_words_and_verbs_are_no_skills() -> None:
    """Curated 2026-12-06: the posting's own application process, "a computer" (it read "a computer science
    degree"), the bare "SaaS" (a kind of company) name nothing; crafting, swim and Polish need a cue."""
    rows = [("esco:application-process", "application process", [], "esco"),
            ("esco:computer-equipment", "computer equipment", ["a computer"], "esco"),
            ("esco:computer-science", "computer science", [], "esco"),
            ("esco:saas", "SaaS (service-oriented modelling)", ["SaaS model"], "esco"),
            ("esco:crafting", "crafting", [], "esco"), ("esco:swim", "swim", [], "esco"),
            ("esco:polish", "Polish", [], "esco")]
    dim = pd.DataFrame(rows, columns=COLUMNS)
    m = AliasMatcher(dim)
    text = ("Complete the application process online. A computer science degree; work at a computer. A B2B SaaS "
            "company crafting solutions; swim-lane diagrams. Own performance and polish. Polish parts on a lathe.")
    assert _hits(m, text) == [("computer science", "esco:computer-science")]
    assert _hits(m, "Handmade jewelry crafting; swim lessons for kids; the SaaS model. Polish & English fluency.") == [
        ("crafting", "esco:crafting"), ("swim", "esco:swim"), ("SaaS model", "esco:saas"), ("Polish", "esco:polish")]
    assert ("application process", "esco:application-process") in _hits(AliasMatcher(dim, curation={}), text)


def test_fields_and_presentations_name_their_general_skill() -> None:
    """Curated forms the span linker had taken to the wrong concept: "analytical skills" (solve problems), "applied
    mathematics" (use mathematical tools and equipment), presentations (deliver presentations on tourism, whose alt
    label is "give a presentation"): address an audience, as ESCO's own "presentation skills"; "operations
    research" and "performance" are no names."""
    ta, math, talk = ("http://data.europa.eu/esco/skill/4707da90-9cfc-46ca-8de0-38a0b7bfb137",
                      "http://data.europa.eu/esco/skill/4339176e-3acd-4f7f-a5d9-445bee3d23f2",
                      "http://data.europa.eu/esco/skill/609a8ac1-9d29-4237-9886-596dbbe7ca8a")
    rows = [(ta, "think analytically", [], "esco"), (math, "mathematics", [], "esco"),
            (talk, "address an audience", ["presentation skills"], "esco"),
            ("esco:tourism-talks", "deliver presentations on tourism", ["give a presentation"], "esco"),
            ("esco:ops-processes", "operations department processes", ["operations research"], "esco"),
            ("esco:artistic", "define artistic performance concepts", ["performance"], "esco")]
    m = AliasMatcher(pd.DataFrame(rows, columns=COLUMNS))
    assert _hits(m, "Strong analytical skills; degree in Applied Mathematics or Operations Research.") == [
        ("analytical skills", ta), ("Applied Mathematics", math)]
    assert _hits(m, "Give a presentation to clients. Deliver presentations to executives. Presentation skills.") == [
        ("Give a presentation", talk), ("presentations", talk), ("Presentation skills", talk)]
    assert _hits(m, "Build the presentation layer in React; high performance code.") == []


def test_posting_phrasing_and_followed_sites_are_not_skills() -> None:
    """ESCO alt labels that job ads use as phrasing, and social sites that postings ask to be followed on, match only
    as a skill (the shipped curation file)."""
    rows = [("esco:responsibility", "assume responsibility", ["be responsible", "personal responsibility"], "esco"),
            ("esco:commitment", "show commitment", ["enjoy working", "can-do attitude"], "esco"),
            ("onet:linkedin", "LinkedIn", [], "onet"), ("onet:facebook", "Facebook", [], "onet"),
            ("onet:google", "Google", [], "onet")]
    m = AliasMatcher(pd.DataFrame(rows, columns=COLUMNS))
    assert _hits(m, "You will be responsible for our data pipelines.") == []
    assert _hits(m, "Takes personal responsibility for results.") == [("personal responsibility",
                                                                       "esco:responsibility")]
    assert _hits(m, "You will enjoy working in a fast-paced team.") == []
    assert _hits(m, "A can-do attitude.") == [("can-do attitude", "esco:commitment")]
    assert _hits(m, "Follow us on LinkedIn, Twitter & Facebook.") == []
    assert _hits(m, "Our team comes from the likes of Google, SpaceX, and Apple.") == []
    assert _hits(m, "Run paid campaigns on LinkedIn and Facebook.") == [("LinkedIn", "onet:linkedin"),
                                                                      ("Facebook", "onet:facebook")]
    assert _hits(m, "Sourcing candidates on LinkedIn Recruiter.") == [("LinkedIn", "onet:linkedin")]
    assert _hits(m, "At LinkedIn, we strive to help our employees find passion and purpose.") == []  # the employer
    assert _hits(m, "LinkedIn: [URL]") == []
    assert _hits(m, "LinkedIn, Facebook.") == [("LinkedIn", "onet:linkedin"), ("Facebook", "onet:facebook")]
    assert _hits(m, "Reports from Google Analytics and Google Ads.") == [("Google", "onet:google"),
                                                                       ("Google", "onet:google")]


def test_curation_row_can_take_an_earlier_rows_cue(monkeypatch: pytest.MonkeyPatch) -> None:
    from skillmatch.extraction import alias

    shipped = load_curation()
    assert shipped["facebook"].context is shipped["linkedin"].context is shipped["twitter"].context
    monkeypatch.setattr(alias, "curation_text", lambda: "surface,action,context,concept,note\nX,needs_context,=Y,,\n")
    with pytest.raises(ValueError, match="'X'.*names no earlier row"):
        load_curation()

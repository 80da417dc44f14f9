"""The sandbox's Solr subset: the incremental index answers exactly what a full scan would."""

import random

import pytest

from sandbox import solr


def make_docs(rng, n):
    return [
        {
            "id": f"{i:05d}",
            "status": rng.choice(["Closed", "Waiting on Red Hat", "Waiting on Customer"]),
            "tags": rng.sample(["shift_telco5g", "cnv", "ran", "ptp"], k=rng.randint(0, 2)),
            "modified": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
            **({"closed": "2026-06-01T00:00:00Z"} if rng.random() < 0.3 else {}),
        }
        for i in range(n)
    ]


QUERIES = [
    "tags:*telco5g* AND modified:[2026-06-01T00:00:00Z TO *]",
    "tags:*telco5g* AND NOT status:Closed",
    "(status:Closed OR tags:ran) AND -modified:{2026-03-01T00:00:00Z TO 2026-09-01T00:00:00Z]",
    'status:"Waiting on Red Hat" OR closed:[* TO *]',
    "*:*",
    "id:(00001 OR 00002 OR 00003)",
]
SORTS = [[("modified", False), ("id", False)], [("modified", True)], [("status", False), ("modified", True)]]


def brute_force(docs, q, sort):
    index = solr.Index(docs, "id")  # a fresh index is the reference: it scans every document
    found, page = index.search(q, sort=sort, start=0, rows=len(docs), cap=10**9)
    return found, [d["id"] for d in page]


@pytest.mark.parametrize("q", QUERIES)
def test_it_stays_exact_through_updates_and_inserts(q):
    rng = random.Random(7)
    docs = make_docs(rng, 400)
    index = solr.Index(docs, "id")
    for sort in SORTS:
        index.search(q, sort=sort, start=0, rows=5, cap=10**9)  # build memos and orders first
    for _ in range(150):
        doc = (
            dict(rng.choice(index.docs))
            if rng.random() < 0.8
            else make_docs(rng, 1)[0] | {"id": f"9{rng.randint(0, 9999):04d}"}
        )
        doc["modified"] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T11:00:00Z"
        doc["status"] = rng.choice(["Closed", "Waiting on Customer"])
        index.upsert(doc)
    for sort in SORTS:
        found, page = index.search(q, sort=sort, start=0, rows=len(index.docs), cap=10**9)
        assert (found, [d["id"] for d in page]) == brute_force(index.docs, q, sort)


def test_it_pages_within_the_cap():
    docs = make_docs(random.Random(3), 50)
    index = solr.Index(docs, "id")
    sort = [("id", False)]
    found, page = index.search("*:*", sort=sort, start=40, rows=20, cap=45)
    assert found == 50
    assert [d["id"] for d in page] == ["00040", "00041", "00042", "00043", "00044"]


@pytest.mark.parametrize(
    "bad", ["", "status:(Closed", "nofield", "modified:[2026 2027]", "modified:[2026-01-01T TO *]"]
)
def test_it_rejects_malformed_queries(bad):
    with pytest.raises(solr.QueryError):
        solr.parse(bad)

"""The Python package against the Rust library's behaviour.

Fixture: real text, the State of the Union addresses bundled in
``corpus/dump/docs`` (public domain, see corpus/SOURCES.md).
"""

import json
import os
import pathlib
import threading

import pytest

import leakprint

REPO = pathlib.Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "corpus" / "dump" / "docs").glob("*.txt"))[:24]


def quote(path, length=200):
    """About `length` characters from the middle of a document."""
    text = path.read_text(encoding="utf-8")
    start = len(text) // 2
    return text[start : start + length]


class Bar:
    """Enough of tqdm's interface: `total`, `update`, `set_postfix_str`."""

    def __init__(self):
        self.total = None
        self.n = 0
        self.postfix = None

    def update(self, n):
        self.n += n

    def set_postfix_str(self, s):
        self.postfix = s


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    root = tmp_path_factory.mktemp("dump")
    (root / "docs").mkdir()
    for p in DOCS:
        (root / "docs" / p.name).write_bytes(p.read_bytes())
    return root


@pytest.fixture(scope="module")
def index_path(dump):
    out = dump / "idx"
    bar = Bar()
    summary = leakprint.build([dump / "docs"], out, threads=1, progress=bar)
    assert summary["files"] == len(DOCS)
    assert summary["indexed"] == len(DOCS)
    total = sum(p.stat().st_size for p in DOCS)
    assert bar.total == total and bar.n == total
    return out


@pytest.fixture(scope="module")
def matcher(index_path):
    return leakprint.Matcher(leakprint.Index.open(index_path))


def source_of(dump, doc):
    return str(dump / "docs" / doc.name)


def test_build_reports_progress_to_a_callable_and_appends(tmp_path):
    calls = []
    out = tmp_path / "idx"
    leakprint.build(DOCS[0], out, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] == DOCS[0].stat().st_size
    summary = leakprint.build([str(DOCS[1])], out, append=True, memory=64 << 20)
    assert summary["segments"] == 1
    info = leakprint.Index.open(out).info()
    assert info["totals"]["segments"] == 2
    assert info["totals"]["files"] == 2


def test_index_info_files_and_verify(index_path):
    index = leakprint.Index.open(index_path)
    info = index.info()
    assert set(info) == {"params", "totals", "segments", "section_bytes", "shards", "matcher_memory"}
    # Not cut into shards: one entry, the index itself, holding every posting.
    assert len(info["shards"]) == 1
    assert info["shards"][0]["postings"] == info["totals"]["postings"] > 0
    assert info["matcher_memory"]["whole"] > 0
    assert info["params"]["guarantee"] == info["params"]["k"] + info["params"]["w"] - 1
    files = list(index.files())
    assert [pathlib.Path(f["path"]).name for f in files] == [p.name for p in DOCS]
    assert files[0]["status"] == "indexed" and len(files[0]["blake3"]) == 64
    index.verify()
    assert "files=24" in repr(index)


def test_find_gives_typed_matches_with_the_json_line_fields(dump, matcher):
    doc = DOCS[5]
    q = quote(doc)
    post = f'omg "{q}" #leak'
    found = matcher.find(post)
    assert len(found) == 1
    m = found[0]
    assert isinstance(m, leakprint.Match)
    assert m.kind == "text" and m.part is None and m.boxes is None
    assert m.source == source_of(dump, doc)
    start, end = m.query_span
    got = post.encode()[start:end].decode()
    assert q.strip()[:40] in got
    text = doc.read_bytes()
    s0, s1 = m.source_span
    assert text[s0:s1].decode() == got
    assert 0.9 < m.score <= 1 and m.similarity == 1.0
    d = m.to_dict()
    assert list(d) == [
        "kind", "source", "score", "similarity", "aligned_len",
        "query_span", "source_span", "snippet",
    ]
    assert d["query_span"] == [start, end] and d["source"] == m.source
    assert d["score"] == round(m.score, 4)
    json.dumps(d)
    assert m == matcher.find(post)[0]
    assert matcher.find("an unrelated short post about nothing at all") == []


def test_a_match_names_the_copies_of_its_source(tmp_path):
    doc = DOCS[2]
    (tmp_path / "d").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "d" / name).write_bytes(doc.read_bytes())
    leakprint.build([tmp_path / "d"], tmp_path / "idx", threads=1)
    m = leakprint.Matcher(leakprint.Index.open(tmp_path / "idx")).find(f'"{quote(doc)}"')
    assert len(m) == 1
    paths = {m[0].source, *m[0].also}
    assert paths == {str(tmp_path / "d" / "a.txt"), str(tmp_path / "d" / "b.txt")}
    assert m[0].to_dict()["also"] == m[0].also


def test_an_index_loaded_into_memory_finds_the_same(index_path, matcher):
    loaded = leakprint.Matcher(leakprint.Index.open(index_path, load=True))
    for doc in DOCS[:6]:
        post = f'so "{quote(doc)}" wow'
        assert loaded.find(post) == matcher.find(post) != []


def test_find_many_streams_in_input_order(dump, matcher):
    texts = [f'"{quote(d)}"' if i % 3 else "nothing here" for i, d in enumerate(DOCS)]
    expected = [matcher.find(t) for t in texts]
    assert list(matcher.find_many(texts)) == expected
    assert list(matcher.find_many(iter(texts), threads=1)) == expected

    # A generator longer than two batches: read lazily, answered in order.
    n = 2500
    pulled = []

    def gen():
        for i in range(n):
            pulled.append(i)
            yield texts[i % len(texts)]

    it = matcher.find_many(gen())
    first = next(it)
    assert first == expected[0]
    assert len(pulled) < n, "the whole iterable was read up front"
    rest = list(it)
    assert len(rest) == n - 1
    assert all(r == expected[(i + 1) % len(texts)] for i, r in enumerate(rest))
    assert list(matcher.find_many([])) == []


def test_find_many_rejects_non_text_items_by_position(matcher):
    with pytest.raises(TypeError, match="item 2 is a int"):
        list(matcher.find_many(["a", "b", 3]))
    with pytest.raises(ValueError):
        matcher.find_many(["a"], threads=0)
    with pytest.raises(leakprint.ConfigError, match="between 1 and 1024"):
        matcher.find_many(["a"], threads=5000)


def test_find_many_hands_out_what_came_before_a_bad_item_then_stops(dump, matcher):
    # Items 0..1499 (two batches), then a bad one: every result before it
    # comes first, each with its own item, then the error, then the end
    # (results never shift against their items).
    texts = [f'"{quote(d)}"' for d in DOCS]
    posts = [texts[i % len(texts)] if i % 3 == 0 else f"nothing here {i}" for i in range(1500)]
    it = matcher.find_many(posts + [3] + ["more"] * 10)
    got = [next(it) for _ in range(1500)]
    assert [bool(r) for r in got] == [i % 3 == 0 for i in range(1500)]
    assert got[3] == matcher.find(posts[3])
    with pytest.raises(TypeError, match="item 1500 is a int"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)
    # A lone surrogate (JSON from social platforms has them): a ValueError
    # naming the item, Python's encoding error as its cause.
    it = matcher.find_many([posts[0], "broken \ud83d emoji"])
    assert next(it) == matcher.find(posts[0])
    with pytest.raises(ValueError, match="item 1 is not valid Unicode") as e:
        next(it)
    assert isinstance(e.value.__cause__, UnicodeEncodeError)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_find_many_works_in_a_forked_child(dump, matcher):
    # The matcher's threads do not survive fork(): the child starts its own.
    texts = [f'"{quote(d)}"' for d in DOCS[:4]]
    expected = [matcher.find(t) for t in texts]
    assert list(matcher.find_many(texts)) == expected
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if list(matcher.find_many(texts)) == expected else 3
        finally:
            os._exit(code)
    import time

    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("find_many hung in a forked child")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0


def test_find_releases_the_gil(matcher):
    # Matching in other threads while this one keeps running Python.
    posts = [f'"{quote(d, 400)}"' for d in DOCS] * 20
    results = []
    t = threading.Thread(target=lambda: results.extend(matcher.find_many(posts, threads=1)))
    ticks = 0
    t.start()
    while t.is_alive():
        ticks += 1
    t.join()
    assert len(results) == len(posts)
    assert ticks > 0


def test_find_file_by_path_and_bytes(dump, matcher, tmp_path):
    doc = DOCS[7]
    r = matcher.find_file(doc)
    assert isinstance(r, leakprint.FileResult) and r
    assert r.name == str(doc)
    assert r.evidence[0].identical and r.evidence[0].source == source_of(dump, doc)
    assert r.matches[0].part == "" and r.matches[0].query == str(doc)
    d = r.to_dict()
    assert d["matches"][0] == r.evidence[0].to_dict()
    assert d["matches"][0]["kind"] == "file"
    b = matcher.find_file(doc.read_bytes(), name="copy.txt")
    assert b.name == "copy.txt" and b.evidence[0].identical
    import zipfile

    z = tmp_path / "share.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("inner/quote.txt", quote(doc, 600))
    zr = matcher.find_file(os.fspath(z))
    assert [m.query for m in zr.matches] == [f"{z}#inner/quote.txt"]
    assert zr.matches[0].part == "inner/quote.txt"
    assert not matcher.find_file(b"nothing here")


def test_errors_are_typed_with_the_library_messages(index_path, tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(leakprint.FileAccessError) as e:
        leakprint.Index.open(missing)
    assert isinstance(e.value, OSError) and isinstance(e.value, leakprint.LeakprintError)
    assert str(missing) in str(e.value)

    bad = tmp_path / "bad.lps"
    bad.write_bytes(b"not an index at all" * 100)
    with pytest.raises(leakprint.CorruptIndexError, match="bad magic"):
        leakprint.Index.open(bad)

    index = leakprint.Index.open(index_path)
    with pytest.raises(leakprint.ConfigError, match=r"min_len = 1 is out of range") as e:
        leakprint.Matcher(index, min_len=1)
    assert isinstance(e.value, ValueError)
    with pytest.raises(leakprint.ConfigError, match="max_depth = 65"):
        leakprint.Matcher(index, max_depth=65)
    with pytest.raises(leakprint.ConfigError, match="seeds"):
        leakprint.Matcher(index, seeds="some")
    with pytest.raises(TypeError, match="unexpected keyword argument 'min_lenght'"):
        leakprint.Matcher(index, min_lenght=50)
    with pytest.raises(TypeError):
        leakprint.Matcher(index, every_source="yes")
    # Every candidate verified: a quote of one document finds it the same way.
    q = quote(DOCS[5])
    every = leakprint.Matcher(index, every_source=True).find(q)
    assert [m.source for m in every] == [m.source for m in leakprint.Matcher(index).find(q)]
    assert every
    small = leakprint.Matcher(index, max_file_size=10, seeds="all", min_similarity=0.9)
    with pytest.raises(leakprint.FileAccessError, match="larger than the file size limit"):
        small.find_file(DOCS[0])
    with pytest.raises(leakprint.FileAccessError, match="no such file or folder"):
        leakprint.build([tmp_path / "absent"], tmp_path / "out")


SHOTS = REPO / "corpus" / "screenshots"


def shot_truth(name):
    for line in (SHOTS / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if t["file"] == name:
            return t
    raise KeyError(name)


def overlap(a, b):
    """Pixels shared by two (left, top, width, height) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


@pytest.fixture(scope="module")
def shot_matcher(tmp_path_factory):
    # The sources of two committed screenshots (real quotes of State of the
    # Union addresses, see corpus/screenshots/README.md) among other docs.
    root = tmp_path_factory.mktemp("shots")
    (root / "docs").mkdir()
    names = {shot_truth(n)["source"] for n in ["tweet_light-001.png", "mail_client-000.png"]}
    for rel in sorted(names):
        src = REPO / "corpus" / "dump" / rel
        (root / "docs" / src.name).write_bytes(src.read_bytes())
    for p in DOCS[:4]:
        (root / "docs" / p.name).write_bytes(p.read_bytes())
    leakprint.build([root / "docs"], root / "idx", threads=1)
    return leakprint.Matcher(leakprint.Index.open(root / "idx"))


def test_find_image_finds_a_screenshot_quote_with_its_word_boxes(shot_matcher):
    t = shot_truth("tweet_light-001.png")
    path = SHOTS / t["file"]
    found = shot_matcher.find_image(path)
    assert found, "the quote of a real screenshot is found"
    m = found[0]
    assert m.kind == "image" and m.source.endswith(pathlib.Path(t["source"]).name)
    # The match lies on the quoted passage of the source.
    start, end = m.source_span
    assert start < t["span"][1] and end > t["span"][0], (m.source_span, t["span"])
    # Its boxes are the quote's words: most of the true words' pixels are
    # covered, and most of the boxes' pixels lie on true words.
    boxes = [(b.left, b.top, b.width, b.height) for b in m.boxes]
    assert boxes and all(isinstance(b, leakprint.WordBox) for b in m.boxes)
    truth = [tuple(w) for w in t["words"]]
    on_truth = sum(max(overlap(b, w) for w in truth) for b in boxes)
    covered = sum(max(overlap(w, b) for b in boxes) for w in truth)
    assert on_truth > 0.6 * sum(b[2] * b[3] for b in boxes)
    assert covered > 0.6 * sum(w[2] * w[3] for w in truth)
    d = m.to_dict()
    assert d["kind"] == "image" and d["boxes"][0] == m.boxes[0].to_dict()
    assert set(d["boxes"][0]) == {"left", "top", "width", "height", "conf", "page", "line"}
    # Bytes and a path give the same matches; a str path too.
    assert shot_matcher.find_image(path.read_bytes()) == found
    assert shot_matcher.find_image(str(path)) == found


def test_find_image_finds_nothing_in_an_unrelated_screenshot(shot_matcher):
    assert shot_matcher.find_image(SHOTS / "neg-tweet_light-0000.png") == []


def test_find_image_releases_the_gil(shot_matcher):
    results = []
    t = threading.Thread(
        target=lambda: results.append(shot_matcher.find_image(SHOTS / "mail_client-000.png"))
    )
    ticks = 0
    t.start()
    while t.is_alive():
        ticks += 1
    t.join()
    assert results and results[0], "the mail client screenshot's quote is found"
    assert ticks > 0


def test_find_image_errors_are_clear(shot_matcher, tmp_path, monkeypatch):
    with pytest.raises(leakprint.ImageError, match="not a PNG, JPEG") as e:
        shot_matcher.find_image(b"just some text, not an image")
    assert isinstance(e.value, ValueError)
    png = (SHOTS / "tweet_light-001.png").read_bytes()
    with pytest.raises(leakprint.ImageError, match="cannot decode the image"):
        shot_matcher.find_image(png[: len(png) // 3])
    with pytest.raises(leakprint.ImageError, match="larger than the limit of 1000 pixels"):
        shot_matcher.find_image(png, max_pixels=1000)
    with pytest.raises(leakprint.ConfigError, match="ocr-lang"):
        shot_matcher.find_image(png, lang="eng;rm -rf")
    with pytest.raises(leakprint.ConfigError, match="steps"):
        shot_matcher.find_image(png, steps="sharpen")
    with pytest.raises(leakprint.FileAccessError):
        shot_matcher.find_image(tmp_path / "absent.png")
    with pytest.raises(TypeError, match="path or bytes"):
        shot_matcher.find_image(42)
    # A model tesseract lacks is named with the package that brings it.
    with pytest.raises(leakprint.OcrError, match="apt-get install tesseract-ocr-qqq") as e:
        shot_matcher.find_image(png, lang="qqq")
    assert isinstance(e.value, RuntimeError)
    # No tesseract at all.
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(leakprint.OcrError, match="apt-get install tesseract-ocr"):
        shot_matcher.find_image(png)


def test_help_reads_well():
    import pydoc

    text = pydoc.render_doc(leakprint)
    for word in ["find_many", "find_image", "Matcher", "to_dict", "FileAccessError", "OcrError", "GIL"]:
        assert word in text
    for obj in [leakprint.build, leakprint.Matcher, leakprint.Matcher.find_many,
                leakprint.Matcher.find_file, leakprint.Matcher.find_image, leakprint.Index.open,
                leakprint.Match.to_dict]:
        assert obj.__doc__ and len(obj.__doc__) > 20, obj


def test_plan_pieces_takes_any_count(dump):
    # More pieces than files: one piece a file, whatever the count (2**40
    # used to abort the interpreter on its allocation).
    docs = [dump / "docs"]
    exact = leakprint.plan_pieces(docs, len(DOCS))
    assert 1 <= len(exact) <= len(DOCS)
    assert repr(leakprint.plan_pieces(docs, 2**40)) == repr(exact)

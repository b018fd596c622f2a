"""Output writers memoised on their inputs (coverage.io.output_memo, coverage.io.digest)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coverage.io.digest import content_digest, environment_digest
from coverage.io.output_memo import memoised_writer
from coverage.io.outputs import OutputFolder


def _run(out: Path, key: str, text: str, calls: list[str]) -> None:
    def writer(staged: OutputFolder) -> None:
        calls.append(text)
        staged.write_text("page.html", text)
        with open(staged.path("sub/data.bin"), "wb") as handle:
            handle.write(text.encode("utf-8") * 3)

    with OutputFolder(out) as staged:
        memoised_writer(out / ".cache" / "outputs" / "w", out, key, writer)(staged)


def test_same_key_reuses_the_published_files_byte_for_byte(tmp_path):
    calls: list[str] = []
    _run(tmp_path, "a" * 64, "one", calls)
    first = {p: (tmp_path / p).read_bytes() for p in ("page.html", "sub/data.bin")}
    _run(tmp_path, "a" * 64, "two", calls)   # same key: the writer does not run
    assert calls == ["one"]
    assert {p: (tmp_path / p).read_bytes() for p in first} == first


def test_another_key_runs_the_writer(tmp_path):
    calls: list[str] = []
    _run(tmp_path, "a" * 64, "one", calls)
    _run(tmp_path, "b" * 64, "two", calls)
    assert calls == ["one", "two"]
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == "two"


def test_an_edited_or_removed_output_is_made_again(tmp_path):
    calls: list[str] = []
    _run(tmp_path, "a" * 64, "one", calls)
    (tmp_path / "page.html").write_text("edited by hand", encoding="utf-8")
    _run(tmp_path, "a" * 64, "one", calls)
    assert calls == ["one", "one"]
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == "one"
    (tmp_path / "sub" / "data.bin").unlink()
    _run(tmp_path, "a" * 64, "one", calls)
    assert len(calls) == 3 and (tmp_path / "sub" / "data.bin").read_bytes() == b"oneoneone"


def test_a_key_that_cannot_be_made_runs_the_writer_without_memo(tmp_path):
    calls: list[str] = []

    def no_key() -> str:
        raise TypeError("cannot digest")

    def writer(staged: OutputFolder) -> None:
        calls.append("x")
        staged.write_text("page.html", "x")

    for _ in range(2):
        with OutputFolder(tmp_path) as staged:
            memoised_writer(tmp_path / ".cache" / "w", tmp_path, no_key, writer)(staged)
    assert calls == ["x", "x"] and not (tmp_path / ".cache" / "w").exists()


def test_content_digest_skips_only_the_named_fields():
    from dataclasses import dataclass

    @dataclass
    class Result:
        table: pd.DataFrame
        timings_s: dict

    a = Result(pd.DataFrame({"v": [1.0, 2.0]}), {"step": 1.0})
    b = Result(pd.DataFrame({"v": [1.0, 2.0]}), {"step": 9.0})
    c = Result(pd.DataFrame({"v": [1.0, 2.5]}), {"step": 1.0})
    assert content_digest(a) != content_digest(b)
    assert content_digest(a, skip=("timings_s",)) == content_digest(b, skip=("timings_s",))
    assert content_digest(a, skip=("timings_s",)) != content_digest(c, skip=("timings_s",))


def test_environment_digest_is_stable_in_a_process():
    assert environment_digest() == environment_digest()
    assert len(environment_digest()) == 64


def test_readiness_key_follows_its_inputs_and_the_day():
    import dataclasses as dc

    from coverage.assess import assess
    from coverage.pipeline import _readiness_key
    from tests.toy import toy_signal, toy_study

    study, sig = toy_study(households=True), toy_signal()
    a = assess(study, sig)
    key = _readiness_key(study, a, None, None, {})
    assert _readiness_key(toy_study(households=True), assess(study, sig), None, None, {}) == key
    groups = a.groups.copy()
    groups.loc[groups.index[0], "households"] = int(groups["households"].iloc[0]) + 1
    assert _readiness_key(study, dc.replace(a, groups=groups), None, None, {}) != key
    later = study.config.model_copy(update={"readiness": study.config.readiness.model_copy(
        update={"as_of": __import__("datetime").date(2031, 1, 1)})})
    assert _readiness_key(dc.replace(study, config=later), a, None, None, {}) != key

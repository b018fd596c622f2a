"""A run computes the plan's map layers once (the mobile map starts when the plan is made,
the other pages at the end: both use the same layers)."""

from __future__ import annotations

import coverage.pipeline as pipeline
from coverage.config import load_config


def test_a_run_computes_the_plan_layers_once(tiny_data, tmp_path, monkeypatch):
    calls = []
    original = pipeline.plan_layers

    def counted(plan, study):
        calls.append(plan)
        return original(plan, study)

    monkeypatch.setattr(pipeline, "plan_layers", counted)
    _lines, results = pipeline.run_with_results(tiny_data, load_config(None),
                                                tmp_path / "out", quiet=True)
    assert results.plan is not None
    assert len(calls) == 1 and calls[0] is results.plan
    assert (tmp_path / "out" / "mobile.html").is_file()
    assert (tmp_path / "out" / "plan.csv").is_file()

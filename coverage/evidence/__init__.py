"""Evidence: field measurements against the prediction.

* :mod:`coverage.evidence.compare` — each measurement paired with the predicted RSRP at its
  place, and the error statistics;
* :mod:`coverage.evidence.calibration` — an optional calibration fitted to the comparison;
* :mod:`coverage.evidence.measured` — measurements that decide test points and household
  samples in the assessment.

Evidence reads the prediction (:mod:`coverage.signal`) and never the assessment, which
uses it.
"""

"""Test-data generators: synthetic documents, forgeries, liveness sequences and attacks.

Used by the evaluations (:mod:`openidv.eval`), the benchmarks, the demo and the tests, never by
the engines (:mod:`openidv.face`, :mod:`openidv.document`, :mod:`openidv.liveness`,
:mod:`openidv.decision`): ``tests/test_import_cycles.py`` checks that no engine module imports
this package.

* :mod:`.document`: ID-1 card fronts, passport data pages and TD1 backs, camera simulation;
* :mod:`.back`: US licence backs with an AAMVA PDF417 barcode;
* :mod:`.aamva_variants`: AAMVA payloads with the layout deviations real issuers write;
* :mod:`.tamper`: manipulations (pasted patches, copy-move, recapture, photocopy, metadata);
* :mod:`.forgery`: the genuine / forged document generator of ``openidv eval forgery``;
* :mod:`.liveness`: live-like selfie sequences (mesh-based 3-D warps of real photos);
* :mod:`.attacks`: presentation and injection attacks on those sequences.
"""

"""Document engine. So far: the synthetic document generator (:mod:`openidv.document.synth`)."""

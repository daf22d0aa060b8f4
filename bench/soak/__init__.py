"""bench/soak: the chaos soak (issue 12). `python -m bench.soak --orders N`; see run.py."""

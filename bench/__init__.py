"""Benchmarks on the sandbox: what an issuance costs, how fast it is, how it scales, side by side with certbot.

`python -m bench` runs every part and prints one table; `python -m bench <part>` runs one part (see __main__).
Figures land in build/bench/results.json and build/bench/results.md; bench/README.md holds the latest ones.
"""

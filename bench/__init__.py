"""pbk's benchmark harness: identical workloads against pbk and the real PocketBase.

Run ``python -m bench --quick`` (or ``python bench/run.py``); see ``docs/performance.md``.
"""

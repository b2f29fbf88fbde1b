"""Loads the reference test vectors in ``tests/data/reference/``: outputs of
the authors' HR-Pro code on fixed inputs, written by
``benchmarks/parity/make_reference_vectors.py``."""
import json
import os.path as osp

HERE = osp.dirname(osp.abspath(__file__))
DATA = osp.join(osp.dirname(HERE), 'data', 'reference')


def load(name: str) -> dict:
    with open(osp.join(DATA, f'{name}.json')) as f:
        return json.load(f)

"""Cut a batch of videos into groups of similar length, so that attention,
quadratic in the padded length, wastes little work on padding.

A pure function of the lengths (no tensors): ``RABNeck`` runs its blocks
once per group, each group trimmed to its own longest video.
"""
from typing import List, Sequence, Tuple


def length_groups(lengths: Sequence[int],
                  cost_ratio: float) -> List[Tuple[List[int], int]]:
    """Greedy length groups of a batch.

    Videos are taken longest first (ties by batch index); a group grows
    while ``size * longest**2 <= cost_ratio * sum(length**2)`` holds for it,
    i.e. while its padded attention cost stays within ``cost_ratio`` of its
    unpadded cost. A length below 1 counts as 1.

    Returns:
        list of ``(indices, longest)``: batch indices of each group (longest
        video first) and the group's padded length.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups = []
    idx: List[int] = []
    longest = 0
    sq = 0
    for i in order:
        n = max(int(lengths[i]), 1)
        if idx and (len(idx) + 1) * longest ** 2 > cost_ratio * (sq + n * n):
            groups.append((idx, longest))
            idx, sq = [], 0
        if not idx:
            longest = n
        idx.append(i)
        sq += n * n
    if idx:
        groups.append((idx, longest))
    return groups

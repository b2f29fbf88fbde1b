"""``length_groups``: the greedy grouping of a batch by length, worked by
hand (the rule: a group grows while size * longest**2 <= ratio * sum of
its squared lengths)."""
from hrpro_plugin.ops import length_groups


def test_length_groups_known_answer():
    # longest first; 10 and 9: 2 * 100 = 200 <= 1.25 * 181 = 226 -> together
    # + 5: 3 * 100 = 300 > 1.25 * 206 -> new group; 5, 5, 4: 3 * 25 = 75 <=
    # 1.25 * 66 = 82.5 -> together
    assert length_groups([5, 10, 4, 9, 5], 1.25) == [([1, 3], 10),
                                                     ([0, 4, 2], 5)]
    # ratio 1: only equal lengths share a group
    assert length_groups([3, 3, 2], 1.0) == [([0, 1], 3), ([2], 2)]
    # a huge ratio: one group, the padded batch
    assert length_groups([3, 1, 2], 100.0) == [([0, 2, 1], 3)]


def test_edge_cases():
    assert length_groups([], 1.1) == []
    assert length_groups([7], 1.1) == [([0], 7)]
    # a zero length counts as 1; equal lengths keep their batch order
    assert length_groups([0, 4, 4], 1.0) == [([1, 2], 4), ([0], 1)]

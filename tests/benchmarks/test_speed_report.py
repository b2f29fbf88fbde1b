"""The printed report of ``benchmarks/speed.py``: its columns and rows (the
README, docs/performance.md and benchmarks/gpu_check.py read them)."""
import os.path as osp
import sys

from _helpers import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks'))
from speed_lib.report import ascii_table, report  # noqa: E402


def _phase(seconds, **kw):
    return dict(seconds=seconds, peak_mem_mib=100.0, **kw)


def fake_result(device='cpu', schedule='quick', bench=True):
    """A ``speed.json`` with every key the report reads."""
    stage = dict(iterations=20, snippets=9000, padded_snippets=12000,
                 snippets_per_s=600.0, fixed_s=1.0, per_iteration_s=0.5,
                 full_estimate_s=501.0)
    res = dict(
        device=device, device_name='Some CPU, 2 cores (nproc)',
        torch='2.x', threads=1, cpu_count=2, feat_dim=256, num_classes=20,
        amp=False, bf16_active=False,
        schedule=dict(name=schedule, stage1_iters=20, stage1_batch=16,
                      stage2_epochs=1, stage2_iters_per_epoch=20,
                      stage2_batch=10, full_stage1_iters=1000,
                      full_stage2_epochs=20),
        data=dict(source='THUMOS14 gt_full.json', data_root='/d',
                  num_train=200, num_test=210, test_snippets=70000,
                  synthetic=True),
        phases=dict(setup=_phase(1.5), stage1=_phase(11.0, **stage),
                    mining=_phase(3.0, snippets=66000, snippets_per_s=2e4,
                                  full_estimate_s=3.0),
                    stage2=_phase(5.0, **stage),
                    test=_phase(9.0, snippets=70000, snippets_per_s=7e3,
                                full_estimate_s=9.0)),
        totals=dict(train_test_s=28.0, with_setup_s=29.5,
                    full_estimate_s=1014.0, peak_mem_mib=100.0),
        metrics={'mAP_avg': 1.5, 'mAP@0.50': 1.0, 'mAP@0.70': 0.5},
        load_average=[0.5, 3.5])
    if bench:
        op = dict(proposals=1000, ours_device_s=0.01, ours_cpu_s=0.02,
                  naive_s=1.0, ratio_device=100.0, ratio_cpu=50.0,
                  batches=8, max_abs_diff=1e-7, same_outputs=True)
        res['proposal_bench'] = dict(
            test_batches=27, candidates=dict(op, unique_boxes=500),
            soft_nms=dict(op, groups=40, largest_group=90,
                          largest_overlap_component=30,
                          float32_near_tie_batches=0,
                          float32_near_tie_proposals=0))
    return res


def _header(text, first):
    line = next(ln for ln in text.splitlines() if ln.startswith(first))
    return [c.strip() for c in line.strip('|').split('|')]


def test_phase_table_columns_and_rows():
    text = report(fake_result())
    assert _header(text, '| phase') == [
        'phase', 'time (s)', 'iterations', 'snippets/s',
        'peak mem (MiB, process max RSS so far)',
        'full schedule, extrapolated (s)']
    for label in ('setup (runner, data)', 'stage-1 train', 'mining',
                  'stage-2 train', 'test', 'train + test'):
        assert f'| {label} ' in text, label
    assert 'HR-Pro speed benchmark -- QUICK schedule' in text
    assert 'SHARED MACHINE' in text and '25% padding' in text
    # the full schedule: no extrapolated column
    full = report(fake_result(device='cuda', schedule='full', bench=False))
    assert _header(full, '| phase')[-1] == 'peak mem (MiB, CUDA max allocated)'
    assert 'proposal generation' not in full


def test_proposal_table_columns():
    assert _header(report(fake_result()), '| operation') == [
        'operation', 'proposals', 'ours cpu (s)', 'naive numpy (s)',
        'speed-up (cpu)', 'same outputs (max diff)']
    res = fake_result(device='cuda')
    res['proposal_bench']['soft_nms']['same_outputs'] = False
    text = report(res)
    assert _header(text, '| operation') == [
        'operation', 'proposals', 'ours cuda (s)', 'ours cpu (s)',
        'naive numpy (s)', 'speed-up (cuda)', 'speed-up (cpu)',
        'same outputs (max diff)']
    assert ' yes (1e-07) |' in text and ' NO (see speed.json) |' in text


def test_ascii_table_alignment():
    assert ascii_table([['a', 'bb'], ['xyz', '1']]) == '\n'.join([
        '+-----+----+', '| a   | bb |', '+-----+----+', '| xyz |  1 |',
        '+-----+----+'])

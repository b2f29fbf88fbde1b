"""The benchmark's printed report (also ``speed.json``'s ``table``): the
phase table, notes on padding, rates, mAP and load, and the proposal /
soft-NMS comparison table."""

PHASE_LABELS = (('setup', 'setup (runner, data)'),
                ('stage1', 'stage-1 train'), ('mining', 'mining'),
                ('stage2', 'stage-2 train'), ('test', 'test'))


def _fmt(v, spec='.1f'):
    return '-' if v is None else format(v, spec)


def ascii_table(rows):
    """``rows[0]`` is the header; the first column left-aligned, the
    others right-aligned."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    out = [line]
    for k, r in enumerate(rows):
        cells = [str(c).ljust(w) if j == 0 else str(c).rjust(w)
                 for j, (c, w) in enumerate(zip(r, widths))]
        out.append('| ' + ' | '.join(cells) + ' |')
        if k == 0:
            out.append(line)
    out.append(line)
    return '\n'.join(out)


def phase_rows(res: dict, est: bool) -> list:
    """Header and one row per phase, then the train + test total."""
    mem = 'CUDA max allocated' if res['device'] == 'cuda' else \
        'process max RSS so far'
    head = ['phase', 'time (s)', 'iterations', 'snippets/s',
            f'peak mem (MiB, {mem})']
    if est:
        head.append('full schedule, extrapolated (s)')
    rows = [head]
    for key, label in PHASE_LABELS:
        p = res['phases'][key]
        r = [label, _fmt(p['seconds'], '.2f'), _fmt(p.get('iterations'), 'd'),
             _fmt(p.get('snippets_per_s'), ',.0f'),
             _fmt(p.get('peak_mem_mib'), ',.0f')]
        if est:
            r.append(_fmt(p.get('full_estimate_s'), '.1f'))
        rows.append(r)
    tot = res['totals']
    r = ['train + test', _fmt(tot['train_test_s'], '.2f'), '', '',
         _fmt(tot['peak_mem_mib'], ',.0f')]
    if est:
        r.append(_fmt(tot['full_estimate_s'], '.1f'))
    rows.append(r)
    return rows


def header_lines(res: dict) -> list:
    """Schedule, device and data."""
    s, d = res['schedule'], res['data']
    return [
        '',
        f'HR-Pro speed benchmark -- {s["name"].upper()} schedule: '
        f'{s["stage1_iters"]} stage-1 iterations x {s["stage1_batch"]} '
        f'videos, {s["stage2_epochs"]} stage-2 epochs x '
        f'{s["stage2_iters_per_epoch"]} batches of {s["stage2_batch"]} '
        f'(full: {s["full_stage1_iters"]} iterations, '
        f'{s["full_stage2_epochs"]} epochs)',
        f'device: {res["device_name"]} ({res["device"]}); torch '
        f'{res["torch"]}, {res["threads"]} threads; feat_dim '
        f'{res["feat_dim"]}, {res["num_classes"]} classes; '
        + ('bf16 autocast' if res.get('bf16_active') else 'float32')
        + (' (--amp ignored on cpu)' if res.get('amp') and
           not res.get('bf16_active') else ''),
        f'data: {d["source"]} at {d["data_root"]}; '
        f'{d["num_train"]} train / {d["num_test"]} test '
        f'videos, {d["test_snippets"]:,} test snippets',
    ]


def note_lines(res: dict, est: bool) -> list:
    """Extrapolation, padding, rates, mAP and load average."""
    lines = []
    if est:
        lines.append(
            'extrapolated column: fixed costs (prototype init, first batch) '
            'as measured + per-iteration time x full-schedule iterations; '
            'mining and test as measured (a model trained longer may give '
            'other proposal counts).')
    for key, label in (('stage1', 'stage 1'), ('stage2', 'stage 2')):
        p = res['phases'][key]
        if p.get('padded_snippets'):
            padding = 100 * (1 - p['snippets'] / p['padded_snippets'])
            lines.append(f'{label}: {p["snippets"]:,} valid snippets in '
                         f'{p["padded_snippets"]:,} padded positions '
                         f'({padding:.0f}% padding); per iteration '
                         f'{_fmt(p.get("per_iteration_s"), ".3f")} s')
    lines.append('snippets/s: valid (unpadded) training snippets processed / '
                 'phase time; mining: train-set snippets / time; test: test '
                 'snippets / time.')
    m = res['metrics']
    lines.append(
        f'mAP (%): avg[0.1:0.7] {_fmt(m.get("mAP_avg"), ".2f")}, '
        f'@0.5 {_fmt(m.get("mAP@0.50"), ".2f")}, '
        f'@0.7 {_fmt(m.get("mAP@0.70"), ".2f")}'
        + (' -- synthetic features, not a THUMOS14 result'
           if res['data']['synthetic'] else '')
        + (f" ({res['schedule']['name']} schedule: not the full-schedule "
           "mAP)" if est else ""))
    la = res.get('load_average')
    if la:
        lines.append(f'load average (1 min) at start / end: {la[0]:.2f} / '
                     f'{la[1]:.2f} on {res["cpu_count"]} cores'
                     + (' -- SHARED MACHINE: timings are pessimistic'
                        if max(la) > res['cpu_count'] else ''))
    return lines


def proposal_rows(pb: dict, dev: str) -> list:
    """Header and the proposal generation / soft-NMS rows."""
    cuda = dev == 'cuda'
    rows = [['operation', 'proposals', f'ours {dev} (s)'] +
            (['ours cpu (s)'] if cuda else []) +
            ['naive numpy (s)', f'speed-up ({dev})'] +
            (['speed-up (cpu)'] if cuda else []) +
            ['same outputs (max diff)']]
    for key, label in (('candidates', 'proposal generation'),
                       ('soft_nms', 'soft-NMS')):
        b = pb[key]
        rows.append([label, f'{b["proposals"]:,}',
                     f'{b["ours_device_s"]:.4f}'] +
                    ([f'{b["ours_cpu_s"]:.4f}'] if cuda else []) +
                    [f'{b["naive_s"]:.3f}', f'{b["ratio_device"]:.1f}x'] +
                    ([f'{b["ratio_cpu"]:.1f}x'] if cuda else []) +
                    [f'yes ({b["max_abs_diff"]:.1g})'
                     if b['same_outputs'] else 'NO (see speed.json)'])
    return rows


def proposal_lines(res: dict) -> list:
    """The comparison section: source of the inputs, table, counts."""
    pb = res['proposal_bench']
    ck = res.get('bench_checkpoint')
    source = ('the model just trained' if not ck else
              f'checkpoint {ck["path"]} (test avg mAP '
              f'{ck["metrics"].get("mAP_avg", float("nan")):.2f}%)')
    lines = ['', f'proposal generation and soft-NMS on '
             f'{pb["candidates"]["batches"]} of the '
             f'{pb["test_batches"]} test batches (inputs from '
             f'{source}, as predict() calls them, one batch at '
             'a time); target speed-up >= 20x',
             ascii_table(proposal_rows(pb, res['device']))]
    c, n = pb['candidates'], pb['soft_nms']
    lines.append(f'candidates: {c["proposals"]:,} in these batches, '
                 f'{c["unique_boxes"]:,} distinct (video, start, end) '
                 'boxes')
    if n.get('float32_near_tie_batches'):
        lines.append(
            f'soft-NMS: in {n["float32_near_tie_batches"]} batch(es) the '
            'float32 scores order near-equal proposals differently from '
            f'the float64 reference ({n["float32_near_tie_proposals"]} '
            'proposals differ); ours on float64 copies of those inputs '
            'agrees within 1e-5 (max diff column: the other batches)')
    lines.append(f'soft-NMS groups: {n["groups"]} (video, class); largest '
                 f'{n["largest_group"]} proposals; largest set of '
                 f'transitively overlapping proposals '
                 f'{n["largest_overlap_component"]}')
    return lines


def report(res: dict) -> str:
    est = res['schedule']['name'] != 'full'
    lines = header_lines(res) + [ascii_table(phase_rows(res, est))]
    lines += note_lines(res, est)
    if res.get('proposal_bench'):
        lines += proposal_lines(res)
    return '\n'.join(lines)

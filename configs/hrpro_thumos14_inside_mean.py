"""HR-Pro on THUMOS14 with one change beyond the method: the stage-2 score
head also reads the mean of the inside bins (``InstanceHead(
score_inside_mean=True)``): the max-pooled input says whether a box holds
action, the mean how much of it does. Not the paper's or the reference's
head; see the README, "A score head that also reads the inside mean".

    python tools/train.py configs/hrpro_thumos14_inside_mean.py --data-root data/thumos14
    python tools/test.py configs/hrpro_thumos14_inside_mean.py \
        work_dirs/hrpro_thumos14_inside_mean/stage2.pth
"""
_base_ = ['hrpro_thumos14.py']
model = dict(instance_head=dict(score_inside_mean=True))

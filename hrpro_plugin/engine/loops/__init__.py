from .two_stage_loop import TwoStageTrainLoop

__all__ = ['TwoStageTrainLoop']

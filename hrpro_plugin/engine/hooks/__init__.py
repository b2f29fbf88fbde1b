from .proposal_mining_hook import ProposalMiningHook
from .prototype_init_hook import PrototypeInitHook
from .rng_state_hook import RNGStateHook
from .tal_visualization_hook import TALVisualizationHook

__all__ = ['PrototypeInitHook', 'ProposalMiningHook', 'RNGStateHook',
           'TALVisualizationHook']

from .proposal_mining_hook import ProposalMiningHook
from .prototype_init_hook import PrototypeInitHook
from .rng_state_hook import RNGStateHook

__all__ = ['PrototypeInitHook', 'ProposalMiningHook', 'RNGStateHook']

from .proposal_mining_hook import ProposalMiningHook
from .prototype_init_hook import PrototypeInitHook

__all__ = ['PrototypeInitHook', 'ProposalMiningHook']

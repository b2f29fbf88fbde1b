"""File I/O shared by the engine, the datasets and the tools, depending on
no other part of the plugin: the one atomic writer (:mod:`.atomic`) and the
on-disk format of the stage-2 mining file (:mod:`.proposal_file`), which
``ProposalMiningHook`` writes and ``LoadMinedProposals`` reads."""
from .atomic import atomic_write, atomic_write_bytes
from .proposal_file import (FORMAT_NAME, FORMAT_VERSION, ProposalFileError,
                            concat_mined, load_proposals, make_proposal_data,
                            proposals_for_video, save_proposals,
                            validate_proposals)

__all__ = [
    'atomic_write', 'atomic_write_bytes', 'FORMAT_NAME', 'FORMAT_VERSION',
    'ProposalFileError', 'concat_mined', 'load_proposals',
    'make_proposal_data', 'proposals_for_video', 'save_proposals',
    'validate_proposals'
]

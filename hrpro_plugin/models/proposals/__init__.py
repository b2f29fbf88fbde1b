"""Candidate proposals (multi-threshold runs of the CAS and attention) and
their OIC scores: pure tensor functions in snippet units, shared by the
proposal mining of stage 2 and by inference."""
from .candidates import cap_candidates, generate_candidates, oic_scores

__all__ = ['generate_candidates', 'cap_candidates', 'oic_scores']

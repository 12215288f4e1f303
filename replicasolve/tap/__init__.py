"""TAP analysis of one network instance: bonds, the linearised TAP matrix, β_c, spectra.

Submodules: :mod:`.bonds` (couplings from weights), :mod:`.matrix` (A(β), its block
Cholesky factorisation, λ_min), :mod:`.critical` (β_c of an instance) and :mod:`.spectra`
(level statistics).
"""

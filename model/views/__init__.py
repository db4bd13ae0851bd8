"""Views of the network drawn with Pillow: what it sees, what it weighs, how sure it is.

`report` (the inside-the-network pages), `charts` (plots without
matplotlib), `explain` (activations and evidence for one input),
`robustness` (how readings change under small distortions).
"""

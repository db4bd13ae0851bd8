"""The user's own handwriting: labelled samples on disk and adapting the weights to them.

`samples` (one ink JSON per sample, atomic writes, damaged files skipped),
`adapt` (fine-tuning the current weights on the samples plus a replay set).
"""

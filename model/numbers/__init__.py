"""Reading a number: splitting ink and images into digits by recognition.

`segment` (grouping by geometry alone, the first proposal), `segment_ink`
(candidate digits from runs of strokes), `segment_image` and `segment_cuts`
(candidate digits from components and cuts through them), `lattice` (the
shared search for the best reading and its runner-up).
"""

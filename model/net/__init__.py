"""The network itself: shapes, forward pass and gradient, training, committees, Theta files.

`layout` (layer sizes and the flat parameter vector), `blocks` and `blas`
(how the work is split over cores), `mlp` (the forward pass and the cost and
gradient), `train` (L-BFGS-B), `ensemble` (a committee's averaged
probabilities) and `weights` (loading and saving Theta folders).
"""

"""Digitpad's recognition core: pure NumPy/SciPy/Pillow, never tkinter.

A sigmoid multi-layer perceptron (any number of hidden layers) trained with
L-BFGS-B, its weights stored as plain-text Theta files, plus the code that
turns pen strokes and scanned images into MNIST-like 28x28 inputs.
"""

__all__ = ["DigitpadError"]

from model.errors import DigitpadError

"""The one exception family the CLI and the app turn into a one-line message."""


class DigitpadError(Exception):
    """A problem with user input (a file, a setting) that deserves one clear line.

    The message names the file (when there is one) and what is wrong with it.
    """


class WeightsError(DigitpadError):
    """A weights folder or Theta file that is missing, malformed or does not chain."""


class DataError(DigitpadError):
    """An MNIST idx file (or other data set) that is missing, corrupt or inconsistent."""


class InputError(DigitpadError):
    """An image or ink file given to predict that cannot be read."""


class NothingToRecognise(DigitpadError):
    """The input holds no ink at all: there is nothing to classify."""

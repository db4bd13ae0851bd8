"""Layer sizes of a network: the only place they live.

A `Layout` is the tuple ``(784, h1, ..., hk, 10)``. Everything else (weight
shapes, parameter counts, offsets into the flat optimizer vector) is derived
from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

N_INPUTS = 28 * 28
N_CLASSES = 10


@dataclass(frozen=True)
class Layout:
    """Sizes of every layer, input first, output last."""

    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        sizes = tuple(self.sizes)
        if len(sizes) < 2:
            raise ValueError(f"a layout needs at least 2 layers, got sizes={sizes}")
        for n in sizes:
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"layer sizes must be positive integers, got {sizes}")
        object.__setattr__(self, "sizes", sizes)

    @classmethod
    def with_hidden(
        cls, hidden: Iterable[int], n_in: int = N_INPUTS, n_out: int = N_CLASSES
    ) -> Layout:
        """Layout ``[n_in, *hidden, n_out]``."""
        return cls((n_in, *[int(h) for h in hidden], n_out))

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Theta shapes ``(units_out, units_in + 1)``: column 0 holds the bias."""
        return [(n_out, n_in + 1) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]

    @property
    def n_params(self) -> int:
        """Total number of weights and biases."""
        return sum(r * c for r, c in self.shapes)

    @property
    def hidden(self) -> tuple[int, ...]:
        """Sizes of the hidden layers only."""
        return self.sizes[1:-1]

    def __str__(self) -> str:
        return "-".join(str(n) for n in self.sizes)


def parse_hidden(text: str) -> list[int]:
    """Parse ``"300,100"`` into ``[300, 100]`` with a clear error."""
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValueError(f"hidden layer sizes must be integers like 300,100; got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"hidden layer sizes must be positive integers like 300,100; got {text!r}")
    return sizes


def layout_from_shapes(shapes: Sequence[tuple[int, int]]) -> Layout:
    """Infer the layout from Theta shapes, checking that they chain."""
    sizes = [shapes[0][1] - 1]
    for i, (n_out, n_in_plus_bias) in enumerate(shapes):
        if n_in_plus_bias - 1 != sizes[-1]:
            raise ValueError(
                f"Theta{i + 1} has shape {n_out}x{n_in_plus_bias}, expected {sizes[-1] + 1} "
                f"columns (bias + {sizes[-1]} units of the layer before)"
            )
        sizes.append(n_out)
    return Layout(tuple(sizes))

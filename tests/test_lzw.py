""".Z (Unix compress) decoding, checked against gzip's own decoder and the file UCI serves.

`gzip -d` reads .Z files with its own LZW decoder (a separate code base), so it
is the independent reference: the small encoder below exists only to make
streams with every feature of the format (widths 9..16, block mode on and off,
CLEAR codes, the KwKwK case), and gzip is asked first whether they are valid.
"""

import subprocess

import numpy as np
import pytest
from conftest import PEN_FILE

from model.datasets import lzw

PEN = PEN_FILE.parent


def compress_z(data: bytes, max_bits: int = 16, block: bool = True, clear_every: int | None = None) -> bytes:
    """A minimal `compress` encoder (test helper), with a CLEAR every `clear_every` codes if asked."""
    out_bits: list[tuple[int, int]] = []  # (code, width) in order, with padding markers
    n_bits, first = 9, True
    first_free = 257 if block else 256
    dec_free = first_free  # the decoder's free_ent before it reads the next code
    enc_free = first_free
    table: dict[tuple[int, int], int] = {}
    since_clear = 0

    def pad() -> None:
        out_bits.append((-1, n_bits))

    def emit(code: int) -> None:
        nonlocal n_bits, dec_free, first
        while (n_bits < max_bits or n_bits == 9) and dec_free > (1 << n_bits) - 1:
            pad()
            n_bits += 1
        out_bits.append((code, n_bits))
        if not first and dec_free < (1 << max_bits):
            dec_free += 1
        first = False

    if data:
        ent = data[0]
        for c in data[1:]:
            if (ent, c) in table:
                ent = table[(ent, c)]
                continue
            emit(ent)
            since_clear += 1
            if enc_free < (1 << max_bits):
                table[(ent, c)] = enc_free
                enc_free += 1
            if block and clear_every and since_clear >= clear_every:
                emit(lzw.CLEAR)
                pad()
                n_bits, dec_free, enc_free, since_clear = 9, 256, 257, 0
                table.clear()
            ent = c
        emit(ent)
    # Pack LSB first; a pad marker skips to the end of the group of 8 codes of that width.
    acc, nbits, seg_start, pos = 0, 0, 0, 0
    for code, width in out_bits:
        if code < 0:
            group = 8 * width
            target = seg_start + -(-(pos - seg_start) // group) * group
            nbits += target - pos
            pos = seg_start = target
            continue
        acc |= code << nbits
        nbits += width
        pos += width
    n_bytes = (nbits + 7) // 8
    header = bytes((0x1F, 0x9D, max_bits | (0x80 if block else 0)))
    return header + acc.to_bytes(n_bytes, "little")


def gunzip(z: bytes) -> bytes:
    return subprocess.run(["gzip", "-dc"], input=z, capture_output=True, check=True).stdout


CASES = {
    "empty": lambda: b"",
    "one byte": lambda: b"7",
    "KwKwK run": lambda: b"a" * 5000,
    # read when the test runs, so a missing data folder fails these tests by name, not the collection
    "text": lambda: (PEN / "pendigits-orig.names").read_bytes(),
    "random": lambda: np.random.default_rng(0).integers(0, 256, 150_000, dtype=np.uint8).tobytes(),
    "few symbols": lambda: np.random.default_rng(1).integers(48, 52, 200_000, dtype=np.uint8).tobytes(),
}
"""The streams compressed, by name (made when a test asks for them)."""


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("max_bits, block, clear_every", [(16, True, None), (12, True, None), (9, True, None),
                                                          (16, False, None), (12, True, 700)])
def test_decodes_what_gzip_decodes(name, max_bits, block, clear_every):
    raw = CASES[name]()
    z = compress_z(raw, max_bits=max_bits, block=block, clear_every=clear_every)
    assert gunzip(z) == raw, "the test encoder must write streams gzip accepts"
    assert lzw.decompress(z) == raw


def test_the_file_uci_serves_decompresses_to_the_trajectories():
    z = (PEN / "pendigits-orig.tra.Z").read_bytes()
    assert z[2] == 0x90  # block mode, 16-bit codes, with CLEAR codes in the stream
    assert lzw.decompress(z) == (PEN / "pendigits-orig.tra").read_bytes()


@pytest.mark.parametrize("bad, message", [
    (b"", "magic bytes"),
    (b"\x1f\x8b\x08\x00", "magic bytes"),
    (b"\x1f\x9d\x88abc", "outside 9..16"),
    (b"\x1f\x9d\xf0abc", "unknown flags"),
    (b"\x1f\x9d\x90" + (300).to_bytes(2, "little"), "beyond the table"),
])
def test_bad_streams_raise_one_line(bad, message):
    with pytest.raises(lzw.LZWError) as err:
        lzw.decompress(bad)
    assert message in str(err.value) and "\n" not in str(err.value)

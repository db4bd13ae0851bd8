"""Unix ``compress`` (.Z) decompression: LZW with 9- to 16-bit codes.

Python's standard library reads gzip, bzip2 and xz but not ``.Z``, which is
how UCI still serves the pen-digits trajectories. This module decodes the
format as ncompress 4.2 (and gzip's ``unlzw``) write and read it:

- a 3-byte header: the magic ``1f 9d``, then a flags byte whose low 5 bits
  give the largest code width (9..16) and whose top bit says "block mode"
  (code 256 clears the table);
- codes packed least-significant bit first, starting 9 bits wide and growing
  by one bit each time the table fills the current width;
- the format's quirks: codes are read in groups of eight, so whenever the
  width changes (or the table is cleared) the reader skips to the end of
  the current group of ``8 * width`` bits; and with a 9-bit limit, once
  the table is full, ncompress and gzip both move on to 10-bit codes.

The bit unpacking of each run of equal-width codes is vectorised with NumPy;
the table walk, which is sequential by nature, is a plain loop over codes.
It leaves out compression: Digitpad only needs to read ``.Z`` files.
"""

from __future__ import annotations

import numpy as np

MAGIC = b"\x1f\x9d"
INIT_BITS = 9
CLEAR = 256


class LZWError(ValueError):
    """The bytes are not a valid ``.Z`` stream (wrong magic, bad flags or a code out of range)."""


def _codes(bits_src: np.ndarray, start_bit: int, n_bits: int, count: int) -> np.ndarray:
    """`count` codes of `n_bits` bits each, LSB first, from bit `start_bit` of the padded bytes."""
    pos = start_bit + n_bits * np.arange(count, dtype=np.int64)
    byte = pos >> 3
    word = (bits_src[byte].astype(np.int64) | (bits_src[byte + 1].astype(np.int64) << 8)
            | (bits_src[byte + 2].astype(np.int64) << 16))
    return (word >> (pos & 7)) & ((1 << n_bits) - 1)


def decompress(data: bytes) -> bytes:
    """Decode a whole ``.Z`` stream; raises `LZWError` when it is not one."""
    if len(data) < 3 or data[:2] != MAGIC:
        raise LZWError("not a Unix-compressed (.Z) stream: the magic bytes 1f 9d are missing")
    flags = data[2]
    max_bits = flags & 0x1F
    block_mode = bool(flags & 0x80)
    if flags & 0x60:
        raise LZWError(f"unknown flags 0x{flags:02x} in the .Z header")
    if not INIT_BITS <= max_bits <= 16:
        raise LZWError(f"code width {max_bits} bits is outside 9..16")
    max_max_code = 1 << max_bits
    payload = np.frombuffer(data, dtype=np.uint8, offset=3)
    padded = np.concatenate([payload, np.zeros(3, dtype=np.uint8)])
    total_bits = 8 * len(payload)

    table: list[bytes] = [bytes((i,)) for i in range(256)]
    if block_mode:
        table.append(b"")  # code 256 is CLEAR, never data
    out: list[bytes] = []
    prev = b""  # the last string output
    # ncompress's free_ent: the next table slot. Every code but the very first in the stream
    # fills one; a CLEAR sets it back to 256, so the code after a CLEAR fills slot 256 (the
    # CLEAR slot, a dummy kept empty here) and the table grows again from 257.
    free = len(table)
    first = True
    n_bits = INIT_BITS
    seg_start = 0  # bit where the current run of equal-width codes began
    pos = 0
    while True:
        fit = (total_bits - pos) // n_bits  # whole codes left in the input
        if fit <= 0:
            break
        if n_bits >= max_bits and n_bits > INIT_BITS:
            count = fit  # the widest codes: no more widening
        else:  # codes readable before free_ent passes this width's largest code
            count = min(fit, (1 << n_bits) - free + first)
        codes = _codes(padded, pos, n_bits, count).tolist()
        cleared = False
        for i, code in enumerate(codes):
            if code == CLEAR and block_mode:
                del table[257:]
                used = pos + n_bits * (i + 1)
                group = 8 * n_bits
                pos = seg_start + -(-(used - seg_start) // group) * group
                seg_start = pos
                n_bits = INIT_BITS
                free = CLEAR
                cleared = True
                break
            if code < len(table) and table[code]:
                entry = table[code]
            elif code == free == len(table) and prev:
                entry = prev + prev[:1]
            else:
                raise LZWError(f"code {code} is beyond the table of {len(table)} (corrupt .Z data)")
            if not first and free < max_max_code:
                if free == len(table):
                    table.append(prev + entry[:1])
                free += 1
            first = False
            out.append(entry)
            prev = entry
        if cleared:
            continue
        pos += n_bits * count
        if count == fit:
            break  # the input ran out
        # free_ent passed this width: skip to the end of the group of eight codes, widen.
        group = 8 * n_bits
        pos = seg_start + -(-(pos - seg_start) // group) * group
        seg_start = pos
        n_bits += 1
    return b"".join(out)

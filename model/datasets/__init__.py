"""The data sets the network is trained and measured on, read from their original files.

`mnist` (idx files, checksums, download; also where data folders are looked
for), `pendigits` (UCI pen strokes in UNIPEN text, rendered through the ink
pipeline), `lzw` (the Unix ``compress`` format UCI serves them in) and
`replay` (the small shipped set that adapting mixes in).
"""

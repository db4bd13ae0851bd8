"""What becomes a 28x28 input: pen strokes, scanned images, deskewing and training distortions.

`ink` (strokes rendered with Pillow and normalised the way MNIST was),
`images` (scans and pictures: paper, ink, crop, the same normalisation),
`deskew` (second-moment shear, the same for ink, images and training data),
`augment` (affine + elastic + stroke-width distortions for training).
"""

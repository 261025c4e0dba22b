"""poolref: reference max pooling with PyTorch's exact semantics.

The default functions come from :mod:`poolref.fast` (vectorised NumPy).
:mod:`poolref.im2col` (the classic im2col/col2im algorithm) and
:mod:`poolref.naive` (the loop oracle) have the same signatures and are
written independently, so each checks the others.
"""

from . import naive

__version__ = "0.1.0"

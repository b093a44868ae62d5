"""Building blocks of tile-matmul (passes/tile_matmul.py).

    sizes.py    Tiling: the register-tile and cache-block sizes of one
                element type, from the options and the machine; `split`
    emitter.py  Lin and Emitter: loop nests with index arithmetic folded
                at compile time

How the sizes are chosen and what the loop nests look like: docs/tiling.md.
"""

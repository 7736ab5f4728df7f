"""Sudoku of any box shape: parse, format, verify, solve, grade, generate, augment.

A grid of side n = box_rows * box_cols is stored as a flat numpy row of n*n ints,
0 for a blank. A batch is an array ``[N, n*n]``. The 4x4 example below (boxes 2x2)
walks through every function::

    >>> from puzzles import sudoku as sd
    >>> box = (2, 2)
    >>> p = sd.parse_line("1...|..2.|.3..|...4".replace("|", ""), box)   # 4 givens
    >>> sd.count_solutions(p, box, limit=2)      # 1: the puzzle is well posed
    1
    >>> q = sd.parse_line("12....2..3....4.".replace(".", "0"), box)
    >>> sol = sd.solve(q, box)                   # propagation + MRV search
    >>> sd.format_line(sol, box)
    '1234342143122143'
    >>> bool(sd.verify(q[None], sol[None], box).solved[0])
    True
    >>> sd.singles_depth(q, box)                 # rounds of "fill every single at once"
    2

Digits are written 1-9 for n <= 9 and ``123456789ABCDEFG`` for 16x16 (A=10 ... G=16);
``.`` or ``0`` is a blank. Model tokens (``encode``) are digit-1, with ``MASK = n``.
"""
from puzzles.sudoku.generate import generate_one, random_grid
from puzzles.sudoku.grid import (
    ALPHABET,
    BOXES,
    DEFAULT_BOX,
    Box,
    Geometry,
    box_for_size,
    decode,
    encode,
    geometry,
    mask_id,
    unit_name,
    vocab,
)
from puzzles.sudoku.io import format_board, format_grid_text, format_line, parse_line, read_file, write_file
from puzzles.sudoku.order import map_order, round_singles, solver_order, solver_rounds, to_pairs
from puzzles.sudoku.solve import check_puzzle, count_solutions, search_nodes, singles_depth, solve
from puzzles.sudoku.symmetry import augment, random_symmetry
from puzzles.sudoku.verify import Verdict, conflicts, verify

__all__ = ["ALPHABET", "BOXES", "DEFAULT_BOX", "Box", "Geometry", "Verdict", "augment", "box_for_size",
           "check_puzzle", "conflicts", "count_solutions", "decode", "encode", "format_board", "format_grid_text", "format_line",
           "generate_one", "geometry", "map_order", "mask_id", "parse_line", "random_grid", "random_symmetry",
           "read_file", "round_singles", "search_nodes", "singles_depth", "solve", "solver_order", "solver_rounds", "to_pairs", "unit_name", "verify",
           "vocab", "write_file"]

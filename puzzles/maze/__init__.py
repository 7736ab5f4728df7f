"""Lattice mazes: generate, solve (BFS), verify, grade (dead-end depth), encode.

A maze of r x c cells is drawn on a (2r+1) x (2c+1) character grid (HRM charset):
``#`` wall, space open, ``S`` start, ``G`` goal, ``o`` path (answers only). Cells sit at
odd (row, col); the character between two cells is their passage. A 2x2 example::

    >>> from puzzles import maze as mz
    >>> q = mz.parse_block(["#####", "#S  #", "### #", "#G  #", "#####"])
    >>> a = mz.solve(q)                           # BFS over open characters
    >>> print(mz.format_block(a))
    #####
    #Soo#
    ###o#
    #Goo#
    #####
    >>> mz.verify(q, a).reason                    # one simple S-G path, shortest
    'solved'
    >>> mz.dead_end_depth(q)                      # a tree with no dead ends: 0 rounds + 1
    1

Arrays are uint8 codes (WALL=0, OPEN=1, START=2, GOAL=3, PATH=4) of shape [H, W].
With loops (``extra_open > 0``) several shortest paths may exist: the verifier accepts
any path whose length equals the BFS distance.
"""
from puzzles.maze.generate import MIXED_LOOPS, generate_mixed, generate_one, random_maze
from puzzles.maze.grid import CHARS, GENERATORS, GOAL, OPEN, PATH, START, WALL, cell_distances
from puzzles.maze.io import check_lattice, format_block, parse_block, read_file, write_file
from puzzles.maze.solve import count_shortest_paths, dead_end_depth, shortest_length, solve
from puzzles.maze.tokens import (
    MASK,
    N_STRUCT,
    OFF,
    ON,
    VOCAB_SIZE,
    conflicts,
    decided_off,
    decode,
    dihedral,
    encode,
    fill_rounds,
    path_cells,
    vocab,
)
from puzzles.maze.verify import REASONS, MazeVerdict, verify

__all__ = ["CHARS", "GENERATORS", "GOAL", "MASK", "MIXED_LOOPS", "N_STRUCT", "OFF", "ON", "OPEN", "PATH", "REASONS",
           "START", "VOCAB_SIZE", "WALL", "MazeVerdict", "cell_distances", "check_lattice", "conflicts",
           "count_shortest_paths", "dead_end_depth", "decided_off", "decode", "dihedral", "encode", "fill_rounds", "format_block", "generate_mixed",
           "generate_one", "parse_block", "path_cells", "random_maze", "read_file", "shortest_length", "solve", "verify", "vocab", "write_file"]

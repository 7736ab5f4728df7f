"""Puzzle logic in pure numpy: Sudoku and lattice mazes (never imports torch)."""

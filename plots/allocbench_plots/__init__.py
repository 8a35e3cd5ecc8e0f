"""allocbench-plots: charts and the HTML report drawn from allocbench result files."""

__version__ = "0.1.0"

#!/usr/bin/env python3
"""How fairly the pipeline judges comments about groups of people: runs
`training/eval_fairness.py` (see its --help)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.eval_fairness import main

if __name__ == "__main__":
    main()

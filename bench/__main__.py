"""`make bench`: runs every bench/bench_*.py module's run(), printing one JSON object per figure."""

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import django


def main() -> int:
    django.setup()
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    selected = [name for name in names if not sys.argv[1:] or any(arg in name for arg in sys.argv[1:])]
    for name in selected:
        module = importlib.import_module(f"bench.{name}")
        for figure in module.run():
            print(json.dumps({"bench": name.removeprefix("bench_"), **figure}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m storage.wilayah DATA_DIR`: rebuild the shipped list from idn-area-data's CSV files."""

import sys
from pathlib import Path

from storage.wilayah import LIST, build

print(f"{build(Path(sys.argv[1]))} places written to {LIST}")

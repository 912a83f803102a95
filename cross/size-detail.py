#!/usr/bin/env python3
"""What each part of the binary costs: code and data bytes per component,
summed over the symbols of an unstripped build (`make size-detail`).

Usage: cross/size-detail.py BINARY

The components are regular expressions over demangled symbol names; a
symbol may count in more than one row (sonde::config is inside sonde::).
Used to weigh a dependency before adding it: build, run, compare.
"""
import re
import subprocess
import sys

COMPONENTS = [
    ("sonde (all)", r"sonde::"),
    ("  config (syntax + schema)", r"sonde::config"),
    ("  serve", r"sonde::serve"),
    ("  collect", r"sonde::collect"),
    ("  wire", r"sonde::wire"),
    ("  expo", r"sonde::expo"),
    ("  push", r"sonde::push"),
    ("argh", r"argh"),
    ("httparse", r"httparse"),
    ("snap", r"snap::"),
    ("std backtrace + unwind", r"gimli|addr2line|miniz|rustc_demangle|backtrace|libunwind|unwind"),
    ("f64 parsing (dec2flt)", r"dec2flt|f64 as core::str::traits::FromStr"),
    ("f64 formatting (flt2dec)", r"flt2dec"),
]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = subprocess.run(["nm", "-S", "-C", sys.argv[1]], capture_output=True, text=True, check=True).stdout
    totals = {name: 0 for name, _ in COMPONENTS}
    everything = 0
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        size, name = int(parts[1], 16), parts[3]
        everything += size
        for label, pattern in COMPONENTS:
            if re.search(pattern, name):
                totals[label] += size
    for label, _ in COMPONENTS:
        print(f"{label:28} {totals[label]:9d} B {totals[label] / 1024:7.1f} KiB")
    print(f"{'all sized symbols':28} {everything:9d} B {everything / 1024:7.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

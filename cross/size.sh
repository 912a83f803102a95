#!/bin/sh
# Prints the stripped size of each target's binary against its budget in
# targets/, and exits 1 if one is over. A target not built is listed as
# such (`make cross` builds them all).
set -eu
cd "$(dirname "$0")/.."
. cross/lib.sh
fail=0
printf '%-8s %-32s %-9s %9s %7s %7s  %s\n' name target build bytes KiB budget verdict
for name in $(target_names "$@"); do
    load_target "$name"
    bin=$(bin_path)
    if [ ! -f "$bin" ]; then
        printf '%-8s %-32s %-9s %9s %7s %7s  %s\n' "$name" "$TRIPLE" "$BUILD" - - "$BUDGET_KIB" "not built"
        continue
    fi
    # The release profile strips already; measure the file as shipped.
    bytes=$(wc -c < "$bin")
    kib=$(( (bytes + 1023) / 1024 ))
    verdict=ok
    if [ "$kib" -gt "$BUDGET_KIB" ]; then verdict="OVER BUDGET"; fail=1; fi
    printf '%-8s %-32s %-9s %9s %7s %7s  %s\n' "$name" "$TRIPLE" "$BUILD" "$bytes" "$kib" "$BUDGET_KIB" "$verdict"
done
exit $fail

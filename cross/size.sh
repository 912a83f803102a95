#!/bin/sh
# Prints the stripped size of each built target's binary against its
# budget in targets/, and exits 1 if one is over. A target not built is
# listed as such (and does not fail: `make cross` builds them).
set -eu
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
fail=0
printf '%-32s %10s %10s %8s  %s\n' target bytes KiB budget verdict
for f in targets/*.env; do
    TRIPLE='' BUDGET_KIB=''
    . "./$f"
    bin="target/$TRIPLE/$profile/sonde"
    if [ ! -f "$bin" ]; then
        printf '%-32s %10s %10s %8s  %s\n' "$TRIPLE" - - "$BUDGET_KIB" "not built"
        continue
    fi
    # The release profile strips already; measure a stripped copy anyway so
    # a profile change cannot make the number lie.
    tmp=$(mktemp)
    cp "$bin" "$tmp"
    strip "$tmp" 2>/dev/null || true
    bytes=$(wc -c < "$tmp")
    rm -f "$tmp"
    kib=$(( (bytes + 1023) / 1024 ))
    verdict=ok
    if [ "$kib" -gt "$BUDGET_KIB" ]; then verdict="OVER BUDGET"; fail=1; fi
    printf '%-32s %10s %10s %8s  %s\n' "$TRIPLE" "$bytes" "$kib" "$BUDGET_KIB" "$verdict"
done
exit $fail

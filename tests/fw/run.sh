#!/bin/sh
# tests/fw/run.sh - the smmfw scenario suite (firmware.md §14) on QEMU 7.2 by default.
# Extra arguments go to run.py, e.g.: tests/fw/run.sh --only hotplug-one
#   tests/fw/run.sh --emulator build/smmvm --accel '' --machine q35,smm=on,x-tcg-smm=on
exec python3 "$(dirname "$0")/run.py" "$@"

#!/usr/bin/env python3
"""filter.py - reduces `info mtree -D` + `info mtree -f` output (as hmp.py writes it) to
the lines platform.md §2.10 says must match QEMU, normalised for comparison:

  tree: the regions of §2.8 (and the aliases that build the views) inside
        `address-space: memory` and `memory-region: smram`, without indentation, sorted;
  flat: the ranges of the views "memory" and "cpu-smm-0" whose terminal region is RAM,
        ROM or an SMRAM black hole (QEMU's extra devices - ioapic, hpet, apic-msi - are
        not modelled by smmvm), in address order.

Intended difference normalised away: QEMU types a range reached through a read-only
alias of pc.ram (PAM field 1) as "rom" in the flat view; smmvm's mem/ prints "ram".
"""
import re
import sys

TREE_NAMES = {"smram-region", "smram-open-high", "tseg-blackhole", "smbase-blackhole",
              "smram-low", "smram-high", "tseg-window", "smbase-window", "pam-pci",
              "pam-rom", "pam-ram", "ram-below-4g", "ram-above-4g", "pci", "smram", "system"}
FLAT_NAMES = {"pc.ram", "pc.rom", "pc.bios", "smbase-blackhole", "tseg-blackhole"}
LINE = re.compile(r"^\s*([0-9a-f]{16}-[0-9a-f]{16}) \(prio (-?\d+), ([a-z/]+)\): (.*)$")


def region_name(rest):
    rest = rest.replace(" [disabled]", "")
    if rest.startswith("alias "):
        return rest.split()[1]
    return rest.split()[0]


def main():
    text = open(sys.argv[1]).read()
    tree_part, _, flat_part = text.partition("### info mtree -f\n")
    out = []
    section = None
    tree = []
    for line in tree_part.splitlines():
        if line.startswith("address-space: ") or line.startswith("memory-region: "):
            section = line
            continue
        if section not in ("address-space: memory", "memory-region: smram"):
            continue
        m = LINE.match(line)
        if m and region_name(m.group(4)) in TREE_NAMES:
            tree.append("tree %s: %s" % (section.split(": ")[1], line.strip()))
    out += sorted(tree)
    spaces = []
    flat = {"memory": [], "cpu-smm-0": []}
    for line in flat_part.splitlines():
        if line.startswith("FlatView"):
            spaces = []
            continue
        m = re.match(r' AS "([^"]+)"', line)
        if m:
            spaces.append(m.group(1))
            continue
        m = LINE.match(line)
        if not m:
            continue
        name = m.group(4).split()[0]
        if name not in FLAT_NAMES:
            continue
        line = line.strip().replace("(prio 0, rom): pc.ram", "(prio 0, ram): pc.ram")
        for space in flat:
            if space in spaces:
                flat[space].append("flat %s: %s" % (space, line))
    out += flat["memory"] + flat["cpu-smm-0"]
    print("\n".join(out))


main()

#!/usr/bin/env python3
"""vmlock: refuses an #include that goes against the layers (DESIGN.md, "Layers").

Usage: check-include-layers.py SOURCE_ROOT

Each folder under src/ is a layer and sees only the layers below it:
    util <- conf <- locking <- drivers
    util <- qemu, util <- control       (they know nothing of leases)
    supervisor sees all of src/
    libvirt (the module libvirt loads) sees util, conf, locking, drivers
    tools/ (front-ends) see control, supervisor (its start and runtime
           table, the state dir and status) and the public API
A project header is named from src/ ("util/log.h"), or bare when it sits
beside the file that includes it. The public API (<vmlock/...>) belongs to
the layer that implements it. Tests, fuzzers and benchmarks may see anything.
Prints every refused #include as FILE:LINE and exits 1 if there is any.
"""

import os
import re
import sys

SEES = {
    "util": {"util"},
    "conf": {"util", "conf"},
    "locking": {"util", "conf", "locking"},
    "drivers": {"util", "conf", "locking", "drivers"},
    "qemu": {"util", "qemu"},
    "control": {"util", "control"},
    "supervisor": {"util", "conf", "locking", "drivers", "qemu", "control", "supervisor"},
    "tools": {"control", "supervisor", "tools"},
    # The module libvirt loads: libvirt's ABI over vmlock's lock drivers.
    "libvirt": {"util", "conf", "locking", "drivers", "libvirt"},
    # The cleanup tool's main reads the sanlock driver's config; its library
    # half is in drivers/sanlock/cleanup/.
    "tools/sanlock-cleanup": {"util", "drivers", "tools/sanlock-cleanup"},
}

# Known exceptions, each with the reason it still stands.
EXCEPTIONS = {
    # vmlock_version_string() is declared in the umbrella header.
    ("src/util/version.c", "locking"),
}

# The layer each public header belongs to.
PUBLIC = {
    "vmlock/error.h": "util",
    "vmlock/vmlock-common.h": "util",
    "vmlock/config.h": "util",
    "vmlock/domain.h": "conf",
    "vmlock/domain-lock.h": "locking",
    "vmlock/lock-manager.h": "locking",
    "vmlock/vmlock.h": "locking",
}

QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ANGLED = re.compile(r"^\s*#\s*include\s+<(vmlock/[^>]+)>")


def layer_of(relpath):
    """The layer of a file (or folder) relative to the source root."""
    parts = relpath.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[0] == "tools":
        if len(parts) > 2 and parts[1] == "sanlock-cleanup":
            return "tools/sanlock-cleanup"
        return "tools"
    return None


def check_file(root, relpath, errors):
    layer = layer_of(relpath)
    sees = SEES[layer]
    here = os.path.dirname(relpath)
    with open(os.path.join(root, relpath), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            target = None
            quoted = QUOTED.match(line)
            angled = ANGLED.match(line)
            if quoted:
                name = quoted.group(1)
                if name == "config-build.h":
                    continue
                if os.path.exists(os.path.join(root, here, name)):
                    target = layer_of(os.path.join(here, name))
                elif os.path.exists(os.path.join(root, "src", name)):
                    target = layer_of(os.path.join("src", name))
                else:
                    errors.append(f"{relpath}:{number}: \"{name}\" is neither beside it "
                                  "nor under src/")
                    continue
            elif angled:
                if layer.startswith("tools"):
                    continue  # the public API is theirs to use
                target = PUBLIC.get(angled.group(1))
                if target is None:
                    errors.append(f"{relpath}:{number}: <{angled.group(1)}> is no public "
                                  "header this check knows")
                    continue
            if target is None or target in sees or (relpath, target) in EXCEPTIONS:
                continue
            errors.append(f"{relpath}:{number}: {layer} may not include {target} "
                          f"({line.strip()}); it sees {', '.join(sorted(sees))}")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = sys.argv[1]
    errors = []
    checked = 0
    for top in ("src", "tools"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    relpath = os.path.relpath(os.path.join(dirpath, name), root)
                    check_file(root, relpath, errors)
                    checked += 1
    for error in errors:
        print(error)
    print(f"{checked} files checked, {len(errors)} refused #include(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

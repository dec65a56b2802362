#!/bin/sh
# tests/interop/run.sh — the `make check` entry of the interop suite (meshd against
# Libreswan and strongSwan): tests/netns/run.sh --suite interop, which fetches the peers on
# the host (prepare.sh), then runs tests/interop/scenarios here when this kernel has ESP,
# else all of them in one boot of the QEMU guest. MESHD_INTEROP=auto|direct|vm|skip,
# MESHD_INTEROP_SCENARIOS="01-libreswan.sh:null:private:transport ..." run only these.
# (a scenario here runs up to ten IKE daemons at once: 600 s each before it counts as hung)
MESH_SCENARIO_TIMEOUT=${MESH_SCENARIO_TIMEOUT:-600}
export MESH_SCENARIO_TIMEOUT
exec sh "$(cd "$(dirname "$0")/.." && pwd)/netns/run.sh" --suite interop "$@"

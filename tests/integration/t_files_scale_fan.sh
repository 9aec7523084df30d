#!/bin/bash
# t_files_scale.sh, parts 3 to 6 (fan-outs to 20 targets, a full filesystem, run over 20,
# a stopped target): a test of its own, so that make -j check runs it beside
# the other half.
JG_SCALE_PARTS=fan exec bash "$(dirname "$0")/t_files_scale.sh" "$@"

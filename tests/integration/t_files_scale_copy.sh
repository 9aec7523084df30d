#!/bin/bash
# t_files_scale.sh, parts 1 and 2 (1 GiB up and down, 10,000 small files): a
# test of its own, so that make -j check runs it beside the other half.
JG_SCALE_PARTS=copy exec bash "$(dirname "$0")/t_files_scale.sh" "$@"

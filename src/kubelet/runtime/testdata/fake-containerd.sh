#!/bin/sh
# Runs fake-containerd.ts with the project's Node (see that file).
dir=$(dirname "$0")
exec "$dir/../../../../node_modules/.bin/node" "$dir/fake-containerd.ts" "$@"

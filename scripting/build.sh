#!/usr/bin/env bash
# Builds scripting/lua.wasm from Redis's Lua 5.1 (vendor/lua) and our glue (scripting/native).
# Needs Debian's clang, lld, wasi-libc and the wasm32 builtins:
#   apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
# The output is committed; `bash scripting/build.sh --check` rebuilds into a temporary file and
# fails if it differs from the committed one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=scripting/lua.wasm
if [ "${1:-}" = "--check" ]; then out=$(mktemp --suffix=.wasm); fi
# lua_cjson.c includes "../../../src/solarisfixes.h": clang resolves it from this include
# directory only if the directory exists, and git keeps no empty directory.
mkdir -p scripting/native/shim/a/b/c
clang --target=wasm32-wasi -O2 -mllvm -wasm-enable-sjlj -mexception-handling \
  -Iscripting/native/include -Ivendor/lua -Iscripting/native/shim/a/b/c \
  -DLUA_ANSI -DENABLE_CJSON_GLOBAL -DREDIS_STATIC= \
  -Wno-everything -mexec-model=reactor \
  -Wl,-z,stack-size=8388608 -Wl,--strip-debug \
  -o "$out" vendor/lua/*.c scripting/native/engine.c
if [ "${1:-}" = "--check" ]; then
  if ! cmp -s "$out" scripting/lua.wasm; then
    echo "scripting/lua.wasm is stale: run bash scripting/build.sh and commit it" >&2
    rm -f "$out"
    exit 1
  fi
  rm -f "$out"
  echo "scripting/lua.wasm is up to date"
fi

#!/bin/sh
# The layering of docs/development.md ("Layers"), checked on the source text:
#   runtime   every file under runtime/ includes, of the compiler, only the IR ("ir/...") and the JIT's helper
#             ABI ("codegen/helper_abi.h"); any other folder of compiler/ (parser, check, diag, pack, codegen...)
#             is a violation, however the include is spelled ("../../compiler/parser/parser.h" too)
#   antlr     ANTLR's headers (antlr4-runtime, the generated Braid{Lexer,Parser,Visitor,BaseVisitor}.h) are
#             included under compiler/parser only
# Each violation is printed as file:line with the include; the exit code is 1 if there is any.
# The include roots (cmake/BraidIncludeRoot.cmake) make most violations fail to compile as well; this check also
# covers what the roots cannot: diag, which runtime code sees through ir/ir.h but must not include itself, and
# relative paths.
#
# usage: check_layering.sh SOURCE_DIR runtime|antlr
# POSIX sh, find and awk only (CI, any Debian). tests/layering/fixture is this check's own bad example
# (layering.detects_violations), so the antlr scan of the real tree skips it.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: check_layering.sh SOURCE_DIR runtime|antlr" >&2
  exit 2
fi
cd "$1"
mode=$2

# The compiler's layers are its folders, so a new layer is forbidden to the runtime without editing this file.
layers=""
for d in compiler/*/; do
  [ -d "$d" ] && layers="$layers $(basename "$d")"
done
if [ -z "$layers" ]; then
  echo "check_layering.sh: no folders in $1/compiler" >&2
  exit 2
fi

sources() {  # the C and C++ files under the given folders, sorted, relative to SOURCE_DIR
  for dir in "$@"; do
    [ -d "$dir" ] && find "$dir" -type f \( -name '*.h' -o -name '*.hh' -o -name '*.hpp' -o -name '*.c' \
      -o -name '*.cc' -o -name '*.cpp' -o -name '*.cxx' -o -name '*.inc' -o -name '*.ipp' \) \
      ! -path 'tests/layering/fixture/*'
  done | LC_ALL=C sort
}

case $mode in
  runtime) files=$(sources runtime) ;;
  antlr) files=$(sources compiler runtime support tools tests bench) ;;
  *) echo "check_layering.sh: unknown check '$mode' (runtime or antlr)" >&2; exit 2 ;;
esac
if [ -z "$files" ]; then
  # A check that reads no file would pass whatever the code: refuse.
  echo "check_layering.sh: no source files to check under $1 (wrong SOURCE_DIR?)" >&2
  exit 2
fi

# shellcheck disable=SC2086  # one file name per word: the tree has no spaces in paths
awk -v mode="$mode" -v layers="$layers" '
  BEGIN {
    n = split(layers, l, " ")
    for (i = 1; i <= n; i++) layer[l[i]] = 1
    bad = 0
  }
  /^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    line = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
    close_char = substr(line, 1, 1) == "<" ? ">" : "\""
    path = substr(line, 2)
    end = index(path, close_char)
    if (end == 0) next
    path = substr(path, 1, end - 1)
    if (mode == "runtime") {
      # "../../compiler/parser/parser.h" names the parser as surely as "parser/parser.h".
      p = path
      while (p ~ /^\.\.?\//) sub(/^\.\.?\//, "", p)
      sub(/^compiler\//, "", p)
      slash = index(p, "/")
      if (slash == 0) next
      top = substr(p, 1, slash - 1)
      if ((top in layer) && top != "ir" && p != "codegen/helper_abi.h") {
        printf "%s:%d: runtime code includes \"%s\" (compiler layer %s); it may include only ir/... and codegen/helper_abi.h\n", FILENAME, FNR, path, top
        bad++
      }
    } else {
      p = tolower(path)
      if ((p ~ /antlr4/ || p ~ /(^|\/)braid(lexer|parser|visitor|basevisitor)\.h$/) && FILENAME !~ /^compiler\/parser\//) {
        printf "%s:%d: includes \"%s\" (ANTLR) outside compiler/parser\n", FILENAME, FNR, path
        bad++
      }
    }
  }
  END {
    if (bad) {
      printf "%d layering violation(s); docs/development.md, \"Layers\"\n", bad
      exit 1
    }
  }' $files
echo "layering ($mode): $(echo "$files" | wc -l) files checked, no violation"

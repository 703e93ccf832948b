#!/bin/sh
# Makes the terminal capture of docs/editors.md: Neovim (Debian's 0.7) in tmux with `braid lsp` on a rule with a
# misspelt field; `tmux capture-pane` once the diagnostic shows, and again with the completion list after
# `userIdentity.` (<C-x><C-o>). Not a test. Usage: capture.sh BRAID OUT_DIR
set -eu
braid=$(realpath "$1") out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
mkdir -p "$out" "$work/ws"
cp "$here/workspace/"*.braid "$work/ws/"
session=braid-capture-$$
tmux new-session -d -s "$session" -x 100 -y 24 \
  "cd $work/ws && XDG_CACHE_HOME=$work/cache BRAID=$braid nvim -u NONE -i NONE -n typo.braid -c 'luafile $here/capture_init.lua'"
sleep 3
tmux capture-pane -p -t "$session" >"$out/nvim-diagnostic.txt"
tmux send-keys -t "$session" 6G A ' and userIdentity.'
sleep 1
tmux send-keys -t "$session" C-x C-o
sleep 2
tmux capture-pane -p -t "$session" >"$out/nvim-completion.txt"
tmux send-keys -t "$session" Escape ':qa!' Enter
sleep 1
tmux kill-session -t "$session" 2>/dev/null || true
rm -rf "$work"
echo "wrote $out/nvim-diagnostic.txt and $out/nvim-completion.txt"

#!/usr/bin/env bash
# Headless Neovim opens the tailored-audiences example with purposelint as its language
# server and prints the diagnostics it received. Uses the documented `vim.lsp.config`
# snippet on Neovim 0.11+, and `vim.lsp.start_client` on older versions (Debian ships 0.7).
#
#   PURPOSELINT=target/debug/purposelint scripts/nvim-e2e.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "${PURPOSELINT:-$repo/target/debug/purposelint}")" && pwd)/$(basename "${PURPOSELINT:-purposelint}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$repo/examples/tailored-audiences/." "$work/"
mkdir "$work/.git"
cat > "$work/check.lua" <<'LUA'
local bin = os.getenv('PURPOSELINT')
local root = vim.fn.getcwd()
local out = {}
local function say(s) table.insert(out, s) end
if vim.lsp.config then
  say('client: vim.lsp.config (Neovim ' .. tostring(vim.version()) .. ')')
  vim.lsp.config('purposelint', {
    cmd = { bin, 'lsp' },
    filetypes = { 'yaml' },
    root_markers = { '.git', 'rules' },
  })
  vim.lsp.enable('purposelint')
  vim.cmd('edit pipelines/matching.yaml')
else
  local v = vim.version()
  say(string.format('client: vim.lsp.start_client (Neovim %d.%d.%d)', v.major, v.minor, v.patch))
  vim.cmd('edit pipelines/matching.yaml')
  local id = vim.lsp.start_client({
    name = 'purposelint',
    cmd = { bin, 'lsp' },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = 'ws' } },
  })
  vim.lsp.buf_attach_client(0, id)
end
local ok = vim.wait(20000, function() return #vim.diagnostic.get(0) >= 3 end, 50)
say('diagnostics received: ' .. tostring(ok))
for _, d in ipairs(vim.diagnostic.get(0)) do
  say(string.format('pipelines/matching.yaml:%d:%d %s [%s] %s', d.lnum + 1, d.col + 1,
    d.source or '?', d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or '?',
    d.message:gsub('\n.*', '')))
end
-- Edit the join out in the buffer: the diagnostics of the file must go (but user_id's).
vim.cmd([[silent! g/^    join: /d]])
vim.cmd([[silent! g/^      user_id: accounts.security_contacts.user_id$/d]])
local cleared = vim.wait(20000, function() return #vim.diagnostic.get(0) == 0 end, 50)
say('after editing the join out, diagnostics cleared: ' .. tostring(cleared))
local f = io.open(root .. '/result.txt', 'w')
f:write(table.concat(out, '\n') .. '\n')
f:close()
vim.cmd('qa!')
LUA
cd "$work"
PURPOSELINT="$bin" timeout 60 nvim --headless --clean -c 'luafile check.lua' || true
cat result.txt
grep -q 'diagnostics received: true' result.txt
grep -q 'diagnostics cleared: true' result.txt

-- Neovim end to end (tests/lsp/nvim/run.sh): Neovim's own LSP client drives `braid lsp` on a rule with a misspelt
-- field. It waits for the diagnostic, applies the fix-it code action, asks for completion after `userIdentity.`,
-- formats the buffer, hovers, goes to a definition in the stdlib (read-only), and writes one line per step to
-- $RESULT ("ok STEP" or "FAIL STEP: what was seen").
-- Works with Neovim 0.7 (Debian 12): vim.lsp.start_client, buf_request_sync, formatting_sync.
local braid = os.getenv('BRAID')
local result_path = os.getenv('RESULT')
local expected_path = os.getenv('EXPECTED')
local out = assert(io.open(result_path, 'w'))
local failed = false

local function report(ok, step, detail)
  -- The detail (what was seen) only for a failure.
  out:write((ok and 'ok ' or 'FAIL ') .. step .. ((not ok and detail) and (': ' .. detail) or '') .. '\n')
  out:flush()
  if not ok then failed = true end
  return ok
end

local function finish()
  out:write(failed and 'done with failures\n' or 'done\n')
  out:close()
  vim.cmd('qa!')
end

local function line(n) return vim.api.nvim_buf_get_lines(0, n, n + 1, false)[1] end

local ok, err = pcall(function()
  local root = vim.fn.getcwd()
  local client_id = vim.lsp.start_client({
    name = 'braid',
    cmd = { braid, 'lsp' },
    root_dir = root,
    flags = { debounce_text_changes = 50 },
  })
  assert(client_id, 'the client did not start')
  vim.lsp.buf_attach_client(0, client_id)

  -- 1. The diagnostic of the misspelt field (line 6, `eventNmae`).
  local got = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  local diags = vim.diagnostic.get(0)
  if not report(got and #diags == 1, 'diagnostic', vim.inspect(diags)) then return end
  local d = diags[1]
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  report(code == 'BRD0301' and d.lnum == 5 and d.col == 7 and d.message:find('eventNmae', 1, true) ~= nil,
         'diagnostic-content', string.format('%s %d:%d %s', tostring(code), d.lnum, d.col, d.message))

  -- 2. The fix-it as a code action, applied.
  local params = vim.lsp.util.make_range_params()
  params.range = { start = { line = 5, character = 9 }, ['end'] = { line = 5, character = 9 } }
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, 5) }
  local responses = vim.lsp.buf_request_sync(0, 'textDocument/codeAction', params, 10000) or {}
  local action
  for _, r in pairs(responses) do
    for _, a in ipairs(r.result or {}) do action = action or a end
  end
  if not report(action ~= nil and action.edit ~= nil, 'code-action', vim.inspect(responses)) then return end
  report(action.title == 'Did you mean `eventName`?', 'code-action-title', action.title)
  vim.lsp.util.apply_workspace_edit(action.edit, 'utf-16')
  report(line(5):find('when eventName == "CreateUser"', 1, true) ~= nil, 'fix-applied', line(5))
  local cleared = vim.wait(20000, function() return #vim.diagnostic.get(0) == 0 end, 50)
  report(cleared, 'diagnostic-cleared', vim.inspect(vim.diagnostic.get(0)))

  -- 3. Completion after `userIdentity.`.
  local saved = line(5)
  vim.api.nvim_buf_set_lines(0, 5, 6, false, { '  when eventName == "CreateUser" and userIdentity.' })
  vim.wait(300)
  local col = #line(5)
  local cparams = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = 5, character = col } }
  local cres = vim.lsp.buf_request_sync(0, 'textDocument/completion', cparams, 10000) or {}
  local labels = {}
  for _, r in pairs(cres) do
    local items = r.result and (r.result.items or r.result) or {}
    for _, it in ipairs(items) do labels[it.label] = it.detail or '' end
  end
  report(labels['arn'] == 'string (optional)' and labels['type'] == 'string' and labels['accessKeyId'] ~= nil
         and labels['eventName'] == nil, 'completion', vim.inspect(labels))
  vim.api.nvim_buf_set_lines(0, 5, 6, false, { saved })
  vim.wait(300)

  -- 4. Formatting: the buffer becomes what `braid fmt` writes.
  vim.lsp.buf.formatting_sync(nil, 10000)
  local want = table.concat(vim.fn.readfile(expected_path), '\n')
  local have = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  report(have == want, 'format', have)

  -- 5. Hover and go to definition of the source (into the stdlib's read-only copy).
  local hres = vim.lsp.buf_request_sync(0, 'textDocument/hover',
    { textDocument = vim.lsp.util.make_text_document_params(), position = { line = 0, character = 8 } }, 10000) or {}
  local hover = ''
  for _, r in pairs(hres) do hover = hover .. ((r.result and r.result.contents and r.result.contents.value) or '') end
  report(hover:find('severity: low', 1, true) ~= nil, 'hover', hover)

  -- 6. Go to definition of `aws.cloudtrail`: the stdlib's file, opened read-only.
  local dres = vim.lsp.buf_request_sync(0, 'textDocument/definition',
    { textDocument = vim.lsp.util.make_text_document_params(), position = { line = 4, character = 12 } }, 10000) or {}
  local loc
  for _, r in pairs(dres) do loc = loc or r.result end
  if not report(loc ~= nil and loc.uri ~= nil, 'definition', vim.inspect(dres)) then return end
  vim.lsp.util.jump_to_location(loc, 'utf-16')
  local name = vim.api.nvim_buf_get_name(0)
  report(name:match('/aws/cloudtrail%.braid$') ~= nil and vim.bo.readonly
         and line(vim.api.nvim_win_get_cursor(0)[1] - 1):find('source aws.cloudtrail', 1, true) ~= nil,
         'definition-stdlib', name .. ' readonly=' .. tostring(vim.bo.readonly))
end)
if not ok then report(false, 'error', tostring(err)) end
finish()

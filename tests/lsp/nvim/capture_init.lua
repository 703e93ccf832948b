-- Neovim set-up for the terminal capture in docs/editors.md (capture.sh): the braid client, diagnostics as
-- virtual text and signs, completion with <C-x><C-o>.
vim.o.completeopt = 'menuone,noinsert'
vim.o.signcolumn = 'yes'
vim.o.number = true
local id = vim.lsp.start_client({ name = 'braid', cmd = { os.getenv('BRAID'), 'lsp' }, root_dir = vim.fn.getcwd() })
vim.lsp.buf_attach_client(0, id)
vim.bo.omnifunc = 'v:lua.vim.lsp.omnifunc'

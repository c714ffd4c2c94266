-- drone's filetype plugin: comments, indentation, and the language server (`drone lsp`) for the
-- buffer. Set `vim.g.drone_lsp = false` to start it yourself (see editors/nvim/README.md), or
-- `vim.g.drone_lsp_cmd` to run another binary.
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = true

vim.bo.commentstring = "// %s"
vim.bo.comments = "://,:#"
vim.bo.shiftwidth = 2
vim.bo.softtabstop = 2
vim.bo.expandtab = true
vim.b.undo_ftplugin = "setlocal commentstring< comments< shiftwidth< softtabstop< expandtab<"

if vim.g.drone_lsp ~= false then
  require("drone").attach(0)
end

-- Starts `drone lsp` for drone buffers and attaches them, on Neovim 0.7 and later (0.8 added
-- vim.lsp.start; 0.7 has only vim.lsp.start_client). One server per project root: the
-- directory holding `.git`, else the file's own.
local M = {}

local clients = {}

--- The project root for the file at `path`: the nearest directory above it holding `.git`.
local function root_of(path)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  local git = vim.fn.finddir(".git", dir .. ";")
  if git ~= "" then
    return vim.fn.fnamemodify(git, ":p:h:h")
  end
  return dir
end

--- The server's command: `vim.g.drone_lsp_cmd` (a list), else `drone lsp`.
local function command()
  return vim.g.drone_lsp_cmd or { "drone", "lsp" }
end

--- Attaches buffer `bufnr` (0: the current one) to the project's server, starting it if needed.
function M.attach(bufnr)
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  local root = root_of(vim.api.nvim_buf_get_name(bufnr))
  local config = { name = "drone", cmd = command(), root_dir = root }
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(config)
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

return M

-- The maintaind language server for Neovim 0.11+: `vim.lsp.enable("maintaind")`.
-- Override with `vim.lsp.config("maintaind", { cmd = { "/path/to/maintaind", "lsp" } })`.
local maintaind = require("maintaind")
return {
  cmd = maintaind.server.cmd,
  filetypes = maintaind.server.filetypes,
  root_markers = maintaind.server.root_markers,
  on_attach = maintaind.on_attach,
  on_exit = maintaind.on_exit,
}

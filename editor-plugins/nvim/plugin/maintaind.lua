-- Loaded by Neovim (or a plugin manager) with the plugin: the :Maintaind* commands. Starting the
-- server is the user's choice: `vim.lsp.enable("maintaind")` (0.11+) or
-- `require("maintaind").setup()`.
if vim.g.loaded_maintaind then
  return
end
vim.g.loaded_maintaind = true
require("maintaind").commands()

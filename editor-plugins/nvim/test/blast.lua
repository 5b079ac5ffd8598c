-- End-to-end test of the plugin in real headless Neovim (run by daemon/tests/cli/editor.rs on
-- Debian's Neovim 0.7 and on Neovim 0.11): start the client the way this Neovim's users do
-- ($MAINTAIND_TEST_STARTUP: `setup` calls require("maintaind").setup(); `enable` loads
-- plugin/maintaind.lua and calls vim.lsp.enable("maintaind"), which reads lsp/maintaind.lua),
-- open a provider, put the cursor on its name, :MaintaindBlast signature, :MaintaindChange,
-- :MaintaindManifest, :checkhealth maintaind, and write what each showed as JSON to
-- $MAINTAIND_TEST_OUT, with every deprecation Neovim reported and every warning it showed.
-- Any failure writes {"error": ...} and exits non-zero.
local root = assert(os.getenv("MAINTAIND_TEST_ROOT"), "MAINTAIND_TEST_ROOT")
local out = assert(os.getenv("MAINTAIND_TEST_OUT"), "MAINTAIND_TEST_OUT")
local bin = assert(os.getenv("MAINTAIND_BIN"), "MAINTAIND_BIN")
local plugin = assert(os.getenv("MAINTAIND_PLUGIN"), "MAINTAIND_PLUGIN")
local startup = assert(os.getenv("MAINTAIND_TEST_STARTUP"), "MAINTAIND_TEST_STARTUP")

-- Neovim reports a deprecated call through vim.deprecate and a misuse (a missing argument it
-- defaults) through vim.notify / vim.notify_once at WARN; record both.
local deprecations, warnings = {}, {}
local deprecate = vim.deprecate
vim.deprecate = function(name, alternative, ...)
  table.insert(deprecations, tostring(name) .. " → " .. tostring(alternative))
  return deprecate(name, alternative, ...)
end
for _, fn in ipairs({ "notify", "notify_once" }) do
  local original = vim[fn]
  vim[fn] = function(msg, level, ...)
    if (level or 0) >= vim.log.levels.WARN and not tostring(msg):match("^maintaind: ") then
      table.insert(warnings, tostring(msg))
    end
    return original(msg, level, ...)
  end
end

local function finish(result, code)
  vim.fn.writefile({ vim.fn.json_encode(result) }, out)
  vim.cmd((code == 0) and "qall!" or "cquit! " .. code)
end

local function wait(what, ms, cond)
  if not vim.wait(ms, cond, 50) then
    error("timed out waiting for " .. what)
  end
end

local function qf_items()
  local items = {}
  for _, it in ipairs(vim.fn.getqflist()) do
    table.insert(items, { file = vim.api.nvim_buf_get_name(it.bufnr), lnum = it.lnum, text = it.text, type = it.type })
  end
  return items
end

local ok, err = pcall(function()
  vim.opt.runtimepath:prepend(plugin)
  vim.cmd("filetype on")
  local maintaind = require("maintaind")
  if startup == "setup" then
    maintaind.setup({ cmd = { bin, "lsp" }, open_quickfix = false })
  elseif startup == "enable" then
    assert(maintaind.startup() == "enable", "vim.lsp.config and vim.lsp.enable exist on this Neovim")
    vim.cmd("runtime! plugin/maintaind.lua")
    vim.lsp.config("maintaind", { cmd = { bin, "lsp" } })
    vim.lsp.enable("maintaind")
  else
    error("unknown MAINTAIND_TEST_STARTUP " .. startup)
  end
  vim.cmd("edit " .. root .. "/src/providers/postBbsMemberArticles.ts")
  local provider = vim.api.nvim_get_current_buf()
  wait("the maintaind client to attach", 120000, function()
    for _, c in ipairs(maintaind.clients(provider)) do
      if c.initialized then
        return true
      end
    end
    return false
  end)
  assert(vim.fn.search("function \\zspostBbsMemberArticles") > 0, "the declaration is in the file")
  vim.cmd("MaintaindBlast signature")
  wait("the blast radius in quickfix", 120000, function()
    return #vim.fn.getqflist() > 0
  end)
  local v = vim.version()
  local result = {
    version = string.format("%d.%d.%d", v.major, v.minor, v.patch),
    startup = maintaind.startup(),
    blast = qf_items(),
    title = vim.fn.getqflist({ title = 1 }).title,
  }

  vim.fn.setqflist({}, "r")
  vim.cmd("wincmd t")
  vim.cmd("MaintaindChange add view_count to the article model")
  wait("the plan's summary", 120000, function()
    return vim.fn.bufexists("maintaind://change") == 1
  end)
  result.change_summary = vim.api.nvim_buf_get_lines(vim.fn.bufnr("maintaind://change"), 0, -1, false)
  result.change_quickfix = qf_items()
  vim.cmd("MaintaindManifest")
  wait("the manifest's summary", 60000, function()
    return vim.fn.bufexists("maintaind://manifest") == 1
  end)
  result.manifest_summary = vim.api.nvim_buf_get_lines(vim.fn.bufnr("maintaind://manifest"), 0, -1, false)

  -- Carry a mechanical change out: the daemon writes it, the summary's first line says so.
  vim.cmd("MaintaindChange! limit article titles to 60 characters")
  wait("the applied change", 120000, function()
    local b = vim.fn.bufnr("maintaind://change")
    local first = b ~= -1 and vim.api.nvim_buf_get_lines(b, 0, 1, false)[1] or ""
    return first:find("APPLIED", 1, true) ~= nil
  end)
  result.apply_summary = vim.api.nvim_buf_get_lines(vim.fn.bufnr("maintaind://change"), 0, 1, false)

  vim.cmd("only")
  vim.cmd("buffer " .. provider)
  vim.cmd("checkhealth maintaind")
  result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  result.deprecations = deprecations
  result.warnings = warnings
  result.messages = vim.fn.execute("messages")
  finish(result, 0)
end)
if not ok then
  finish({ error = tostring(err), deprecations = deprecations, warnings = warnings }, 1)
end

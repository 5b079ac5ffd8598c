-- End-to-end test of the plugin in real headless Neovim (run by daemon/tests/cli/editor.rs):
-- open a provider, put the cursor on its name, :MaintaindBlast signature, and write the
-- quickfix list (plus what :MaintaindManifest and :MaintaindChange showed) as JSON to
-- $MAINTAIND_TEST_OUT. Any failure writes {"error": ...} and exits non-zero.
local root = assert(os.getenv("MAINTAIND_TEST_ROOT"), "MAINTAIND_TEST_ROOT")
local out = assert(os.getenv("MAINTAIND_TEST_OUT"), "MAINTAIND_TEST_OUT")
local bin = assert(os.getenv("MAINTAIND_BIN"), "MAINTAIND_BIN")
local plugin = assert(os.getenv("MAINTAIND_PLUGIN"), "MAINTAIND_PLUGIN")

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
  require("maintaind").setup({ cmd = { bin, "lsp" }, open_quickfix = false })
  vim.cmd("edit " .. root .. "/src/providers/postBbsMemberArticles.ts")
  wait("the maintaind client to attach", 120000, function()
    for _, c in pairs(vim.lsp.buf_get_clients(0)) do
      if c.name == "maintaind" and c.initialized then
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
  local result = { blast = qf_items(), title = vim.fn.getqflist({ title = 1 }).title }

  vim.fn.setqflist({}, "r")
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
  finish(result, 0)
end)
if not ok then
  finish({ error = tostring(err) }, 1)
end

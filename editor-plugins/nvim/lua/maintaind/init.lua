-- maintaind for Neovim (0.7 or newer): starts `maintaind lsp` for TypeScript and Prisma
-- buffers and adds
--   :MaintaindBlast [kind]       blast radius of the symbol under the cursor → quickfix,
--                                must-change locations first (kind: rename, signature, shape,
--                                return, remove, behavior; default behavior)
--   :MaintaindChange {request}   plan a change: summary in a scratch buffer, must-change in
--                                quickfix; the plan becomes the active manifest
--   :MaintaindManifest           the active manifest's summary in a scratch buffer
--   :MaintaindClearManifest      deactivate the manifest
--
--   require("maintaind").setup({
--     cmd = { "maintaind", "lsp" },   -- how to start the server
--     filetypes = { "typescript", "typescriptreact", "prisma" },
--     open_quickfix = true,            -- :copen after filling the list
--     codelens = true,                 -- show "N references · M files in blast radius"
--   })

local M = {}

local KINDS = { "behavior", "rename", "signature", "shape", "return", "remove" }

local config = {
  cmd = { "maintaind", "lsp" },
  filetypes = { "typescript", "typescriptreact", "prisma" },
  open_quickfix = true,
  codelens = true,
}

-- One client per project root.
local clients = {}

local function notify(msg, level)
  vim.notify("maintaind: " .. msg, level or vim.log.levels.INFO)
end

-- The nearest ancestor of `path` with .git or package.json (what maintaind calls the root).
local function find_root(path)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    if vim.loop.fs_stat(dir .. "/.git") or vim.loop.fs_stat(dir .. "/package.json") then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return nil
    end
    dir = parent
  end
  return nil
end

local function attach(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return
  end
  local root = find_root(name)
  if not root then
    return
  end
  local id = clients[root]
  if not id or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client({
      name = "maintaind",
      cmd = config.cmd,
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      on_attach = function(_, buf)
        if config.codelens then
          vim.api.nvim_create_autocmd({ "BufEnter", "BufWritePost", "InsertLeave" }, {
            buffer = buf,
            group = vim.api.nvim_create_augroup("maintaind_codelens_" .. buf, { clear = true }),
            callback = function()
              pcall(vim.lsp.codelens.refresh)
            end,
          })
          pcall(vim.lsp.codelens.refresh)
        end
      end,
      on_exit = function(code, _)
        if code ~= 0 then
          notify("the language server exited with code " .. code, vim.log.levels.WARN)
        end
      end,
    })
    if not id then
      notify("cannot start " .. table.concat(config.cmd, " "), vim.log.levels.ERROR)
      return
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

-- The maintaind client for the buffer, or nil with a message. `any`: for commands that need
-- no position (plan, manifest), any running maintaind client will do, e.g. from a scratch
-- buffer.
local function client_for(bufnr, any)
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "maintaind" then
      return client
    end
  end
  if any then
    for _, client in pairs(vim.lsp.get_active_clients()) do
      if client.name == "maintaind" then
        return client
      end
    end
  end
  notify("no maintaind language server for this buffer (is it a TypeScript file under a project root?)", vim.log.levels.ERROR)
  return nil
end

local function execute(bufnr, command, arguments, on_result)
  local client = client_for(bufnr, command ~= "maintaind.blastRadius")
  if not client then
    return
  end
  client.request("workspace/executeCommand", { command = command, arguments = arguments }, function(err, result)
    if err then
      notify(command .. ": " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end, bufnr)
end

-- Quickfix items from maintaind locations (already sorted must-change first).
local function to_items(locations)
  local items = {}
  for _, loc in ipairs(locations or {}) do
    local tag = loc.must_change and "[must change] " or ""
    table.insert(items, {
      filename = loc.path,
      lnum = loc.line,
      col = 1,
      type = loc.must_change and "E" or "I",
      text = tag .. loc.relation .. " " .. loc.symbol .. " (via " .. loc.via .. ")",
    })
  end
  return items
end

local function set_quickfix(title, items)
  vim.fn.setqflist({}, " ", { title = title, items = items })
  if config.open_quickfix and #items > 0 then
    vim.cmd("copen")
  end
end

local function scratch(name, text)
  vim.cmd("new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, "\n", { plain = true }))
  vim.bo[buf].modifiable = false
  return buf
end

function M.blast(kind)
  kind = (kind and kind ~= "") and kind or "behavior"
  if not vim.tbl_contains(KINDS, kind) then
    notify("unknown kind `" .. kind .. "` (" .. table.concat(KINDS, ", ") .. ")", vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_position_params()
  local arg = { uri = params.textDocument.uri, position = params.position, change = kind }
  execute(bufnr, "maintaind.blastRadius", { arg }, function(result)
    local t = result.target
    local title = string.format("maintaind blast: %s %s (%s) · %d must change · %d files%s", t.kind, t.name, kind,
      #result.must_change_files, #result.files, result.approximate and " · approximate" or "")
    set_quickfix(title, to_items(result.locations))
    notify(title)
  end)
end

function M.change(request)
  if not request or vim.trim(request) == "" then
    notify("say what should change: :MaintaindChange add view_count to the article model", vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  execute(bufnr, "maintaind.planChange", { request }, function(result)
    scratch("maintaind://change", result.summary)
    local must = {}
    for _, item in ipairs(to_items(result.locations)) do
      if item.type == "E" then
        table.insert(must, item)
      end
    end
    set_quickfix("maintaind change: " .. result.manifest.id, must)
  end)
end

function M.manifest()
  execute(vim.api.nvim_get_current_buf(), "maintaind.showManifest", {}, function(result)
    scratch("maintaind://manifest", result.summary)
  end)
end

function M.clear_manifest()
  execute(vim.api.nvim_get_current_buf(), "maintaind.clearManifest", {}, function(result)
    notify(result.cleared and "no manifest is active now" or "no manifest was active")
  end)
end

function M.setup(opts)
  config = vim.tbl_deep_extend("force", config, opts or {})
  local group = vim.api.nvim_create_augroup("maintaind", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      attach(args.buf)
    end,
  })
  vim.api.nvim_create_user_command("MaintaindBlast", function(o)
    M.blast(o.args)
  end, {
    nargs = "?",
    complete = function()
      return KINDS
    end,
    desc = "maintaind: blast radius of the symbol under the cursor",
  })
  vim.api.nvim_create_user_command("MaintaindChange", function(o)
    M.change(o.args)
  end, { nargs = "+", desc = "maintaind: plan a change" })
  vim.api.nvim_create_user_command("MaintaindManifest", M.manifest, { desc = "maintaind: the active manifest" })
  vim.api.nvim_create_user_command("MaintaindClearManifest", M.clear_manifest, { desc = "maintaind: deactivate the manifest" })
  -- Buffers already open when setup runs.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(config.filetypes, vim.bo[buf].filetype) then
      attach(buf)
    end
  end
end

return M

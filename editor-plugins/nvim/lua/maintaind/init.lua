-- maintaind for Neovim: the `maintaind lsp` language server for TypeScript and Prisma buffers,
-- and commands over it:
--   :MaintaindBlast [kind]       blast radius of the symbol under the cursor → quickfix,
--                                must-change locations first (kind: rename, signature, shape,
--                                return, remove, behavior; default behavior)
--   :MaintaindChange {request}   plan a change: summary in a scratch buffer, must-change in
--                                quickfix; the plan becomes the active manifest
--   :MaintaindChange! {request}  the same, then carry it out when it is mechanical (a rename,
--                                a validation tag): written by the daemon, kept only without new
--                                errors; buffers reload; the summary's first line says how it went
--   :MaintaindManifest           the active manifest's summary in a scratch buffer
--   :MaintaindClearManifest      deactivate the manifest
--   :checkhealth maintaind       the binary, the project root, the language server, the daemon
--
-- Neovim 0.11 or newer: `vim.lsp.enable("maintaind")` is enough (the server's configuration is
-- `lsp/maintaind.lua`, the commands are `plugin/maintaind.lua`); `vim.lsp.config("maintaind",
-- { cmd = ... })` changes it. `setup()` does both and also takes this plugin's own options:
--
--   require("maintaind").setup({
--     cmd = { "maintaind", "lsp" },   -- how to start the server
--     filetypes = { "typescript", "typescriptreact", "prisma" },
--     open_quickfix = true,            -- :copen after filling the list
--     codelens = true,                 -- show "N references · M files in blast radius"
--   })
--
-- Older Neovim (0.8–0.10: `vim.lsp.start`; 0.7, as Debian 12 ships: `vim.lsp.start_client`):
-- `setup()` starts one client per project root for the file types above.

local M = {}

local KINDS = { "behavior", "rename", "signature", "shape", "return", "remove" }

-- What the server is and where it runs; `lsp/maintaind.lua` returns these for vim.lsp.config.
M.server = {
  cmd = { "maintaind", "lsp" },
  filetypes = { "typescript", "typescriptreact", "prisma" },
  -- What maintaind calls the root: the nearest ancestor with either.
  root_markers = { ".git", "package.json" },
}

local options = {
  open_quickfix = true,
  codelens = true,
}

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

-- The command that starts the server: on 0.11+ what vim.lsp.config resolved for "maintaind"
-- (lsp/maintaind.lua and the user's overrides), else this plugin's.
function M.cmd()
  if M.startup() == "enable" then
    local resolved = vim.lsp.config["maintaind"]
    if resolved and type(resolved.cmd) == "table" then
      return resolved.cmd
    end
  end
  return M.server.cmd
end

-- How this Neovim starts the client: "enable" (vim.lsp.config/enable, 0.11+), "start"
-- (vim.lsp.start, 0.8+) or "start_client" (0.7).
function M.startup()
  if vim.lsp.config ~= nil and vim.lsp.enable ~= nil then
    return "enable"
  elseif vim.lsp.start ~= nil then
    return "start"
  end
  return "start_client"
end

local function notify(msg, level)
  vim.notify("maintaind: " .. msg, level or vim.log.levels.INFO)
end

-- The maintaind clients, of one buffer or of any, without the APIs 0.10 and 0.11 deprecate.
local function clients(bufnr)
  local found = {}
  if vim.lsp.get_clients ~= nil then
    found = vim.lsp.get_clients({ name = "maintaind", bufnr = bufnr })
  else
    local all = bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()
    for _, c in pairs(all) do
      if c.name == "maintaind" then
        table.insert(found, c)
      end
    end
  end
  return found
end
M.clients = clients

local function request(client, method, params, handler, bufnr)
  if has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- The nearest ancestor of `path` holding one of the root markers.
function M.find_root(path)
  local uv = vim.uv or vim.loop
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    for _, marker in ipairs(M.server.root_markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return nil
    end
    dir = parent
  end
  return nil
end

-- Code lenses, refreshed as the buffer changes (every startup path calls this).
function M.on_attach(_, bufnr)
  if not options.codelens then
    return
  end
  local refresh = function()
    pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
  end
  vim.api.nvim_create_autocmd({ "BufEnter", "BufWritePost", "InsertLeave" }, {
    buffer = bufnr,
    group = vim.api.nvim_create_augroup("maintaind_codelens_" .. bufnr, { clear = true }),
    callback = refresh,
  })
  refresh()
end

function M.on_exit(code, _)
  if code ~= 0 then
    vim.schedule(function()
      notify("the language server exited with code " .. code, vim.log.levels.WARN)
    end)
  end
end

-- The configuration every startup path uses.
local function client_config(root)
  return {
    name = "maintaind",
    cmd = M.server.cmd,
    root_dir = root,
    workspace_folders = root and { { uri = vim.uri_from_fname(root), name = root } } or nil,
    on_attach = M.on_attach,
    on_exit = M.on_exit,
  }
end

-- 0.8–0.10: vim.lsp.start reuses the client of the same name and root.
local function attach_start(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local root = name ~= "" and M.find_root(name) or nil
  if root then
    vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
end

-- 0.7: one client per root, kept here.
local started = {}
local function attach_start_client(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local root = name ~= "" and M.find_root(name) or nil
  if not root then
    return
  end
  local id = started[root]
  if not id or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(client_config(root))
    if not id then
      notify("cannot start " .. table.concat(M.server.cmd, " "), vim.log.levels.ERROR)
      return
    end
    started[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

-- The maintaind client for the buffer, or nil with a message. `any`: for commands that need
-- no position (plan, manifest), any running maintaind client will do, e.g. from a scratch
-- buffer.
local function client_for(bufnr, any)
  local found = clients(bufnr)[1] or (any and clients(nil)[1])
  if not found then
    notify("no maintaind language server for this buffer (is it a TypeScript file under a project root?)", vim.log.levels.ERROR)
  end
  return found
end

local function execute(client, bufnr, command, arguments, on_result)
  request(client, "workspace/executeCommand", { command = command, arguments = arguments }, function(err, result)
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
  if options.open_quickfix and #items > 0 then
    vim.cmd("copen")
  end
end

local function scratch(name, text)
  -- A second summary replaces the first (its buffer would keep the name otherwise).
  local old = vim.fn.bufnr(name)
  if old ~= -1 then
    pcall(vim.api.nvim_buf_delete, old, { force = true })
  end
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
  local client = client_for(bufnr, false)
  if not client then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local arg = { uri = params.textDocument.uri, position = params.position, change = kind }
  execute(client, bufnr, "maintaind.blastRadius", { arg }, function(result)
    local t = result.target
    local title = string.format("maintaind blast: %s %s (%s) · %d must change · %d files%s", t.kind, t.name, kind,
      #result.must_change_files, #result.files, result.approximate and " · approximate" or "")
    set_quickfix(title, to_items(result.locations))
    notify(title)
  end)
end

function M.change(request_text, apply)
  if not request_text or vim.trim(request_text) == "" then
    notify("say what should change: :MaintaindChange add view_count to the article model", vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, true)
  if not client then
    return
  end
  local args = apply and { { request = request_text, apply = true } } or { request_text }
  execute(client, bufnr, "maintaind.planChange", args, function(result)
    if apply then
      -- The daemon wrote the files (or rolled them back): show what is on disk now.
      vim.cmd("checktime")
    end
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
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, true)
  if client then
    execute(client, bufnr, "maintaind.showManifest", {}, function(result)
      scratch("maintaind://manifest", result.summary)
    end)
  end
end

function M.clear_manifest()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, true)
  if client then
    execute(client, bufnr, "maintaind.clearManifest", {}, function(result)
      notify(result.cleared and "no manifest is active now" or "no manifest was active")
    end)
  end
end

-- The user commands (plugin/maintaind.lua calls this when the plugin loads; setup() too).
function M.commands()
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
    M.change(o.args, o.bang)
  end, { nargs = "+", bang = true, desc = "maintaind: plan a change (! carries a mechanical one out)" })
  vim.api.nvim_create_user_command("MaintaindManifest", M.manifest, { desc = "maintaind: the active manifest" })
  vim.api.nvim_create_user_command("MaintaindClearManifest", M.clear_manifest, { desc = "maintaind: deactivate the manifest" })
end

function M.setup(opts)
  opts = opts or {}
  options.open_quickfix = opts.open_quickfix ~= false
  options.codelens = opts.codelens ~= false
  M.server.cmd = opts.cmd or M.server.cmd
  M.server.filetypes = opts.filetypes or M.server.filetypes
  M.commands()
  local how = M.startup()
  if how == "enable" then
    vim.lsp.config("maintaind", { cmd = M.server.cmd, filetypes = M.server.filetypes })
    vim.lsp.enable("maintaind")
    return
  end
  local attach = how == "start" and attach_start or attach_start_client
  local group = vim.api.nvim_create_augroup("maintaind", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.server.filetypes,
    callback = function(args)
      attach(args.buf)
    end,
  })
  -- Buffers already open when setup runs.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.server.filetypes, vim.bo[buf].filetype) then
      attach(buf)
    end
  end
end

return M

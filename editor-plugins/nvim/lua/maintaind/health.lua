-- :checkhealth maintaind — whether the plugin can work here: the binary, the project root of
-- the current buffer, the environment `maintaind doctor` reports, and the client.
local M = {}

-- vim.health (0.10+: start/ok/warn/error; 0.8–0.9: report_*), or 0.7's `health` module.
local function reporter()
  local h = vim.health or require("health")
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
    info = h.info or h.report_info,
  }
end

local function run(argv)
  local out = vim.fn.system(argv)
  return vim.v.shell_error, out
end

-- The buffer :checkhealth was run from: it shows its report in a buffer of its own, so the
-- current one is that report and the user's is the alternate.
local function origin_buffer()
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype == "checkhealth" or vim.api.nvim_buf_get_name(buf):match("^health://") or vim.api.nvim_buf_get_name(buf) == "" then
    local alternate = vim.fn.bufnr("#")
    if alternate > 0 then
      return alternate
    end
  end
  return buf
end

function M.check()
  local report = reporter()
  local maintaind = require("maintaind")
  local cmd = maintaind.cmd()
  local buf = origin_buffer()

  report.start("maintaind: Neovim")
  local v = vim.version()
  report.ok(string.format("Neovim %d.%d.%d; the client starts through %s", v.major, v.minor, v.patch, ({
    enable = "vim.lsp.enable (lsp/maintaind.lua)",
    start = "vim.lsp.start",
    start_client = "vim.lsp.start_client",
  })[maintaind.startup()]))

  report.start("maintaind: the binary")
  if vim.fn.executable(cmd[1]) ~= 1 then
    report.error("`" .. cmd[1] .. "` is not executable or not on PATH", {
      "build it with `cargo build --release` and put target/release on PATH",
      'or point the plugin at it: vim.lsp.config("maintaind", { cmd = { "/path/to/maintaind", "lsp" } })',
    })
    return
  end
  local code, out = run({ cmd[1], "--version" })
  if code ~= 0 then
    report.error("`" .. cmd[1] .. " --version` failed (exit " .. code .. "): " .. vim.trim(out))
    return
  end
  report.ok(vim.trim(out) .. " (" .. vim.fn.exepath(cmd[1]) .. ")")

  report.start("maintaind: the project")
  local name = vim.api.nvim_buf_get_name(buf)
  local root = name ~= "" and maintaind.find_root(name) or maintaind.find_root(vim.fn.getcwd() .. "/x")
  if not root then
    report.warn("no project root (a directory with .git or package.json) above " .. (name ~= "" and name or vim.fn.getcwd()), {
      "open a TypeScript file of the backend, then run :checkhealth maintaind again",
    })
    return
  end
  report.ok("root " .. root)
  code, out = run({ cmd[1], "--root", root, "doctor", "--json" })
  local ok, doctor = pcall(vim.fn.json_decode, out)
  if code ~= 0 or not ok or type(doctor) ~= "table" then
    report.error("`maintaind doctor` failed (exit " .. code .. "): " .. vim.trim(out))
    return
  end
  for _, tool in ipairs(doctor.tools or {}) do
    if tool.version ~= nil and tool.version ~= vim.NIL then
      report.ok(tool.name .. " " .. tool.version)
    elseif tool.name == "tsc" then
      report.info("tsc not found (not needed: the language server brings its own TypeScript)")
    else
      report.warn(tool.name .. " not found", { tool.hint })
    end
  end
  local any_server = false
  for _, server in ipairs(doctor.servers or {}) do
    if type(server.found) == "table" then
      any_server = true
      report.ok("language server " .. server.kind .. " " .. server.found.version .. " (" .. server.found.origin .. ")")
    end
  end
  if not any_server then
    report.warn("no TypeScript language server installed yet: the first request installs one (blast radius is approximate until then)", {
      (doctor.servers and doctor.servers[1] and doctor.servers[1].install) or "maintaind doctor",
    })
  end
  if type(doctor.daemon) == "table" then
    report.ok("daemon running (pid " .. tostring(doctor.daemon.pid) .. ", " .. tostring(doctor.daemon.state) .. ")")
  else
    report.info("no daemon running for this root; the language server starts one when needed")
  end

  report.start("maintaind: the client")
  local attached = maintaind.clients(buf)
  if #attached > 0 then
    report.ok("attached to this buffer (client " .. attached[1].id .. ")")
  elseif #maintaind.clients(nil) > 0 then
    report.info("a maintaind client runs, but not for this buffer (not one of: " .. table.concat(maintaind.server.filetypes, ", ") .. ")")
  else
    report.warn("no maintaind client is running", {
      'Neovim 0.11+: vim.lsp.enable("maintaind")',
      'any version: require("maintaind").setup()',
    })
  end
end

return M

-- :checkhealth tierwise. Every problem comes with the fix to make. The provider, cache,
-- ledger and config facts come from `tierwise doctor --json` (the same checks as the CLI),
-- run with Neovim's environment, which is the one the server gets. Keys are never shown:
-- doctor reports only whether each key variable is set.
local rpc = require("tierwise.rpc")
local status = require("tierwise.status")

local M = {}

local health = vim.health
local SERVE_FIX = "point the client at it: vim.lsp.config('tierwise', { cmd = { '/path/to/tierwise', 'serve' } })"
  .. " or require('tierwise').setup({ cmd = { ... } })"

--- The client config as Neovim resolves it (lsp/tierwise.lua plus vim.lsp.config overrides).
local function client_config()
  local running = rpc.clients()[1]
  if running then
    return running.config
  end
  if vim.lsp.config ~= nil then
    local ok, cfg = pcall(function()
      return vim.lsp.config[rpc.NAME]
    end)
    if ok and type(cfg) == "table" then
      return cfg
    end
  end
  local tw = require("tierwise")
  return tw._fallback_config or tw.lsp_config()
end

--- The command line that runs the CLI: cmd up to "serve" ({"tierwise"}, {"uvx", "tierwise"}).
local function cli_prefix(cmd)
  local prefix = {}
  for _, word in ipairs(cmd) do
    if word == "serve" then
      return prefix
    end
    table.insert(prefix, word)
  end
  return prefix
end

local function system(argv, opts)
  local ok, proc = pcall(vim.system, argv, { text = true, cwd = opts.cwd, env = opts.env })
  if not ok then
    return { code = -1, stdout = "", stderr = tostring(proc) }
  end
  local done = proc:wait(opts.timeout or 20000)
  if done.signal and done.signal ~= 0 and done.code == 0 then
    done.code = -1
  end
  return done
end

local function first_line(text)
  return ((text or ""):gsub("^%s+", ""):match("[^\n]*") or "")
end

local function check_executable(cfg)
  health.start("tierwise: server executable")
  local cmd = cfg.cmd
  if type(cmd) ~= "table" or #cmd == 0 then
    health.info("cmd is not a command line (a custom transport): the executable cannot be checked here")
    return nil
  end
  local path = vim.fn.exepath(cmd[1])
  if path == "" then
    health.error(("`%s` (cmd[1] of the tierwise client) is not found on PATH"):format(cmd[1]), {
      "install it: pipx install tierwise (or pip install tierwise into a virtualenv)",
      SERVE_FIX,
    })
    return nil
  end
  local prefix = cli_prefix(cmd)
  local argv = vim.list_extend(vim.deepcopy(prefix), { "--version" })
  local done = system(argv, { env = cfg.cmd_env, timeout = 15000 })
  local version = first_line(done.stdout)
  if done.code ~= 0 or not version:find("^tierwise ") then
    health.error(("`%s` failed: %s"):format(table.concat(argv, " "), first_line(done.stderr) ~= "" and first_line(done.stderr) or ("exit " .. tostring(done.code))), {
      "reinstall tierwise, or " .. SERVE_FIX,
    })
    return nil
  end
  health.ok(("%s (%s)"):format(version, path))
  return prefix
end

local function check_neovim()
  health.start("tierwise: Neovim")
  local text = "Neovim " .. tostring(vim.version())
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(text .. " (vim.lsp.config and vim.lsp.enable)")
  elseif vim.fn.has("nvim-0.10") == 1 then
    health.warn(text .. ": no vim.lsp.config, so setup{} starts the client with vim.lsp.start", {
      "it works; upgrade to Neovim 0.11+ to use lsp/tierwise.lua with vim.lsp.enable('tierwise')",
    })
  else
    health.error(text .. " is too old for this plugin", { "upgrade to Neovim 0.11 or later (0.10 at least)" })
  end
end

local function buffer_name(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= "" and vim.fn.fnamemodify(name, ":~:.") or ("[buffer " .. bufnr .. "]")
end

local function check_client(cfg)
  health.start("tierwise: client")
  local clients = rpc.clients()
  -- :checkhealth runs in its own buffer; the user's buffer is the alternate one.
  local origin = vim.fn.bufnr("#")
  if #clients == 0 then
    local filetypes = table.concat(cfg.filetypes or {}, ", ")
    health.warn("no tierwise client is running, so the server is not attached to any buffer", {
      "enable it: vim.lsp.enable('tierwise') (Neovim 0.11+) or require('tierwise').setup()",
      "then open a file of one of its filetypes: " .. (filetypes ~= "" and filetypes or "(none configured)"),
      "if it started and stopped, read :LspLog",
    })
    return nil
  end
  for _, client in ipairs(clients) do
    local names = {}
    for bufnr in pairs(client.attached_buffers or {}) do
      table.insert(names, buffer_name(bufnr))
    end
    table.sort(names)
    health.ok(("server attached (client %d, root %s, %s positions): %s"):format(
      client.id,
      client.root_dir or "none",
      client.offset_encoding or "?",
      #names > 0 and table.concat(names, ", ") or "no buffers"
    ))
    local line = status.statusline_for(client)
    if line then
      health.info("statusline: " .. line)
    end
  end
  if origin > 0 and vim.api.nvim_buf_is_valid(origin) and vim.bo[origin].buftype == "" and not rpc.client(origin) then
    health.warn(("the server is not attached to %s (filetype %q)"):format(buffer_name(origin), vim.bo[origin].filetype), {
      "tierwise attaches to the filetypes " .. table.concat(cfg.filetypes or {}, ", ")
        .. "; add others with vim.lsp.config('tierwise', { filetypes = { ... } })",
    })
  end
  return clients[1]
end

local function report_doctor(checks)
  local seen_config = false
  -- Missing keys and providers are only problems when no model tier is left.
  local none_but_static = false
  for _, c in ipairs(checks) do
    if c.name == "tiers" then
      none_but_static = #(c.usable or {}) <= 1
    end
  end
  for _, c in ipairs(checks) do
    local fix = c.fix and { c.fix } or nil
    if c.name == "config" then
      seen_config = true
      if c.ok then
        local files = c.files or {}
        health.ok(#files > 0 and ("config files parse: " .. table.concat(files, ", ")) or ("config: " .. c.detail))
      else
        health.error("config does not parse: " .. c.detail, fix or { "correct the file and key named, then run :checkhealth tierwise again" })
      end
    elseif c.name == "config trust" then
      health.warn(c.detail, { "move that setting into your user config file (only it may set endpoints, keys, cache and ledger)" })
    elseif c.name == "tiers" then
      local usable = c.usable or {}
      if none_but_static then
        health.warn("only the static tier is usable: no model tier has a provider", {
          "export ANTHROPIC_API_KEY or OPENAI_API_KEY where Neovim starts, or configure a local server",
        })
      else
        health.ok("tiers with a provider: " .. table.concat(usable, ", "))
      end
      -- A decoded JSON object has no order: sort the unusable tiers onto the ladder.
      local config = require("tierwise.config")
      local names = vim.tbl_keys(c.unusable or {})
      table.sort(names, function(a, b)
        return config.rank(a) < config.rank(b)
      end)
      for _, tier in ipairs(names) do
        local why = c.unusable[tier]
        health.info(("%s has no provider: %s"):format(tier, why))
      end
    elseif c.name == "cache" or c.name == "ledger" then
      health.ok(c.name .. ": " .. c.detail)
    elseif c.ok then
      health.ok(c.name .. ": " .. c.detail)
    elseif c.optional and not none_but_static then
      -- Not a problem while other tiers work; an unused provider is listed with the tiers.
      if c.name:find("^key ") then
        health.info(c.name .. ": " .. c.detail)
      end
    elseif c.optional then
      health.warn(c.name .. ": " .. c.detail, fix)
    else
      health.error(c.name .. ": " .. c.detail, fix)
    end
  end
  return seen_config
end

local function check_doctor(prefix, cfg, client)
  health.start("tierwise: providers, cache, ledger and config (tierwise doctor)")
  if not prefix then
    health.warn("skipped: the tierwise executable is not usable (see above)", { "fix the executable first" })
    return
  end
  local root = client and client.root_dir or nil
  local argv = vim.list_extend(vim.deepcopy(prefix), { "doctor", "--json" })
  if root then
    vim.list_extend(argv, { "--workspace", root })
  end
  local done = system(argv, { cwd = root or vim.fn.getcwd(), env = cfg.cmd_env, timeout = 30000 })
  local ok, checks = pcall(vim.json.decode, done.stdout or "")
  if not ok or type(checks) ~= "table" then
    health.error(("`%s` gave no report: %s"):format(table.concat(argv, " "), first_line(done.stderr)), {
      "run it in a terminal to see the whole message",
    })
    return
  end
  report_doctor(checks)
end

function M.check()
  local cfg = client_config() or {}
  local prefix = check_executable(cfg)
  check_neovim()
  local client = check_client(cfg)
  check_doctor(prefix, cfg, client)
end

return M

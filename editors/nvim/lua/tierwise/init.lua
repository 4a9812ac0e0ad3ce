-- tierwise for Neovim: the language server's five actions with a tier picker, results in
-- floats, progress and a statusline component. See :help tierwise.
local rpc = require("tierwise.rpc")
local config = require("tierwise.config")

local M = {}

local function notify_usage(message)
  rpc.error(message .. "; usage: :Tierwise {docstring|rename|explain|review|design} [tier]"
    .. " | tier [name] | pick {action} | escalate | stats")
end

--- The arguments of a request at the cursor, or on a range when range = {line1, line2}.
local function target(client, bufnr, range)
  if range then
    return rpc.selection(client, bufnr, range[1], range[2])
  end
  return rpc.here(client, bufnr)
end

local function attached(bufnr)
  local client = rpc.client(bufnr)
  if not client then
    rpc.error("no tierwise server is attached to this buffer (see :checkhealth tierwise)")
  end
  return client
end

--- Send tierwise.run and deliver the answer (float, picker, or a one-line summary).
function M.execute(args, client, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  rpc.exec("tierwise.run", args, function(result)
    require("tierwise.results").handle(result, client, bufnr)
  end, { client = client, bufnr = bufnr })
end

--- Run an action. opts: tier (one request), range ({line1, line2}), refresh (skip the cache).
function M.run(action, opts)
  opts = opts or {}
  if not config.is_action(action) then
    return notify_usage(("unknown action %q"):format(tostring(action)))
  end
  if opts.tier and opts.tier ~= "auto" and not config.is_tier(opts.tier) then
    return rpc.error(("unknown tier %q; tiers: auto, %s"):format(opts.tier, table.concat(config.TIERS, ", ")))
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  local args = target(client, bufnr, opts.range)
  args.action = action
  if opts.tier and opts.tier ~= "auto" then
    args.tier = opts.tier
  end
  if opts.refresh then
    args.refresh = true
  end
  M.execute(args, client, bufnr)
end

--- Pick the tier of one request from the routed list, then run it.
function M.pick(action, opts)
  opts = opts or {}
  if not config.is_action(action) then
    return notify_usage(action and ("pick needs an action, not %q"):format(action) or "pick needs an action")
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  local args = target(client, bufnr, opts.range)
  require("tierwise.picker").choose(action, args, ("tierwise %s on which tier?"):format(action), function(item)
    local run_args = vim.deepcopy(args)
    run_args.action = action
    run_args.tier = item.tier ~= "auto" and item.tier or nil
    run_args.refresh = opts.refresh or nil
    M.execute(run_args, client, bufnr)
  end, { client = client, bufnr = bufnr })
end

local function set_tier(client, bufnr, tier)
  rpc.exec("tierwise.setTier", { tier = tier }, function(result)
    require("tierwise.status").set_sticky(client, result.tier)
    local what = result.tier == "auto" and "auto (each request routed)" or result.tier
    vim.notify("tierwise: session tier " .. what, vim.log.levels.INFO)
  end, { client = client, bufnr = bufnr })
end

--- Set the sticky session tier: with a name directly, else through the picker.
function M.tier(name)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  if name then
    if name ~= "auto" and not config.is_tier(name) then
      return rpc.error(("unknown tier %q; tiers: auto, %s"):format(name, table.concat(config.TIERS, ", ")))
    end
    return set_tier(client, bufnr, name)
  end
  -- Models, estimates and availability are those of a review at the cursor.
  local args = rpc.here(client, bufnr)
  require("tierwise.picker").choose("review", args, "tierwise session tier (estimates: a review here)", function(item)
    set_tier(client, bufnr, item.tier)
  end, { client = client, bufnr = bufnr, clears_sticky = true })
end

--- Re-run the last action one tier up.
function M.escalate()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  M.execute_command("tierwise.escalate", { uri = vim.uri_from_bufnr(bufnr) }, client, bufnr)
end

function M.execute_command(command, args, client, bufnr)
  rpc.exec(command, args, function(result)
    require("tierwise.results").handle(result, client, bufnr)
  end, { client = client, bufnr = bufnr })
end

--- Spend this session and all time, by tier in ladder order, in a float.
function M.stats()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  rpc.exec("tierwise.stats", nil, function(result)
    local out = { "# tierwise spend", "", ("Session tier: **%s**"):format(result.sticky or "auto") }
    for _, key in ipairs({ "this_session", "all_time" }) do
      local s = result[key]
      if s then
        table.insert(out, "")
        table.insert(out, ("## %s"):format(key == "this_session" and "This session" or "All time"))
        table.insert(out, ("%d requests · spent %s · all-frontier %s · cache hits %d"):format(
          s.requests or 0, config.usd(s.cost_usd), config.usd(s.baseline_usd), s.cache_hits or 0))
        local rows = {}
        for tier, row in pairs(s.by_tier or {}) do
          table.insert(rows, { tier = tier, row = row })
        end
        table.sort(rows, function(a, b)
          return config.rank(a.tier) < config.rank(b.tier)
        end)
        for _, r in ipairs(rows) do
          table.insert(out, ("- %s: %d requests · %s"):format(r.tier, r.row.requests or 0, config.usd(r.row.cost_usd)))
        end
      end
    end
    local tune = result.tune
    if tune and tune.suggestions and #tune.suggestions > 0 then
      table.insert(out, "")
      table.insert(out, ("## Tune (last %s days)"):format(tune.window_days))
      for _, s in ipairs(tune.suggestions) do
        table.insert(out, "- " .. s.text)
      end
    end
    require("tierwise.results").show_markdown(table.concat(out, "\n"), "tierwise stats")
  end, { client = client, bufnr = bufnr })
end

--- The statusline component: "tw:auto $0.42" (cached; see :help tierwise-statusline).
function M.statusline()
  return require("tierwise.status").statusline()
end

--- Client-side handler of the code actions' tierwise.run command: the same delivery as
--- :Tierwise (floats, the rename picker), used by lsp/tierwise.lua.
function M.code_action_command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local args = (command.arguments or {})[1]
  if not client or type(args) ~= "table" then
    return rpc.error("this tierwise code action carries no arguments")
  end
  M.execute(args, client, ctx.bufnr)
end

--- The client config of lsp/tierwise.lua, as a table (for 0.10 and for :checkhealth).
function M.lsp_config()
  local file = vim.api.nvim_get_runtime_file("lsp/tierwise.lua", false)[1]
  if not file then
    return {}
  end
  local ok, cfg = pcall(dofile, file)
  return ok and type(cfg) == "table" and cfg or {}
end

local function start_fallback(overrides)
  -- Neovim 0.10 has no vim.lsp.config: start the same client per buffer with vim.lsp.start.
  local cfg = vim.tbl_deep_extend("force", M.lsp_config(), overrides)
  M._fallback_config = cfg
  local group = vim.api.nvim_create_augroup("tierwise_start", { clear = true })
  local function start(bufnr)
    local root = vim.fs.root(bufnr, cfg.root_markers or { ".git" })
    local settings = vim.tbl_extend("force", cfg, { name = rpc.NAME, root_dir = root })
    settings.filetypes, settings.root_markers = nil, nil
    vim.lsp.start(settings, { bufnr = bufnr })
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = cfg.filetypes,
    callback = rpc.guard(function(ev)
      start(ev.buf)
    end),
  })
  -- Buffers already open when setup runs.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(cfg.filetypes or {}, vim.bo[bufnr].filetype) then
      start(bufnr)
    end
  end
end

--- setup{}: every key is optional.
---   cmd, filetypes, root_markers: the client (defaults in lsp/tierwise.lua)
---   settings: tierwise settings sent as initializationOptions (e.g. { routing = {...} })
---   display: "float" | "split"; keys = { close, copy }; float = { border, max_width, max_height }
---   enable: false to configure without starting the client
function M.setup(opts)
  opts = opts or {}
  config.apply({ display = opts.display, keys = opts.keys, float = opts.float })
  local overrides = {}
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      overrides[key] = opts[key]
    end
  end
  if opts.settings then
    overrides.init_options = opts.settings
  end
  if vim.lsp.config == nil or vim.lsp.enable == nil then
    if opts.enable ~= false then
      start_fallback(overrides)
    end
    return M
  end
  if next(overrides) then
    vim.lsp.config(rpc.NAME, overrides)
  end
  if opts.enable ~= false then
    vim.lsp.enable(rpc.NAME)
  end
  return M
end

return M

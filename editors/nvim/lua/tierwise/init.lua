-- tierwise for Neovim 0.11+: LSP config plus a few commands (tier picker, route preview,
-- floating markdown for explain/design). Everything also works through plain code actions.
local M = {}

local TIERS = { "auto", "static", "local", "budget", "mid", "frontier" }
local ACTIONS = { "docstring", "rename", "explain", "review", "design" }

local function client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = "tierwise" })[1]
end

local function exec(command, args, on_result)
  local c = client()
  if not c then
    vim.notify("tierwise: no tierwise client attached to this buffer", vim.log.levels.WARN)
    return
  end
  c:request("workspace/executeCommand", { command = command, arguments = { args } }, function(err, result)
    if err then
      vim.notify("tierwise: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif on_result then
      on_result(result)
    end
  end, 0)
end

local function here()
  local pos = vim.api.nvim_win_get_cursor(0)
  return {
    uri = vim.uri_from_bufnr(0),
    position = { line = pos[1] - 1, character = pos[2] },
  }
end

local function float_markdown(text)
  local lines = vim.split(text or "", "\n", { plain = true })
  vim.lsp.util.open_floating_preview(lines, "markdown", { border = "rounded", max_width = 100 })
end

--- Run an action at the cursor, optionally on a given tier.
function M.run(action, tier)
  local args = here()
  args.action = action
  args.tier = tier
  exec("tierwise.run", args, function(result)
    if result and result.markdown then
      float_markdown(result.markdown)
    end
  end)
end

--- Pick the sticky session tier ("auto" clears it).
function M.pick_tier()
  vim.ui.select(TIERS, { prompt = "tierwise tier" }, function(choice)
    if choice then
      exec("tierwise.setTier", { tier = choice }, function()
        vim.notify("tierwise: session tier " .. choice)
      end)
    end
  end)
end

--- Show the routing decision and every tier's estimate for an action at the cursor.
function M.route(action)
  local args = here()
  args.action = action or "review"
  exec("tierwise.route", args, function(result)
    if not result then
      return
    end
    local out = { "**" .. (result.summary or "") .. "**", "" }
    for tier, usd in pairs(result.estimates or {}) do
      table.insert(out, string.format("- %s: $%.4f", tier, usd))
    end
    float_markdown(table.concat(out, "\n"))
  end)
end

function M.setup(opts)
  opts = opts or {}
  vim.lsp.config("tierwise", vim.tbl_deep_extend("force", {
    cmd = { "tierwise", "serve" },
    filetypes = { "python", "javascript", "typescript", "typescriptreact", "go", "rust" },
    root_markers = { ".tierwise.toml", "pyproject.toml", ".git" },
  }, opts.lsp or {}))
  vim.lsp.enable("tierwise")
  vim.api.nvim_create_user_command("Tierwise", function(cmd)
    local sub, arg = cmd.fargs[1], cmd.fargs[2]
    if sub == "tier" then
      M.pick_tier()
    elseif sub == "route" then
      M.route(arg)
    elseif sub == "stats" then
      exec("tierwise.stats", {}, function(r) float_markdown("```json\n" .. vim.json.encode(r) .. "\n```") end)
    elseif sub == "escalate" then
      exec("tierwise.escalate", { uri = vim.uri_from_bufnr(0) })
    elseif vim.tbl_contains(ACTIONS, sub) then
      M.run(sub, arg)
    else
      vim.notify("usage: :Tierwise {docstring|rename|explain|review|design} [tier] | tier | route [action] | stats | escalate")
    end
  end, {
    nargs = "+",
    complete = function(_, line)
      local words = vim.split(line, "%s+")
      if #words <= 2 then
        return vim.list_extend({ "tier", "route", "stats", "escalate" }, vim.deepcopy(ACTIONS))
      end
      return TIERS
    end,
  })
end

return M

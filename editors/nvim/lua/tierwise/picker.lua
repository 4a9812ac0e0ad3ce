-- Tier choice through vim.ui.select (telescope, fzf-lua or snacks take over when installed).
-- Entries come from tierwise.route: `auto` first with the tier routing picks and why, then
-- every tier in ladder order with its model, estimate and whether it can answer.
local rpc = require("tierwise.rpc")
local config = require("tierwise.config")

local M = {}

local function sorted_tiers(route)
  local tiers = vim.deepcopy(route.tiers or {})
  -- The server lists the ladder in order; sorting again keeps every listing in that order.
  table.sort(tiers, function(a, b)
    return config.rank(a.tier) < config.rank(b.tier)
  end)
  return tiers
end

--- The picker entries for one routed request.
function M.entries(route, opts)
  opts = opts or {}
  local reasons = table.concat(route.reasons or {}, "; ")
  local auto
  if opts.clears_sticky and route.sticky then
    -- The server routed with the session tier; choosing auto here clears it.
    auto = ("auto · clear the session tier %s: each request routed again"):format(route.sticky)
  else
    auto = ("auto → %s · %s · ~%s%s"):format(
      route.tier or "?",
      route.model or "no model",
      config.usd(route.estimate_usd),
      reasons ~= "" and (" · " .. reasons) or ""
    )
  end
  local items = { { tier = "auto", available = true, label = auto } }
  for _, t in ipairs(sorted_tiers(route)) do
    local state = t.available and "available" or ("unavailable: " .. (t.why_not or "not configured"))
    local marks = ""
    if t.tier == route.tier then
      marks = marks .. " ← routed"
    end
    if opts.sticky and t.tier == opts.sticky then
      marks = marks .. " (session tier)"
    end
    table.insert(items, {
      tier = t.tier,
      available = t.available,
      why_not = t.why_not,
      label = ("%s · %s · ~%s · %s%s"):format(
        t.tier,
        t.model or "no model",
        config.usd(t.estimate_usd),
        state,
        marks
      ),
    })
  end
  return items
end

--- Route `action` at the cursor (or the given args), then let the user pick an entry.
--- on_choice(item) runs only for an available entry; an unavailable one says why.
function M.choose(action, args, prompt, on_choice, opts)
  local route_args = vim.tbl_extend("force", args, { action = action })
  route_args.tier = nil
  rpc.exec("tierwise.route", route_args, function(route)
    local items = M.entries(route, { sticky = route.sticky, clears_sticky = opts and opts.clears_sticky })
    vim.ui.select(items, {
      prompt = prompt,
      kind = "tierwise.tier",
      format_item = function(item)
        return item.label
      end,
    }, rpc.guard(function(item)
      if not item then
        return
      end
      if not item.available then
        vim.notify(
          ("tierwise: %s is unavailable: %s"):format(item.tier, item.why_not or "not configured"),
          vim.log.levels.WARN
        )
        return
      end
      on_choice(item)
    end))
  end, opts)
end

--- Available tiers for an action at the cursor, in ladder order (for <Tab> completion).
--- One short synchronous route; falls back to the whole ladder when the server cannot say.
function M.available(action, bufnr)
  local client = rpc.client(bufnr)
  if not client then
    return vim.deepcopy(config.TIERS)
  end
  local args = rpc.here(client, bufnr)
  args.action = action or "review"
  local route = rpc.exec_sync("tierwise.route", args, 1000, bufnr)
  if not route or not route.tiers then
    return vim.deepcopy(config.TIERS)
  end
  local out = {}
  for _, t in ipairs(sorted_tiers(route)) do
    if t.available then
      table.insert(out, t.tier)
    end
  end
  return out
end

return M

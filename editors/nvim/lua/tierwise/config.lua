-- The plugin's options (what setup{} accepts) and the facts every module shares.
local M = {}

M.ACTIONS = { "docstring", "rename", "explain", "review", "design" }
-- The ladder, cheapest first: every listing of tiers in the plugin follows this order.
M.TIERS = { "static", "local", "budget", "mid", "frontier" }
M.SUBCOMMANDS = { "tier", "pick", "escalate", "stats" }

M.defaults = {
  -- Where explain and design open: "float" or "split".
  display = "float",
  -- Keys in that window.
  keys = { close = "q", copy = "Y" },
  float = { border = "rounded", max_width = 100, max_height = 30 },
}

M.options = vim.deepcopy(M.defaults)

--- Merge user options over the defaults; unknown display values are refused with a message.
function M.apply(opts)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if merged.display ~= "float" and merged.display ~= "split" then
    vim.notify(
      ("tierwise: display must be \"float\" or \"split\", not %q; using \"float\""):format(
        tostring(merged.display)
      ),
      vim.log.levels.ERROR
    )
    merged.display = "float"
  end
  M.options = merged
  return merged
end

--- The position of a tier on the ladder (unknown names sort last).
function M.rank(tier)
  for i, name in ipairs(M.TIERS) do
    if name == tier then
      return i
    end
  end
  return #M.TIERS + 1
end

function M.is_tier(name)
  return vim.tbl_contains(M.TIERS, name)
end

function M.is_action(name)
  return vim.tbl_contains(M.ACTIONS, name)
end

--- Dollars as the server prints them: $0, four decimals under $1, else two.
function M.usd(value)
  value = tonumber(value) or 0
  if value == 0 then
    return "$0"
  end
  return (value < 1 and "$%.4f" or "$%.2f"):format(value)
end

--- Dollars for the statusline, kept short: four decimals under a cent, else two ($0.42).
function M.usd_short(value)
  value = tonumber(value) or 0
  if value == 0 then
    return "$0"
  end
  return (value < 0.01 and "$%.4f" or "$%.2f"):format(value)
end

return M

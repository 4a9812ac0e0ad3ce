-- :Tierwise: parsing and <Tab> completion.
--   :[range]Tierwise[!] {action} [tier | tier=NAME]   run (! skips the cache)
--   :[range]Tierwise[!] pick {action}                 choose the tier of this one request
--   :Tierwise tier [NAME]                             the sticky session tier (picker without NAME)
--   :Tierwise escalate | stats
local config = require("tierwise.config")
local rpc = require("tierwise.rpc")

local M = {}

--- "frontier" or "tier=frontier" -> "frontier"; anything else -> nil.
local function tier_arg(word)
  if not word then
    return nil
  end
  return word:match("^tier=(.*)$") or word
end

local function run(cmd)
  local words = cmd.fargs
  local sub = words[1]
  local range = cmd.range > 0 and { cmd.line1, cmd.line2 } or nil
  local tw = require("tierwise")
  if sub == nil then
    return rpc.error("which action? :Tierwise {docstring|rename|explain|review|design} [tier]"
      .. " | tier [name] | pick {action} | escalate | stats")
  end
  if config.is_action(sub) then
    if #words > 2 then
      return rpc.error(("too many arguments: :Tierwise %s [tier]"):format(sub))
    end
    return tw.run(sub, { tier = tier_arg(words[2]), range = range, refresh = cmd.bang })
  end
  if sub == "pick" then
    return tw.pick(words[2], { range = range, refresh = cmd.bang })
  end
  if sub == "tier" then
    return tw.tier(tier_arg(words[2]))
  end
  if sub == "escalate" then
    return tw.escalate()
  end
  if sub == "stats" then
    return tw.stats()
  end
  return rpc.error(("unknown action %q: :Tierwise {docstring|rename|explain|review|design} [tier]"
    .. " | tier [name] | pick {action} | escalate | stats"):format(sub))
end

M.run = rpc.guard(run)

local function matching(candidates, lead)
  return vim.tbl_filter(function(c)
    return vim.startswith(c, lead)
  end, candidates)
end

--- Completion: actions and subcommands, then the tiers available for that action at the
--- cursor (ladder order), or `tier=` forms when the argument starts that way.
function M.complete(arglead, cmdline, cursorpos)
  local ok, result = pcall(function()
    local before = cmdline:sub(1, cursorpos)
    -- Drop the range and the command name: "'<,'>Tierwise! review fr" -> "review fr".
    local rest = before:gsub("^.-Tierwise!?%s*", "", 1)
    local words = vim.split(rest, "%s+", { trimempty = true })
    if arglead ~= "" then
      table.remove(words) -- the word being completed
    end
    if #words == 0 then
      local all = vim.list_extend(vim.deepcopy(config.ACTIONS), config.SUBCOMMANDS)
      return matching(all, arglead)
    end
    local first = words[1]
    if #words == 1 and first == "pick" then
      return matching(config.ACTIONS, arglead)
    end
    if #words == 1 and (config.is_action(first) or first == "tier") then
      local tiers = require("tierwise.picker").available(first == "tier" and "review" or first, 0)
      if first == "tier" then
        table.insert(tiers, 1, "auto")
      end
      if arglead:find("^tier=") then
        tiers = vim.tbl_map(function(t)
          return "tier=" .. t
        end, tiers)
      end
      return matching(tiers, arglead)
    end
    return {}
  end)
  return ok and result or {}
end

return M

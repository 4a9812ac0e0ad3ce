-- The statusline component and the progress it follows.
--
-- statusline() only reads a cache: the session spend and the sticky tier come from one
-- tierwise.stats request when the client attaches, after each request's progress ends and
-- after the tier changes, never from a redraw.
local rpc = require("tierwise.rpc")
local config = require("tierwise.config")

local M = {}

-- client id -> { sticky = "auto", spent = number|nil, running = { title, message }|nil }
local state = {}

local function entry(client_id)
  state[client_id] = state[client_id] or { sticky = "auto" }
  return state[client_id]
end

local function redraw()
  pcall(vim.cmd, "redrawstatus!")
end

--- Ask the server for the session spend and the sticky tier (asynchronously).
function M.refresh(client)
  if not client then
    return
  end
  rpc.exec("tierwise.stats", nil, function(result)
    local e = entry(client.id)
    e.sticky = result.sticky or "auto"
    local session = result.this_session or {}
    e.spent = tonumber(session.cost_usd) or 0
    redraw()
  end, { client = client, quiet = true })
end

--- Record a new sticky tier (from tierwise.setTier's answer) without asking again.
function M.set_sticky(client, tier)
  entry(client.id).sticky = tier or "auto"
  redraw()
end

--- LspProgress: remember what runs, refresh the spend once it ends.
function M.on_progress(args)
  local data = args.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= rpc.NAME then
    return
  end
  local value = (data.params or {}).value or {}
  local e = entry(client.id)
  if value.kind == "end" then
    e.running = nil
    M.refresh(client)
  elseif value.kind == "begin" then
    e.running = { title = value.title, message = value.message }
  elseif value.kind == "report" and e.running then
    e.running.message = value.message or e.running.message
  end
  redraw()
end

--- The component's text for one client.
function M.statusline_for(client)
  local e = state[client.id] or { sticky = "auto" }
  local text = "tw:" .. (e.sticky or "auto")
  if e.spent then
    text = text .. " " .. config.usd_short(e.spent)
  end
  if e.running then
    local title = (e.running.title or ""):gsub("^tierwise ", "")
    text = text .. " · " .. title .. (e.running.message and (" " .. e.running.message) or "")
  end
  return text
end

--- "tw:auto $0.42" for the current buffer's client; "" when no tierwise client is attached.
--- While a request runs: "tw:auto $0.42 · review ~120 tokens · est. $0.0040".
function M.statusline()
  local client = rpc.client(0)
  return client and M.statusline_for(client) or ""
end

return M

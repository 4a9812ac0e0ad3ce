-- Talking to the tierwise client: find it, send commands, turn every failure into one message.
--
-- Every callback the plugin hands to Neovim goes through M.guard, so that a bug of ours or an
-- unexpected answer becomes one vim.notify at ERROR, never a Lua stack trace in the user's face
-- (the traceback goes to the LSP log, :LspLog, for a bug report).
local M = {}

M.NAME = "tierwise"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- One error message for the user.
function M.error(message)
  message = tostring(message or "unknown error")
  if not message:find("^tierwise") then
    message = "tierwise: " .. message
  end
  vim.notify(message, vim.log.levels.ERROR)
end

--- Wrap fn so that a Lua error in it is reported once, without a traceback.
function M.guard(fn)
  return function(...)
    local args = { n = select("#", ...), ... }
    local ok, err = xpcall(function()
      return fn(unpack(args, 1, args.n))
    end, function(e)
      pcall(vim.lsp.log.error, "tierwise plugin error", debug.traceback(tostring(e), 2))
      return e
    end)
    if not ok then
      -- "…/init.lua:12: message" -> "message": the location is in the log.
      local text = tostring(err):gsub("^[^:\n]+:%d+: ", "")
      M.error("plugin error: " .. text .. " (details in :LspLog)")
    end
  end
end

--- The tierwise client attached to a buffer (0 = current), if any.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = M.NAME })[1]
end

--- Every running tierwise client.
function M.clients()
  return vim.lsp.get_clients({ name = M.NAME })
end

local function send(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function send_sync(client, method, params, timeout, bufnr)
  if has_011 then
    return client:request_sync(method, params, timeout, bufnr)
  end
  return client.request_sync(method, params, timeout, bufnr)
end

--- JSON null arrives as vim.NIL, which is truthy: drop it so that `x or default` works.
local function denil(value)
  if value == vim.NIL then
    return nil
  end
  if type(value) == "table" then
    for k, v in pairs(value) do
      value[k] = denil(v)
    end
  end
  return value
end
M.denil = denil

local function command_params(command, args)
  -- A command without arguments sends none: an empty Lua table would encode as [].
  return { command = command, arguments = args ~= nil and { args } or nil }
end

--- workspace/executeCommand; on_result(result) runs guarded, an error becomes one message.
--- opts: bufnr, client, quiet (log instead of notify: background refreshes).
function M.exec(command, args, on_result, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = opts.client or M.client(bufnr)
  if not client then
    if not opts.quiet then
      M.error("no tierwise server is attached to this buffer (see :checkhealth tierwise)")
    end
    return false
  end
  local ok = send(client, "workspace/executeCommand", command_params(command, args), function(err, result)
    if err then
      if opts.quiet then
        pcall(vim.lsp.log.warn, "tierwise:", command, err.message)
      else
        M.error(err.message or vim.inspect(err))
      end
      if opts.on_error then
        M.guard(opts.on_error)(err)
      end
      return
    end
    if on_result then
      M.guard(on_result)(denil(result) or {}, client)
    end
  end, bufnr)
  if not ok and not opts.quiet then
    M.error("the tierwise server is not running (see :LspLog and :checkhealth tierwise)")
  end
  return ok
end

--- A short synchronous command (for <Tab> completion only); nil on any failure.
function M.exec_sync(command, args, timeout_ms, bufnr)
  local client = M.client(bufnr)
  if not client then
    return nil
  end
  local ok, response = pcall(send_sync, client, "workspace/executeCommand", command_params(command, args), timeout_ms or 1000, bufnr)
  if not ok or not response or response.err then
    return nil
  end
  return denil(response.result)
end

-- -- positions ------------------------------------------------------------------------------

local function line_text(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- A 0-based byte column of a buffer line in the client's position encoding.
local function to_units(bufnr, row, col, encoding)
  local line = line_text(bufnr, row)
  col = math.max(0, math.min(col, #line))
  if encoding == "utf-8" or col == 0 then
    return col
  end
  return vim.lsp.util.character_offset(bufnr, row, col, encoding)
end

--- A position's character (in the client's encoding) as a 0-based byte column.
function M.to_byte(bufnr, row, character, encoding)
  local line = line_text(bufnr, row)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  end
  return ok and col or #line
end

--- {uri, position} of the cursor.
function M.here(client, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row = cursor[1] - 1
  return {
    uri = vim.uri_from_bufnr(bufnr),
    position = { line = row, character = to_units(bufnr, row, cursor[2], client.offset_encoding) },
  }
end

--- {uri, range} of a command range (1-based inclusive lines), using the columns of the last
--- characterwise visual selection when it is exactly that range, else whole lines.
function M.selection(client, bufnr, line1, line2)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local encoding = client.offset_encoding
  local first, last = line1 - 1, line2 - 1
  local start_col, end_col = 0, #line_text(bufnr, last)
  local mark_start = vim.api.nvim_buf_get_mark(bufnr, "<")
  local mark_end = vim.api.nvim_buf_get_mark(bufnr, ">")
  if vim.fn.visualmode() == "v" and mark_start[1] == line1 and mark_end[1] == line2 then
    start_col = mark_start[2]
    local last_line = line_text(bufnr, last)
    -- '> marks the first byte of the last selected character; LSP ends are exclusive.
    local char = vim.fn.strcharpart(last_line:sub(mark_end[2] + 1), 0, 1)
    end_col = math.min(#last_line, mark_end[2] + math.max(#char, 1))
  end
  return {
    uri = vim.uri_from_bufnr(bufnr),
    range = {
      start = { line = first, character = to_units(bufnr, first, start_col, encoding) },
      ["end"] = { line = last, character = to_units(bufnr, last, end_col, encoding) },
    },
  }
end

return M

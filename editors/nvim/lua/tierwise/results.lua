-- What a tierwise.run answer becomes in Neovim.
--   explain, design: markdown in a float (or a split), `q` closes, `Y` copies;
--   docstring: the server already sent the edit with workspace/applyEdit;
--   review: the server already published diagnostics (the quick fix is a code action);
--   rename: the candidates in vim.ui.select with their reasons, then the rename itself.
local rpc = require("tierwise.rpc")
local config = require("tierwise.config")

local M = {}

local function header(result)
  local source = result.cache_hit and "from cache" or (result.model or "static")
  local cost = result.cache_hit and "$0" or config.usd(result.cost_usd)
  return ("%s · %s · %s · %s"):format(result.action or "tierwise", result.tier or "?", source, cost)
end

local function copy(text)
  vim.fn.setreg('"', text)
  if vim.fn.has("clipboard") == 1 then
    pcall(vim.fn.setreg, "+", text)
  end
  vim.notify("tierwise: answer copied", vim.log.levels.INFO)
end

--- Show markdown in a float or a split; returns the window and buffer.
function M.show_markdown(text, title)
  local opts = config.options
  local lines = vim.split((text or ""):gsub("%s+$", ""), "\n", { plain = true })
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "markdown"
  vim.b[buf].tierwise_title = title
  local win
  if opts.display == "split" then
    vim.cmd("botright split")
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    vim.api.nvim_win_set_height(win, math.min(math.max(#lines, 3), opts.float.max_height))
    pcall(vim.api.nvim_buf_set_name, buf, "tierwise://" .. title:gsub(" · ", "-"):gsub("[^%w%-%.:$]", ""))
  else
    local width = 20
    for _, line in ipairs(lines) do
      width = math.max(width, vim.fn.strdisplaywidth(line))
    end
    width = math.min(width, opts.float.max_width, vim.o.columns - 4)
    local height = math.min(#lines, opts.float.max_height, math.max(vim.o.lines - 6, 1))
    win = vim.api.nvim_open_win(buf, true, {
      relative = "editor",
      row = math.max(math.floor((vim.o.lines - height) / 2) - 1, 0),
      col = math.max(math.floor((vim.o.columns - width) / 2), 0),
      width = width,
      height = height,
      style = "minimal",
      border = opts.float.border,
      title = " " .. title .. " ",
      title_pos = "center",
    })
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 2
  local keys = opts.keys
  vim.keymap.set("n", keys.close, function()
    pcall(vim.api.nvim_win_close, win, true)
  end, { buffer = buf, nowait = true, desc = "tierwise: close" })
  vim.keymap.set("n", keys.copy, function()
    copy(text)
  end, { buffer = buf, nowait = true, desc = "tierwise: copy the answer" })
  return win, buf
end

local function rename_with(client, bufnr, result, name)
  if vim.bo[bufnr].filetype == "python" then
    -- The server renames across files with jedi and sends the edit through applyEdit.
    rpc.exec("tierwise.applyRename", {
      uri = result.uri,
      position = result.position,
      name = name,
    }, function(done)
      if not done.applied then
        vim.notify("tierwise: rename not applied: " .. (done.reason or "the editor declined it"), vim.log.levels.WARN)
      end
    end, { client = client, bufnr = bufnr })
    return
  end
  -- Other languages: the language server that knows every reference does the rename.
  local row = result.position.line
  local col = rpc.to_byte(bufnr, row, result.position.character, client.offset_encoding)
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
    vim.api.nvim_win_set_cursor(win, { row + 1, col })
  end
  vim.lsp.buf.rename(name, {
    bufnr = bufnr,
    filter = function(c)
      return c.name ~= rpc.NAME
    end,
  })
end

local function offer_names(client, bufnr, result)
  local candidates = result.candidates or {}
  if #candidates == 0 then
    vim.notify("tierwise: no rename suggestion for " .. (result.old_name or "this name"), vim.log.levels.WARN)
    return
  end
  if not result.position then
    vim.notify("tierwise: " .. (result.old_name or "the name") .. " moved while the names were chosen: run rename again", vim.log.levels.WARN)
    return
  end
  vim.ui.select(candidates, {
    prompt = ("Rename %s to (%s)"):format(result.old_name or "?", header(result)),
    kind = "tierwise.rename",
    format_item = function(c)
      return c.reason and c.reason ~= "" and (c.name .. " — " .. c.reason) or c.name
    end,
  }, rpc.guard(function(choice)
    if choice then
      rename_with(client, bufnr, result, choice.name)
    end
  end))
end

--- Turn one tierwise.run result into its effect in the editor.
function M.handle(result, client, bufnr)
  local action = result.action
  for _, warning in ipairs(result.warnings or {}) do
    vim.notify("tierwise: " .. warning, vim.log.levels.WARN)
  end
  if action == "explain" or action == "design" then
    M.show_markdown(result.markdown or "", header(result))
  elseif action == "rename" then
    offer_names(client, bufnr, result)
  elseif action == "review" then
    if result.published == false then
      vim.notify("tierwise: " .. (result.reason or "findings not shown"), vim.log.levels.WARN)
    else
      local n = tonumber(result.findings) or 0
      local what = n == 0 and "no findings" or (n == 1 and "1 finding" or (n .. " findings"))
      vim.notify(("tierwise: %s · %s"):format(header(result), what), vim.log.levels.INFO)
    end
  elseif action == "docstring" then
    if result.applied == false then
      vim.notify("tierwise: docstring not applied: " .. (result.reason or "the editor declined it"), vim.log.levels.WARN)
    else
      vim.notify("tierwise: " .. header(result), vim.log.levels.INFO)
    end
  end
end

return M

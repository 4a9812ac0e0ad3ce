-- A headless Neovim as the LSP client of `tierwise serve`, driven the way a user drives it:
-- open a file, ask for code actions, pick review and docstring through vim.lsp.buf.code_action.
-- Inputs come from environment variables (TW_*); everything observed goes to the JSON file
-- TW_OUT, which the Python test asserts on. Any Lua error is recorded there, and Neovim always
-- quits.

local out = {
  titles = {},
  messages = {},
  diagnostics = {},
  lines_before = {},
  lines_after = {},
  errors = {},
  steps = {},
}

local function step(name)
  table.insert(out.steps, name)
end

local function finish()
  local handle = assert(io.open(os.getenv("TW_OUT"), "w"))
  handle:write(vim.json.encode(out))
  handle:close()
  vim.cmd("qa!")
end

local function wait(ms, what, predicate)
  if not vim.wait(ms, predicate, 50) then
    error("timed out waiting for " .. what, 0)
  end
end

local function find_line(buf, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(needle, 1, true) then
      return i
    end
  end
  error("no line holds " .. needle, 0)
end

local function main()
  vim.cmd("filetype on")
  vim.lsp.log.set_level("debug")
  vim.lsp.config("tierwise", {
    cmd = vim.json.decode(os.getenv("TW_CMD")),
    filetypes = { "python" },
    root_markers = { "pyproject.toml" },
    init_options = { server = { showTierVariants = true } },
    handlers = {
      ["window/showMessage"] = function(_, params)
        table.insert(out.messages, params.message)
      end,
    },
  })
  vim.lsp.enable("tierwise")

  vim.cmd.edit(vim.fn.fnameescape(os.getenv("TW_FILE")))
  local buf = vim.api.nvim_get_current_buf()
  out.lines_before = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local client
  wait(30000, "the tierwise client to attach", function()
    client = vim.lsp.get_clients({ bufnr = buf, name = "tierwise" })[1]
    return client ~= nil and client.initialized
  end)
  step("attached")

  -- What the lightbulb menu would list at the SQL line of find_user.
  vim.api.nvim_win_set_cursor(0, { find_line(buf, "conn.execute"), 4 })
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {}, triggerKind = 1 }
  local listed = client:request_sync("textDocument/codeAction", params, 30000, buf)
  assert(listed and not listed.err, "codeAction failed: " .. vim.inspect(listed))
  for _, action in ipairs(listed.result or {}) do
    table.insert(out.titles, { title = action.title, kind = action.kind })
  end
  step("listed")

  -- Review: picked through the real code-action flow (one match, so it applies directly).
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.kind == "refactor.tierwise.review" and action.command.arguments[1].tier == nil
    end,
  })
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, {
      lnum = d.lnum,
      col = d.col,
      message = d.message,
      source = d.source,
      severity = d.severity,
      data = d.user_data and d.user_data.lsp and d.user_data.lsp.data or vim.NIL,
    })
  end
  step("reviewed")

  -- The finding's suggested replacement, offered as a quick fix on its line.
  local finding = vim.diagnostic.get(buf)[1]
  vim.api.nvim_win_set_cursor(0, { finding.lnum + 1, finding.col })
  vim.lsp.buf.code_action({
    apply = true,
    -- Neovim fills context.diagnostics with the LSP diagnostics of the cursor line.
    context = { only = { "quickfix" } },
  })
  wait(30000, "the quick fix", function()
    local line = vim.api.nvim_buf_get_lines(buf, finding.lnum, finding.lnum + 1, false)[1]
    return line:find("# checked", 1, true) ~= nil
  end)
  step("fixed")

  -- Docstring on shout: the server answers with workspace/applyEdit, which Neovim applies.
  vim.api.nvim_win_set_cursor(0, { find_line(buf, "def shout") + 1, 4 })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.kind == "refactor.rewrite.tierwise.docstring"
        and action.command.arguments[1].tier == nil
    end,
  })
  wait(60000, "the docstring edit", function()
    for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if line:find('"""', 1, true) and line:find("shout", 1, true) then
        return true
      end
    end
    return false
  end)
  out.lines_after = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  step("documented")
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  table.insert(out.errors, tostring(err))
end
finish()

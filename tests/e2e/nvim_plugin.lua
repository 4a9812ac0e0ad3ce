-- Headless Neovim with the tierwise plugin (editors/nvim on 'runtimepath'), driven the way a
-- user drives it: :Tierwise commands, pickers, floats, :checkhealth. One scenario per run
-- (TW_SCENARIO); what it observed goes to the JSON file TW_OUT for the Python test.
--
-- Only the editor's UI is scripted: vim.ui.select answers with the entries named in
-- TW_CHOICES (as a user would pick them), vim.notify is recorded, and so are the requests the
-- client sends. The plugin itself runs unchanged.

local out = {
  steps = {},
  errors = {},
  notifications = {},
  selects = {},
  sent = {},
  progress = {},
  statusline_during = {},
}
local choices = vim.json.decode(os.getenv("TW_CHOICES") or "[]")
local counting = { on = false, requests = 0 }

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
  if not vim.wait(ms, predicate, 20) then
    error("timed out waiting for " .. what, 0)
  end
end

-- -- the scripted UI -------------------------------------------------------------------------

vim.notify = function(message, level)
  table.insert(out.notifications, { message = message, level = level or vim.log.levels.INFO })
end

vim.ui.select = function(items, opts, on_choice)
  local labels = {}
  for i, item in ipairs(items) do
    labels[i] = opts.format_item and opts.format_item(item) or tostring(item)
  end
  local want = table.remove(choices, 1)
  table.insert(out.selects, { prompt = opts.prompt, kind = opts.kind, labels = labels, chose = want or vim.NIL })
  local picked
  for i, label in ipairs(labels) do
    if want ~= nil and vim.startswith(label, want) then
      picked = i
      break
    end
  end
  -- Real pickers answer later, from the event loop.
  vim.schedule(function()
    on_choice(picked and items[picked] or nil, picked)
  end)
end

-- Record what the client sends (method, command, arguments), without changing it.
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client.name ~= "tierwise" or client._tw_recorded then
      return
    end
    client._tw_recorded = true
    local request = client.request
    client.request = function(self, method, params, ...)
      if counting.on then
        counting.requests = counting.requests + 1
      end
      if method == "workspace/executeCommand" then
        table.insert(out.sent, { command = params.command, arguments = params.arguments or vim.NIL })
      end
      return request(self, method, params, ...)
    end
  end,
})

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    local value = args.data.params.value
    table.insert(out.progress, { kind = value.kind, title = value.title or vim.NIL, message = value.message or vim.NIL })
    if value.kind == "report" then
      table.insert(out.statusline_during, require("tierwise").statusline())
    end
  end,
})

-- -- helpers ---------------------------------------------------------------------------------

local function open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  return vim.api.nvim_get_current_buf()
end

local function client_of(buf)
  local client
  wait(30000, "the tierwise client to attach", function()
    client = vim.lsp.get_clients({ bufnr = buf, name = "tierwise" })[1]
    return client ~= nil and client.initialized
  end)
  return client
end

local function line_of(buf, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(needle, 1, true) then
      return i
    end
  end
  error("no line holds " .. needle, 0)
end

--- Put the cursor on the first occurrence of needle (1-based line, byte column).
local function cursor_on(buf, needle)
  local row = line_of(buf, needle)
  local col = vim.api.nvim_buf_get_lines(buf, row - 1, row, false)[1]:find(needle, 1, true) - 1
  vim.api.nvim_win_set_cursor(0, { row, col })
  return row, col
end

local function lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

local function diagnostics(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(list, {
      lnum = d.lnum,
      message = d.message,
      source = d.source,
      data = d.user_data and d.user_data.lsp and d.user_data.lsp.data or vim.NIL,
    })
  end
  return list
end

local function floats()
  local list = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local cfg = vim.api.nvim_win_get_config(win)
    if cfg.relative ~= "" then
      local buf = vim.api.nvim_win_get_buf(win)
      local title = cfg.title
      if type(title) == "table" then
        title = table.concat(vim.tbl_map(function(chunk)
          return chunk[1]
        end, title))
      end
      table.insert(list, {
        win = win,
        lines = lines(buf),
        filetype = vim.bo[buf].filetype,
        title = title or vim.NIL,
      })
    end
  end
  return list
end

local function wait_float(what)
  wait(60000, what, function()
    return #floats() > 0
  end)
  return floats()[1]
end

local function wait_statusline_change(before, what)
  local now
  wait(30000, what, function()
    now = require("tierwise").statusline()
    return now ~= before
  end)
  return now
end

local function notifications_since(n)
  return vim.list_slice(out.notifications, n + 1)
end

local function text_has(buf, needle)
  for _, line in ipairs(lines(buf)) do
    if line:find(needle, 1, true) then
      return true
    end
  end
  return false
end

-- Statusline: wait until the first tierwise.stats answer arrived ("tw:auto $0").
local function settle_statusline()
  wait(30000, "the first statusline figures", function()
    return require("tierwise").statusline():find("%$") ~= nil
  end)
  return require("tierwise").statusline()
end

local FILE = os.getenv("TW_FILE")
local scenarios = {}

-- -- scenarios ------------------------------------------------------------------------------

function scenarios.review_and_statusline()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  out.statusline_before = settle_statusline()
  cursor_on(buf, "conn.execute")
  vim.cmd("Tierwise review")
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics(buf)
  out.statusline_after = wait_statusline_change(out.statusline_before, "the statusline to show the spend")
  step("reviewed")
  -- Redraws must cost no request: call the component as a statusline would, many times.
  counting.on = true
  for _ = 1, 200 do
    require("tierwise").statusline()
  end
  vim.cmd("redrawstatus!")
  counting.on = false
  out.requests_during_redraws = counting.requests
  vim.o.statusline = "%{v:lua.require'tierwise'.statusline()}"
  out.statusline_rendered = vim.api.nvim_eval_statusline(vim.o.statusline, {}).str
end

function scenarios.one_shot_tiers()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  cursor_on(buf, "cleaned = text.strip()")
  vim.cmd("Tierwise docstring frontier")
  wait(60000, "the docstring", function()
    return text_has(buf, '"""Summarise')
  end)
  out.lines_after_docstring = lines(buf)
  step("documented")
  cursor_on(buf, "cleaned = text.strip()")
  vim.cmd("Tierwise review tier=budget")
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics(buf)
  step("reviewed")
end

function scenarios.range()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  local first = line_of(buf, "query = ")
  local last = line_of(buf, "row = conn.execute")
  -- Linewise visual selection of two lines, then `:` (Neovim types the '<,'> itself).
  local function keys(text)
    vim.api.nvim_feedkeys(vim.keycode(text), "xt", false)
  end
  keys(("%dGV%dG:Tierwise review<CR>"):format(first, last))
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics(buf)
  step("linewise")
  -- Characterwise: exactly `conn.execute(query)`.
  local row, col = cursor_on(buf, "conn.execute(query)")
  keys(("v%dl:Tierwise explain<CR>"):format(#"conn.execute(query)" - 1))
  out.float = wait_float("the explain float")
  out.float.win = nil
  out.charwise_cursor = { row, col }
  step("charwise")
  -- A plain line range without a visual selection: whole lines.
  vim.api.nvim_win_close(0, true)
  vim.cmd(("%d,%dTierwise explain"):format(first, first))
  wait(60000, "the second float", function()
    return #floats() > 0
  end)
  step("lines")
end

function scenarios.completion()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  cursor_on(buf, "cleaned = text.strip()")
  out.complete = {
    first = vim.fn.getcompletion("Tierwise ", "cmdline"),
    first_r = vim.fn.getcompletion("Tierwise r", "cmdline"),
    explain = vim.fn.getcompletion("Tierwise explain ", "cmdline"),
    docstring = vim.fn.getcompletion("Tierwise docstring ", "cmdline"),
    review_tier_eq = vim.fn.getcompletion("Tierwise review tier=", "cmdline"),
    review_m = vim.fn.getcompletion("Tierwise review m", "cmdline"),
    ranged = vim.fn.getcompletion("'<,'>Tierwise! explain ", "cmdline"),
    pick = vim.fn.getcompletion("Tierwise pick ", "cmdline"),
    tier = vim.fn.getcompletion("Tierwise tier ", "cmdline"),
    third = vim.fn.getcompletion("Tierwise review mid ", "cmdline"),
  }
  step("completed")
end

function scenarios.pickers()
  require("tierwise").setup({})
  local buf = open(FILE)
  local client = client_of(buf)
  out.statusline_before = settle_statusline()
  -- :Tierwise tier -> budget (sticky), shown in the statusline.
  cursor_on(buf, "conn.execute")
  vim.cmd("Tierwise tier")
  out.statusline_sticky = wait_statusline_change(out.statusline_before, "the sticky tier in the statusline")
  step("sticky")
  -- An unavailable entry says why and changes nothing.
  local before = #out.notifications
  local sent = #out.sent
  vim.cmd("Tierwise tier")
  wait(10000, "the unavailable entry's message", function()
    return #out.notifications > before
  end)
  out.unavailable = notifications_since(before)
  out.sent_after_unavailable = #out.sent - sent
  -- The sticky tier answers the next request.
  vim.cmd("Tierwise review")
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics(buf)
  local after_review = wait_statusline_change(out.statusline_sticky, "the spend after the review")
  step("reviewed")
  -- :Tierwise pick docstring -> mid, for this one request only.
  cursor_on(buf, "cleaned = text.strip()")
  vim.cmd("Tierwise pick docstring")
  wait(60000, "the docstring", function()
    return text_has(buf, '"""Summarise')
  end)
  out.lines_after_docstring = lines(buf)
  out.statusline_end = wait_statusline_change(after_review, "the spend after the docstring")
  out.offset_encoding = client.offset_encoding
  step("picked")
end

function scenarios.float_and_split()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  settle_statusline()
  cursor_on(buf, "cleaned = text.strip()")
  vim.cmd("Tierwise explain")
  local float = wait_float("the explain float")
  out.float = vim.deepcopy(float)
  out.float.win = nil
  out.float_is_current = vim.api.nvim_get_current_win() == float.win
  vim.fn.setreg('"', "")
  vim.cmd("normal Y")
  out.copied = vim.fn.getreg('"')
  vim.cmd("normal q")
  out.floats_after_q = #floats()
  step("explained")
  -- A code action from the lightbulb list takes the same path (lsp/tierwise.lua's command).
  cursor_on(buf, "conn.execute")
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.kind == "refactor.tierwise.explain" and action.command.arguments[1].tier == nil
    end,
  })
  local second = wait_float("the code action's float")
  out.code_action_float = vim.deepcopy(second)
  out.code_action_float.win = nil
  vim.api.nvim_win_close(second.win, true)
  step("code action")
  -- setup{ display = "split" }: design opens in a normal window below.
  require("tierwise").setup({ display = "split" })
  local wins = #vim.api.nvim_list_wins()
  cursor_on(buf, "def find_user")
  vim.cmd("Tierwise design")
  wait(60000, "the design split", function()
    return #vim.api.nvim_list_wins() > wins
  end)
  local win = vim.api.nvim_get_current_win()
  local split_buf = vim.api.nvim_win_get_buf(win)
  out.split = {
    floating = vim.api.nvim_win_get_config(win).relative ~= "",
    lines = lines(split_buf),
    filetype = vim.bo[split_buf].filetype,
    windows = #vim.api.nvim_list_wins(),
  }
  vim.cmd("normal q")
  out.split.windows_after_q = #vim.api.nvim_list_wins()
  step("split")
end

function scenarios.rename()
  vim.lsp.config("tierwise", {
    handlers = {
      ["window/showMessageRequest"] = function(_, params)
        table.insert(out.errors, "the server asked with showMessageRequest: " .. params.message)
        return vim.NIL
      end,
    },
  })
  require("tierwise").setup({})
  local buf = open(FILE)
  local client = client_of(buf)
  out.pick_name_declared = vim.tbl_get(client.capabilities, "experimental", "tierwise", "pickName") or false
  cursor_on(buf, "shout(")
  vim.cmd("Tierwise rename")
  wait(60000, "the rename", function()
    return text_has(buf, "def compute_shout(")
  end)
  out.lines_after_rename = lines(buf)
  step("python")
  -- Another language: the name goes to vim.lsp.buf.rename (that language's server renames).
  local renamed = {}
  vim.lsp.buf.rename = function(name, opts)
    local cursor = vim.api.nvim_win_get_cursor(0)
    table.insert(renamed, { name = name, row = cursor[1], col = cursor[2], bufnr = opts and opts.bufnr or vim.NIL })
  end
  local js = open(os.getenv("TW_JS"))
  client_of(js)
  cursor_on(js, "const cleaned")
  vim.cmd("Tierwise rename")
  wait(60000, "the JavaScript rename", function()
    return #renamed > 0
  end)
  out.js_rename = renamed[1]
  out.js_bufnr = js
  step("javascript")
end

local function health_lines()
  vim.cmd("checkhealth tierwise")
  local text = lines(vim.api.nvim_get_current_buf())
  vim.cmd("tabclose")
  return text
end

function scenarios.health_attached()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  settle_statusline()
  out.health = health_lines()
  step("health")
end

function scenarios.health_unattached()
  -- The plugin is installed, the client never enabled; a text file is open.
  open(os.getenv("TW_TEXT"))
  out.health = health_lines()
  step("not enabled")
  vim.lsp.config("tierwise", { cmd = { "tierwise-not-installed", "serve" } })
  out.health_missing = health_lines()
  step("missing")
end

function scenarios.errors()
  require("tierwise").setup({})
  local buf = open(FILE)
  client_of(buf)
  settle_statusline()
  cursor_on(buf, "cleaned = text.strip()")
  local function errors_of(command)
    local before = #out.notifications
    vim.cmd(command)
    vim.wait(3000, function()
      for _, n in ipairs(notifications_since(before)) do
        if n.level == vim.log.levels.ERROR then
          return true
        end
      end
      return false
    end, 20)
    vim.wait(300) -- a second message would arrive now
    return { command = command, got = notifications_since(before) }
  end
  out.cases = {
    errors_of("Tierwise explain local"),
    errors_of("Tierwise review galaxy"),
    errors_of("Tierwise frobnicate"),
    errors_of("Tierwise pick"),
    errors_of("Tierwise review frontier extra"),
  }
  local text = open(os.getenv("TW_TEXT"))
  out.text_attached = vim.lsp.get_clients({ bufnr = text, name = "tierwise" })[1] ~= nil
  table.insert(out.cases, errors_of("Tierwise review"))
  -- A bug of ours inside a callback: one message, the traceback only in the log.
  local before = #out.notifications
  require("tierwise.rpc").guard(function()
    local missing = nil
    return missing.field
  end)()
  out.bug = notifications_since(before)
  out.messages = vim.fn.execute("messages")
  out.lsp_log = vim.lsp.get_log_path()
  step("errors")
end

function scenarios.lsp_only_and_help()
  -- Nothing but vim.lsp.enable: lsp/tierwise.lua gives the rest.
  vim.lsp.enable("tierwise")
  local buf = open(FILE)
  local client = client_of(buf)
  out.cmd = client.config.cmd
  out.init_options = client.config.init_options or vim.NIL
  out.pick_name_declared = vim.tbl_get(client.capabilities, "experimental", "tierwise", "pickName") or false
  out.root_dir = client.root_dir
  cursor_on(buf, "cleaned = text.strip()")
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.kind == "refactor.tierwise.explain" and action.command.arguments[1].tier == nil
    end,
  })
  out.float = wait_float("the explain float")
  out.float.win = nil
  vim.cmd("close")
  step("lsp only")
  vim.v.errmsg = ""
  vim.cmd("helptags " .. vim.fn.fnameescape(os.getenv("TW_PLUGIN") .. "/doc"))
  out.helptags_error = vim.v.errmsg
  out.help = {}
  for _, tag in ipairs({ "tierwise", ":Tierwise", "tierwise-statusline", "tierwise-health", "tierwise.setup()" }) do
    vim.cmd("help " .. tag)
    local hbuf = vim.api.nvim_get_current_buf()
    local row = vim.api.nvim_win_get_cursor(0)[1]
    table.insert(out.help, {
      tag = tag,
      file = vim.api.nvim_buf_get_name(hbuf),
      line = vim.api.nvim_buf_get_lines(hbuf, row - 1, row, false)[1],
      buftype = vim.bo[hbuf].buftype,
    })
    vim.cmd("helpclose")
  end
  step("help")
end

function scenarios.fallback_010()
  -- Neovim 0.10 has neither: the plugin must start the client with vim.lsp.start.
  vim.lsp.config = nil
  vim.lsp.enable = nil
  out.hidden = vim.lsp.config == nil and vim.lsp.enable == nil
  require("tierwise").setup({})
  local buf = open(FILE)
  local client = client_of(buf)
  out.root_dir = client.root_dir
  out.init_options = client.config.init_options or vim.NIL
  cursor_on(buf, "conn.execute")
  vim.cmd("Tierwise review")
  wait(60000, "review diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics(buf)
  step("reviewed")
end

local ok, err = xpcall(function()
  vim.cmd("filetype on")
  local scenario = scenarios[os.getenv("TW_SCENARIO")]
  assert(scenario, "no scenario " .. tostring(os.getenv("TW_SCENARIO")))
  scenario()
end, debug.traceback)
if not ok then
  table.insert(out.errors, tostring(err))
end
finish()

-- Loaded at startup: defines :Tierwise and two autocmds, and requires nothing until used.
if vim.g.loaded_tierwise then
  return
end
vim.g.loaded_tierwise = true

vim.api.nvim_create_user_command("Tierwise", function(cmd)
  require("tierwise.command").run(cmd)
end, {
  nargs = "*",
  range = true,
  bang = true,
  desc = "tierwise: run an action ([tier] or tier=NAME for one request), pick a tier, stats",
  complete = function(arglead, cmdline, cursorpos)
    return require("tierwise.command").complete(arglead, cmdline, cursorpos)
  end,
})

local group = vim.api.nvim_create_augroup("tierwise", { clear = true })

vim.api.nvim_create_autocmd("LspProgress", {
  group = group,
  callback = function(args)
    local client = args.data and vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == "tierwise" then
      require("tierwise.status").on_progress(args)
    end
  end,
})

vim.api.nvim_create_autocmd("LspAttach", {
  group = group,
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == "tierwise" then
      require("tierwise.status").refresh(client)
    end
  end,
})

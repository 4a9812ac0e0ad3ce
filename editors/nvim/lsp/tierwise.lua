-- The tierwise language server for Neovim 0.11+: with this directory on 'runtimepath',
--   vim.lsp.enable("tierwise")
-- is all it takes (override any field with vim.lsp.config("tierwise", {...})).
--
-- With the plugin's Lua modules present, the client takes over what the server would
-- otherwise show its own way: explain/design open in a float instead of a document, and
-- rename candidates appear in vim.ui.select instead of a message with buttons.
local with_plugin = #vim.api.nvim_get_runtime_file("lua/tierwise/init.lua", false) > 0

local config = {
  cmd = { "tierwise", "serve" },
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust" },
  root_markers = { ".tierwise.toml", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml", ".git" },
}

if with_plugin then
  config.init_options = { server = { display = "none" } }
  config.capabilities = { experimental = { tierwise = { pickName = true } } }
  config.commands = {
    ["tierwise.run"] = function(command, ctx)
      require("tierwise.rpc").guard(require("tierwise").code_action_command)(command, ctx)
    end,
  }
end

return config

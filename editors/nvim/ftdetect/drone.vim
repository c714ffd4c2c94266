" drone workflows, components and policy packs.
autocmd BufRead,BufNewFile *.drone setfiletype drone

" Vim syntax file for drone's .drone files (workflows, components, policy packs).
" Kept in step with editors/vscode/syntaxes/drone.tmLanguage.json; the language
" server's semantic tokens, where the editor asks for them, colour on top.

if exists("b:current_syntax")
  finish
endif

syn keyword droneControl for in if else
syn keyword droneKeyword workflow param let output use as after before moved input flag create update delete destroy
syn keyword droneDeclaration resource provider phase component instance policy task step hook nextgroup=droneTypePath skipwhite
syn keyword droneConstant true false null
syn keyword droneType string number bool list map
syn match droneTypePath /\<[A-Za-z_][A-Za-z0-9_]*\(\.[A-Za-z_][A-Za-z0-9_]*\)\+\>/ contained
syn match droneAnnotation /@[A-Za-z_][A-Za-z0-9_]*/
syn match droneNumber /\<\d\+\(\.\d\+\)\=\([eE][+-]\=\d\+\)\=\>/
syn match droneAttribute /^\s*\zs[A-Za-z_][A-Za-z0-9_]*\ze\s*=[^=]/
syn match droneCall /\<[A-Za-z_][A-Za-z0-9_:]*\ze\s*(/
syn match droneOperator /==\|!=\|<=\|>=\|&&\|||\|[-+*\/%<>!?:]/

syn match droneEscape /\\\(["\\ntr$]\|u{\x\{1,6}}\)/ contained
syn region droneInterpolation matchgroup=droneDelimiter start=/\${/ end=/}/ contained contains=TOP
syn region droneString start=/"/ skip=/\\"/ end=/"/ contains=droneEscape,droneInterpolation

" `script = <<RHAI` ... `RHAI`: the script's text, verbatim.
syn region droneHeredoc matchgroup=droneDelimiter start=/<<\z([A-Z][A-Z0-9_]*\)\s*$/ end=/^\s*\z1\s*$/

syn match droneComment "//.*$" contains=@Spell
syn match droneComment "#.*$" contains=@Spell
syn region droneComment start="/\*" end="\*/" contains=@Spell

hi def link droneControl Conditional
hi def link droneKeyword Keyword
hi def link droneDeclaration Keyword
hi def link droneConstant Constant
hi def link droneType Type
hi def link droneTypePath Type
hi def link droneAnnotation PreProc
hi def link droneNumber Number
hi def link droneAttribute Identifier
hi def link droneCall Function
hi def link droneOperator Operator
hi def link droneEscape SpecialChar
hi def link droneDelimiter Delimiter
hi def link droneString String
hi def link droneHeredoc String
hi def link droneComment Comment

let b:current_syntax = "drone"

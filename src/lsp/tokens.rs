//! Semantic tokens: the colours of a `.drone` file for editors that have no
//! grammar for it (or prefer the server's). A lexical pass, as forgiving as a
//! syntax colouring must be: a file being typed is coloured as far as it goes.

use serde_json::{json, Value};

use super::text::LineIndex;

/// The token types, in the order the legend gives them (a token names its type by index).
const TYPES: &[&str] =
    &["keyword", "type", "variable", "property", "string", "number", "comment", "function", "decorator"];
/// The modifiers, as bits in the same order.
const MODIFIERS: &[&str] = &["declaration"];

const KEYWORD: u32 = 0;
const TYPE: u32 = 1;
const VARIABLE: u32 = 2;
const PROPERTY: u32 = 3;
const STRING: u32 = 4;
const NUMBER: u32 = 5;
const COMMENT: u32 = 6;
const FUNCTION: u32 = 7;
const DECORATOR: u32 = 8;
const DECLARATION: u32 = 1;

/// Keywords beside those that begin an item.
const KEYWORDS: &[&str] =
    &["in", "else", "input", "after", "before", "as", "create", "update", "delete", "destroy", "true", "false", "null"];
/// Words that name a type after `:`.
const TYPE_WORDS: &[&str] = &["string", "number", "bool", "list", "map", "any"];
/// Keywords after which the next word is the declared name (and, for these, a type comes first).
const TYPED_DECLARATIONS: &[&str] = &["resource", "instance", "provider"];
const DECLARATIONS: &[&str] = &["param", "let", "output", "phase", "component", "input", "task", "step", "hook"];

/// The legend `initialize` advertises.
pub fn legend() -> Value {
    json!({ "tokenTypes": TYPES, "tokenModifiers": MODIFIERS })
}

/// One token: its byte range and its type and modifier bits.
struct Token {
    start: usize,
    end: usize,
    kind: u32,
    modifiers: u32,
}

/// The document's tokens, encoded as the protocol wants them (each relative to the one before).
pub fn full(text: &str) -> Value {
    let index = LineIndex::new(text);
    let mut data = Vec::new();
    let (mut last_line, mut last_start) = (0u64, 0u64);
    for token in lex(text) {
        // A token is one line's: a multi-line one (a block comment, a heredoc) goes line by line.
        let mut from = token.start;
        for line in text[token.start..token.end].split_inclusive('\n') {
            let piece = line.trim_end_matches('\n');
            if !piece.is_empty() {
                let at = index.position(from);
                let (line_no, start) = (at["line"].as_u64().unwrap_or(0), at["character"].as_u64().unwrap_or(0));
                let end = index.position(from + piece.len())["character"].as_u64().unwrap_or(start);
                let delta_start = if line_no == last_line { start - last_start } else { start };
                data.extend([
                    line_no - last_line,
                    delta_start,
                    end - start,
                    u64::from(token.kind),
                    u64::from(token.modifiers),
                ]);
                (last_line, last_start) = (line_no, start);
            }
            from += line.len();
        }
    }
    json!({ "data": data })
}

/// The tokens of `text`, in order.
fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // What the previous word asks of the next: a type (after `resource`), then a declared name.
    let (mut want_type, mut want_name) = (false, false);
    let mut after_colon = false;
    let token = |start, end, kind, modifiers| Token { start, end, kind, modifiers };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                out.push(token(start, i, COMMENT, 0));
            }
            b'#' => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                out.push(token(start, i, COMMENT, 0));
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                out.push(token(start, i, COMMENT, 0));
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                out.push(token(start, i, STRING, 0));
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') && bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase) => {
                // A heredoc: its text up to the line that holds only its tag.
                let tag: String =
                    text[i + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let body = text[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                let mut end = body;
                for line in text[body..].split_inclusive('\n') {
                    if line.trim() == tag {
                        break;
                    }
                    end += line.len();
                }
                out.push(token(body, end, STRING, 0));
                i = end;
            }
            b'@' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(token(start, i, DECORATOR, 0));
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                out.push(token(start, i, NUMBER, 0));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.') {
                    i += 1;
                }
                let word = &text[start..i];
                let rest = text[i..].trim_start_matches([' ', '\t']);
                let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
                let first_on_line = text[line_start..start].trim().is_empty();
                let (kind, modifiers) = if want_type {
                    want_type = false;
                    want_name = true;
                    (TYPE, 0)
                } else if want_name {
                    want_name = false;
                    (VARIABLE, DECLARATION)
                } else if KEYWORDS.contains(&word) || drone_lang::incremental::ITEM_KEYWORDS.contains(&word) {
                    want_type = TYPED_DECLARATIONS.contains(&word);
                    want_name = DECLARATIONS.contains(&word);
                    (KEYWORD, 0)
                } else if after_colon && TYPE_WORDS.contains(&word) {
                    (TYPE, 0)
                } else if rest.starts_with('(') {
                    (FUNCTION, 0)
                } else if rest.starts_with('=')
                    && !rest.starts_with("==")
                    && (first_on_line || text[..start].trim_end().ends_with(['{', ',']))
                {
                    (PROPERTY, 0)
                } else {
                    (VARIABLE, 0)
                };
                out.push(token(start, i, kind, modifiers));
                // A type annotation goes on through `list(string)`.
                after_colon = kind == TYPE && rest.starts_with('(');
                continue;
            }
            b':' => {
                after_colon = true;
                i += 1;
                continue;
            }
            _ => i += 1,
        }
        // A type annotation goes on through its brackets (`list(string)`).
        if !c.is_ascii_whitespace() && c != b'(' {
            after_colon = false;
        }
    }
    out
}

//! The guard that runs before pest: pest recurses once per level of
//! brackets, string interpolations, `else if` links and `?:` links, and once
//! per unary operator, so input that is deep in any of these would overflow
//! the stack. One pass over the bytes (strings, interpolations and comments
//! understood) refuses such input with a span, before the grammar runs. What
//! pest handles by repetition (operator chains, `.member` chains) is bounded
//! later, when lowering builds the tree (`lower.rs`).

use crate::diagnostic::SyntaxError;
use crate::span::{FileId, Span};

/// Deepest nesting accepted: brackets and interpolations, plus the `else if`
/// and `?:` links chained at one level.
pub const MAX_NESTING: usize = 128;

/// Most unary operators in a row (`!!x`, `- -x`).
pub const MAX_UNARY_RUN: usize = 16;

/// Largest source file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// What encloses the current position.
#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// Code inside `(`, `[`, `{` or the file itself.
    Code { links: usize },
    /// Code inside `${ ... }` of a string.
    Interp { links: usize },
    /// The text of a string.
    Str,
}

/// Refuses `text` when it is too large or nested too deep for the parser;
/// otherwise returns where each line outside every bracket, string, comment
/// and heredoc starts (where a top-level item may begin).
pub(crate) fn check(file: FileId, text: &str) -> Result<Vec<usize>, SyntaxError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(SyntaxError::TooLarge { limit: MAX_FILE_BYTES, size: text.len(), span: Span::new(file, 0, 0) });
    }
    let bytes = text.as_bytes();
    let too_deep = |at: usize, what: &'static str| SyntaxError::TooDeep {
        limit: MAX_NESTING,
        what,
        span: Span::new(file, at, (at + 1).min(bytes.len())),
    };
    let mut stack = vec![Frame::Code { links: 0 }];
    let mut unary_run = 0usize;
    let mut line_starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let top = *stack.last().unwrap_or(&Frame::Code { links: 0 });
        if top == Frame::Str {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame::Interp { links: 0 });
                    if stack.len() > MAX_NESTING {
                        return Err(too_deep(i, "string interpolations"));
                    }
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        // Code.
        match b {
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                i = crate::trivia::heredoc_end(text, i).unwrap_or(i + 2);
            }
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |end| i + 2 + end + 2);
            }
            b'"' => {
                stack.push(Frame::Str);
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                stack.push(Frame::Code { links: 0 });
                if depth(&stack) > MAX_NESTING {
                    return Err(too_deep(i, "brackets"));
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                i += 1;
            }
            b'?' => {
                link(&mut stack);
                if depth(&stack) > MAX_NESTING {
                    return Err(too_deep(i, "`?:` conditionals"));
                }
                i += 1;
            }
            // A new expression starts after an assignment or a separator: links start again.
            b',' => {
                reset_links(&mut stack);
                i += 1;
            }
            b'=' => {
                let comparison =
                    i > 0 && matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>') || bytes.get(i + 1) == Some(&b'=');
                if !comparison {
                    reset_links(&mut stack);
                }
                i += 1;
            }
            b'!' | b'-' if bytes.get(i + 1) != Some(&b'=') => {
                unary_run += 1;
                if unary_run > MAX_UNARY_RUN {
                    return Err(SyntaxError::TooManyUnary { limit: MAX_UNARY_RUN, span: Span::new(file, i, i + 1) });
                }
                i += 1;
                continue;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if &bytes[start..i] == b"if" {
                    if preceded_by_else(bytes, start) {
                        link(&mut stack);
                        if depth(&stack) > MAX_NESTING {
                            return Err(too_deep(start, "`else if` links"));
                        }
                    } else {
                        reset_links(&mut stack);
                    }
                }
            }
            b'\n' => {
                if stack.len() == 1 {
                    line_starts.push(i + 1);
                }
                i += 1;
            }
            _ => i += 1,
        }
        if !b.is_ascii_whitespace() {
            unary_run = 0;
        }
    }
    Ok(line_starts)
}

/// How deep the parser will recurse here: enclosing frames plus the links
/// chained in each code frame.
fn depth(stack: &[Frame]) -> usize {
    stack
        .iter()
        .map(|f| match f {
            Frame::Code { links } | Frame::Interp { links } => 1 + links,
            Frame::Str => 0,
        })
        .sum()
}

fn link(stack: &mut [Frame]) {
    if let Some(Frame::Code { links } | Frame::Interp { links }) = stack.last_mut() {
        *links += 1;
    }
}

fn reset_links(stack: &mut [Frame]) {
    if let Some(Frame::Code { links } | Frame::Interp { links }) = stack.last_mut() {
        *links = 0;
    }
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| from + n)
}

/// Whether the word before `at` (skipping whitespace) is `else`.
fn preceded_by_else(bytes: &[u8], at: usize) -> bool {
    let mut end = at;
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end >= 4 && &bytes[end - 4..end] == b"else" && (end == 4 || !bytes[end - 5].is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        check(FileId(0), text).err().map(|e| e.to_string())
    }

    #[test]
    fn ordinary_input_passes() {
        let text = "let a = x ? 1 : 2\nlet b = y ? 3 : 4\nif a == b { } else if a != b { } else { }\nlet s = \"${a} and ${\"${b}\"}\" // (\n# [[[\n/* {{ */";
        assert_eq!(refused(text), None);
        let many: String = (0..1000).map(|i| format!("let v{i} = a ? b : c\n")).collect();
        assert_eq!(refused(&many), None, "conditionals in separate statements do not add up");
        let separate: String = (0..1000).map(|_| "if a { } else if b { } else { }\n").collect();
        assert_eq!(refused(&separate), None, "separate if statements are not one chain");
    }

    #[test]
    fn deep_input_is_refused_before_the_parser() {
        assert!(refused(&"(".repeat(200)).is_some_and(|e| e.contains("brackets")));
        let elifs = "if a { } ".to_string() + &"else if a { } ".repeat(300);
        assert!(refused(&elifs).is_some_and(|e| e.contains("nested deeper")));
        let ternary = "let x = ".to_string() + &"a ? b : ".repeat(300) + "c";
        assert!(refused(&ternary).is_some_and(|e| e.contains("conditionals")));
        let interps = "let x = ".to_string() + &"\"${".repeat(200) + &"}\"".repeat(200);
        assert!(refused(&interps).is_some_and(|e| e.contains("interpolations")));
        assert!(refused(&format!("let x = {}a", "!".repeat(100))).is_some_and(|e| e.contains("unary")));
        assert!(refused(&format!("let x = {}a", "- ".repeat(100))).is_some_and(|e| e.contains("unary")));
        assert!(refused(&" ".repeat(MAX_FILE_BYTES + 1)).is_some_and(|e| e.contains("bytes")));
    }
}

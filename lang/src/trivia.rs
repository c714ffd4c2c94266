//! Comments and whitespace between tokens. The parser drops them; the
//! formatter needs them back, and span trimming needs to skip them.

/// Byte ranges of every comment outside strings, in order. A line comment's
/// range ends before its newline.
pub fn comments(source: &str) -> Vec<(usize, usize)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'<' if heredoc_end(source, i).is_some() => i = heredoc_end(source, i).unwrap_or(bytes.len()),
            b'#' => {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = source[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                out.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// Where the heredoc starting at `at` (`<<TAG`, a newline, lines, then `TAG`
/// alone on a line) ends, if one starts there: its text is a script's, whose
/// brackets, quotes and comments are not the workflow's. Mirrors the grammar's
/// `inline_script`; an unclosed heredoc runs to the end of the input.
pub fn heredoc_end(source: &str, at: usize) -> Option<usize> {
    let rest = source.get(at..)?.strip_prefix("<<")?;
    let tag_len = rest.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
    if tag_len == 0 || !rest.as_bytes()[0].is_ascii_uppercase() {
        return None;
    }
    let tag = &rest[..tag_len];
    let after_tag = rest[tag_len..].trim_start_matches([' ', '\t']);
    let body = after_tag.strip_prefix("\r\n").or_else(|| after_tag.strip_prefix('\n'))?;
    let mut pos = source.len() - body.len();
    while pos < source.len() {
        let line_end = source[pos..].find('\n').map_or(source.len(), |n| pos + n);
        let line = source[pos..line_end].trim_start_matches([' ', '\t']);
        if let Some(after) = line.strip_prefix(tag) {
            if !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                return Some(line_end - after.len());
            }
        }
        pos = line_end + 1;
    }
    Some(source.len())
}

/// Moves `end` back over whitespace and comments, not past `start`.
pub fn trim_end(source: &str, comments: &[(usize, usize)], start: usize, mut end: usize) -> usize {
    let bytes = source.as_bytes();
    loop {
        while end > start && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        match comments.binary_search_by_key(&end, |c| c.1) {
            Ok(i) if comments[i].0 >= start => end = comments[i].0,
            _ => return end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_skip_strings_and_trim_ends() {
        let src = "a = \"http://x#y\" // c\n# d\nb /* e */ ";
        let c = comments(src);
        assert_eq!(c.iter().map(|(s, e)| &src[*s..*e]).collect::<Vec<_>>(), vec!["// c", "# d", "/* e */"]);
        assert_eq!(trim_end(src, &c, 0, 26), 16);
        assert_eq!(trim_end(src, &c, 0, src.len()), 27);
    }

    #[test]
    fn heredocs_hide_their_text() {
        let src = "script = <<RHAI\n  let x = \"a\"; // not ours\n  RHAI\n# ours\n";
        let at = src.find("<<").unwrap_or(0);
        assert_eq!(heredoc_end(src, at), Some(src.find("RHAI\n#").unwrap_or(0) + 4));
        assert_eq!(comments(src).iter().map(|(s, e)| &src[*s..*e]).collect::<Vec<_>>(), vec!["# ours"]);
        assert_eq!(heredoc_end("a << b", 2), None);
        assert_eq!(heredoc_end("<<EOT\nnever closed", 0), Some(18));
    }
}

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
}

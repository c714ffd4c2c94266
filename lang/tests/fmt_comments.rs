//! `drone fmt` keeps every comment beside what it followed: a comment put
//! between any two tokens of any repository `.drone` file is, after
//! formatting, still between the same two tokens (commas aside, which the
//! formatter adds and removes), exactly once, and a second format changes
//! nothing. A place the formatter cannot keep a comment is refused, never
//! moved. `DRONE_FMT_SWEEP=all` tries every boundary of every file; by
//! default a deterministic share of them, so the test stays quick.

use std::path::{Path, PathBuf};

use drone_lang::fmt::{format, FormatError};
use drone_lang::span::FileId;

fn drone_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() && name != "target" && !name.starts_with('.') && name != "fuzz" {
            drone_files(&path, out);
        } else if name.ends_with(".drone") {
            out.push(path);
        }
    }
}

/// Byte ranges of the tokens of `text`: names, numbers, strings (with their
/// interpolations) and heredocs whole, operators, brackets; comments are
/// tokens too. None when the text holds something this lexer does not know.
fn tokens(text: &str) -> Option<Vec<(usize, usize)>> {
    let bytes = text.as_bytes();
    let comments = drone_lang::trivia::comments(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if let Some((start, end)) = comments.iter().find(|c| c.0 == i) {
            out.push((*start, *end));
            i = *end;
            continue;
        }
        let start = i;
        if b == b'"' {
            i = string_end(bytes, i)?;
        } else if let Some(end) = drone_lang::trivia::heredoc_end(text, i) {
            i = end;
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            i += if ["==", "!=", "<=", ">=", "&&", "||", "=>"].contains(&two) { 2 } else { 1 };
        }
        out.push((start, i));
    }
    Some(out)
}

/// The end of the string literal starting at `at` (its interpolations may hold strings of their own).
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                let mut depth = 0usize;
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'"' => i = string_end(bytes, i)? - 1,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The significant tokens of `text` around the first occurrence of `marker`:
/// the one before and the one after, commas skipped.
fn neighbours(text: &str, marker: &str) -> Option<(String, String)> {
    let at = text.find(marker)?;
    let tokens = tokens(text)?;
    let index = tokens.iter().position(|t| t.0 == at)?;
    let significant = |t: &&(usize, usize)| &text[t.0..t.1] != ",";
    let before = tokens[..index].iter().rev().find(significant).map(|t| text[t.0..t.1].to_string());
    let after = tokens[index + 1..].iter().find(significant).map(|t| text[t.0..t.1].to_string());
    Some((before.unwrap_or_default(), after.unwrap_or_default()))
}

#[derive(Default, Debug)]
struct Tally {
    tried: usize,
    kept: usize,
    refused: usize,
    unparsable: usize,
    moved: Vec<String>,
}

#[test]
fn a_comment_at_any_token_boundary_stays_beside_its_neighbours() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    drone_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 50, "found {} files", files.len());
    let every = std::env::var("DRONE_FMT_SWEEP").is_ok_and(|v| v == "all");
    let mut tally = Tally::default();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let parsed = drone_lang::parse(FileId(0), &text);
        if !parsed.errors.is_empty() || format(&text, &parsed.module).ok().as_deref() != Some(text.as_str()) {
            continue; // Fixtures of broken or unformatted input.
        }
        let Some(tokens) = tokens(&text) else { continue };
        // Boundaries after each token; by default a spread of about 15 per file.
        let stride = if every { 1 } else { (tokens.len() / 15).max(1) };
        for (n, token) in tokens.iter().enumerate().skip(stride / 2).step_by(stride) {
            for comment in [format!("/* c{n} */"), format!("# c{n}\n")] {
                let at = token.1;
                let edited = format!("{} {comment}{}", &text[..at], &text[at..]);
                let marker = comment.trim_end().to_string();
                let Some(expected) = neighbours(&edited, &marker) else { continue };
                tally.tried += 1;
                let parsed = drone_lang::parse(FileId(0), &edited);
                if !parsed.errors.is_empty() {
                    tally.unparsable += 1;
                    continue;
                }
                match format(&edited, &parsed.module) {
                    Err(FormatError::CommentPosition { .. }) => {
                        tally.refused += 1;
                        if std::env::var("DRONE_FMT_SHOW").is_ok() {
                            let end = text.len().min(at + 30);
                            eprintln!(
                                "refused {comment:?} in {:?}",
                                &edited[at.saturating_sub(30)..end + comment.len() + 1]
                            );
                        }
                    }
                    Ok(out) => {
                        let place = format!("{}: after token {n} `{}`", path.display(), &text[token.0..token.1]);
                        let found = neighbours(&out, &marker);
                        if out.matches(&marker).count() != 1 || found.as_ref() != Some(&expected) {
                            tally.moved.push(format!("{place} {comment:?}: {expected:?} became {found:?}"));
                            continue;
                        }
                        let again = drone_lang::parse(FileId(0), &out);
                        let twice = format(&out, &again.module);
                        assert_eq!(twice.as_deref().ok(), Some(out.as_str()), "{place} {comment:?}: not idempotent");
                        tally.kept += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "{} placements: {} kept, {} refused, {} not parsed, {} moved",
        tally.tried,
        tally.kept,
        tally.refused,
        tally.unparsable,
        tally.moved.len()
    );
    assert!(tally.moved.is_empty(), "{} comments moved:\n{}", tally.moved.len(), tally.moved.join("\n"));
    assert!(tally.kept > tally.tried / 2, "most placements must format: {tally:?}");
}

fn formatted(text: &str) -> Result<String, FormatError> {
    let parsed = drone_lang::parse(FileId(0), text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    format(text, &parsed.module)
}

/// The two placements users met moving: a `#` comment after a list element
/// (it landed after an earlier element), and a `/* */` between a map's
/// entries on one line (it landed at the end of the block).
#[test]
fn comments_after_list_elements_and_inside_one_line_maps_stay_put() {
    let list = "let zones = [\n  \"eu-west-1a\",\n  \"eu-west-1b\", # the second zone\n  \"eu-west-1c\",\n]\n";
    assert_eq!(formatted(list).as_deref(), Ok(list));
    let unaligned = "let zones = [\"eu-west-1a\", # first\n\"eu-west-1b\" # second\n]\n";
    assert_eq!(
        formatted(unaligned).as_deref(),
        Ok("let zones = [\n  \"eu-west-1a\", # first\n  \"eu-west-1b\", # second\n]\n")
    );
    let map = "resource aws.s3.bucket logs {\n  name = \"logs\"\n  tags = { team = \"platform\", /* billing */ cost = \"shared\" }\n}\n";
    assert_eq!(formatted(map).as_deref(), Ok(map));
    // Where no place can hold it, the file is refused, never the comment moved.
    let nowhere = "let x = [/* empty */]\n";
    assert!(matches!(formatted(nowhere), Err(FormatError::CommentPosition { .. })));
}
